/*
 * The installable app (README "Install on a phone (PWA)"). Loaded with `defer` on every
 * storefront page.
 *
 * - Registers the service worker (/sw.js), which keeps the member card and open pickup
 *   passes readable offline. Registering asks the customer nothing.
 * - Keeps the browser's install offer (beforeinstallprompt) for later and shows our own
 *   "Install the app" button only where the page has a place for it (after an order, on
 *   the member page): never on a first visit, never on its own.
 * - Tells the service worker to forget the customer's pages when they log out (it also
 *   does so itself when it sees the logout go by).
 */
(function () {
    "use strict";

    var script = document.currentScript;
    if (!("serviceWorker" in navigator) || !script) {
        return;
    }

    navigator.serviceWorker
        .register(script.dataset.serviceWorker, {scope: "/"})
        .catch(function (error) {
            console.warn("Service worker registration failed:", error);
        });

    document.addEventListener("submit", function (event) {
        var form = event.target;
        if (/\/accounts\/logout\/$/.test(new URL(form.action, document.baseURI).pathname)) {
            var worker = navigator.serviceWorker.controller;
            if (worker) {
                worker.postMessage({type: "logout"});
            }
        }
    });

    var offer = null;
    var places = document.querySelectorAll("[data-install-app]");

    function show(visible) {
        Array.prototype.forEach.call(places, function (place) {
            place.hidden = !visible;
        });
    }

    window.addEventListener("beforeinstallprompt", function (event) {
        // Not now: the browser's own banner would come on any page, the first visit included.
        event.preventDefault();
        offer = event;
        show(true);
    });

    window.addEventListener("appinstalled", function () {
        offer = null;
        show(false);
    });

    Array.prototype.forEach.call(places, function (place) {
        var button = place.querySelector("[data-install-app-button]");
        if (!button) {
            return;
        }
        button.addEventListener("click", function () {
            if (!offer) {
                return;
            }
            var shown = offer;
            offer = null;
            shown.prompt();
            shown.userChoice.then(function () {
                show(false);
            });
        });
    });
})();
