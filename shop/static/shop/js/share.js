/*
 * Share buttons (README "Social"): the Web Share API where the browser has it,
 * otherwise the link is copied to the clipboard and "Link copied" is shown.
 * The two links differ only by utm_medium (web_share or copy).
 */
(function () {
    "use strict";

    function show(button, key) {
        var status = button.parentNode.querySelector(".share__status");
        if (!status) {
            return;
        }
        status.textContent = status.getAttribute(key);
        status.hidden = false;
    }

    function copy(button) {
        var url = button.getAttribute("data-copy-url");
        if (!navigator.clipboard || !navigator.clipboard.writeText) {
            show(button, "data-failed-text");
            return;
        }
        navigator.clipboard.writeText(url).then(
            function () { show(button, "data-copied-text"); },
            function () { show(button, "data-failed-text"); }
        );
    }

    Array.prototype.forEach.call(document.querySelectorAll("[data-share]"), function (button) {
        button.addEventListener("click", function () {
            if (typeof navigator.share === "function") {
                navigator.share({
                    title: button.getAttribute("data-share-title"),
                    url: button.getAttribute("data-share-url")
                }).catch(function (error) {
                    // Closing the share sheet is not a failure; anything else falls back.
                    if (!error || error.name !== "AbortError") {
                        copy(button);
                    }
                });
            } else {
                copy(button);
            }
        });
    });
})();
