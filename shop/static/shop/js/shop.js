/*
 * Solomo storefront behaviour. Loaded with `defer` on every storefront page.
 *
 * The storefront has no inline scripts (so that a Content-Security-Policy
 * without 'unsafe-inline' holds). Oscar's templates call their initialisers
 * from an inline `onbodyload` block; this file calls the same initialisers,
 * choosing them from what is on the page. Pages that need Oscar's ui.js load
 * it (with jQuery and Bootstrap) before this file; the home page, listings and
 * product page do not, and get the small vanilla behaviours below instead.
 */
(function () {
    "use strict";

    var doc = document;
    var oscar = window.oscar;
    var hasBootstrap = !!(window.jQuery && window.jQuery.fn && window.jQuery.fn.alert);

    doc.documentElement.classList.remove("no-js");
    doc.documentElement.classList.add("js");

    function each(selector, callback) {
        Array.prototype.forEach.call(doc.querySelectorAll(selector), callback);
    }

    function exists(selector) {
        return doc.querySelector(selector) !== null;
    }

    // Selects marked data-autosubmit (sort order, language) submit their form on change.
    // With Oscar's ui.js present, oscar.search.init() takes care of the sort-by select.
    each("select[data-autosubmit]", function (select) {
        if (oscar && select.id === "id_sort_by") {
            return;
        }
        select.addEventListener("change", function () {
            if (select.form) {
                select.form.submit();
            }
        });
    });

    // The tab bar's Search item focuses the header's search box when there is one.
    each('[data-behaviours~="focus-search"]', function (link) {
        link.addEventListener("click", function (event) {
            var input = doc.getElementById("page-search-q") || doc.getElementById("site-search-q");
            if (input && input.offsetParent !== null) {
                event.preventDefault();
                input.focus();
                input.scrollIntoView({block: "center"});
            }
        });
    });

    // "Cancel" links that go back in history (Oscar used inline onclick handlers).
    each('[data-behaviours~="history-back"]', function (link) {
        link.addEventListener("click", function (event) {
            event.preventDefault();
            window.history.back();
        });
    });

    // "Print this page" on the order confirmation.
    each('[data-behaviours~="print"]', function (link) {
        link.addEventListener("click", function (event) {
            event.preventDefault();
            window.print();
        });
    });

    // HTML e-mail preview in the account's e-mail history, isolated in its iframe.
    var preview = doc.getElementById("preview_box");
    if (preview && preview.tagName === "IFRAME") {
        preview.srcdoc = preview.textContent;
    }

    if (!oscar) {
        // Without Bootstrap's JS: closable messages and "loading" buttons, like Oscar's.
        if (!hasBootstrap) {
            doc.addEventListener("click", function (event) {
                var close = event.target.closest('[data-dismiss="alert"]');
                if (close) {
                    event.preventDefault();
                    var alert = close.closest(".alert");
                    if (alert) {
                        alert.remove();
                    }
                }
            });
        }
        doc.addEventListener("submit", function (event) {
            var form = event.target;
            if (form.method !== "post") {
                return;
            }
            if (form.dataset.locked) {
                event.preventDefault();
                return;
            }
            form.dataset.locked = "true";
            var button = event.submitter || form.querySelector("[type=submit][data-loading-text]");
            if (button && button.dataset.loadingText) {
                // After the submission has started, so the button's value is still sent.
                window.setTimeout(function () {
                    button.dataset.originalText = button.textContent;
                    button.textContent = button.dataset.loadingText;
                    button.disabled = true;
                }, 0);
            }
        });
        // A page restored from the back/forward cache gets its forms and buttons back.
        window.addEventListener("pageshow", function (event) {
            if (!event.persisted) {
                return;
            }
            each("form[data-locked]", function (form) {
                delete form.dataset.locked;
            });
            each("[data-original-text]", function (button) {
                button.textContent = button.dataset.originalText;
                button.disabled = false;
                delete button.dataset.originalText;
            });
        });
        return;
    }

    // Oscar's initialisers, as its templates' onbodyload blocks would call them.
    oscar.init();
    if (exists("#id_sort_by") || exists(".facet_checkbox")) {
        oscar.search.init();
    }
    if (exists("#basket_formset, #saved_basket_formset, #voucher_form_link")) {
        oscar.basket.init({basketURL: doc.body.dataset.basketUrl || doc.URL});
    }
    if (exists('form input[name="options"]') && exists("#id_password")) {
        oscar.checkout.gateway.init();
    }
    if (exists(".clipboard-item")) {
        oscar.customer.wishlists.init();
    }
    if (exists('a[data-behaviours~="archive"], a[data-behaviours~="delete"]')) {
        oscar.notifications.init();
    }
})();
