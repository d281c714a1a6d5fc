/*
 * Solomo dashboard behaviour, loaded after Oscar's dashboard scripts.
 *
 * The dashboard runs no inline event handlers (Content-Security-Policy without
 * 'unsafe-inline'); our overrides of Oscar's templates mark the elements that
 * had one with data-behaviours, and this file does what the handler did.
 */
(function () {
    "use strict";

    var doc = document;

    // "Cancel" links: back in history, or close the related-object popup.
    doc.addEventListener("click", function (event) {
        var link = event.target.closest('[data-behaviours~="history-back"], [data-behaviours~="window-close"]');
        if (!link) {
            return;
        }
        event.preventDefault();
        if (link.matches('[data-behaviours~="window-close"]')) {
            window.close();
        } else {
            window.history.back();
        }
    });

    // Product image upload: Oscar's dashboard.js previews the chosen file in the widget's
    // <img>; once it shows, the upload button goes; a file that is not an image says so.
    // load and error do not bubble, so they are caught on the way down (capture), which
    // also covers the image forms dashboard.js clones after the page loaded.
    function uploadButton(img) {
        var widget = img.closest(".image-input");
        return widget ? widget.querySelector("button") : null;
    }

    doc.addEventListener("load", function (event) {
        var img = event.target;
        if (img.matches && img.matches('img[data-behaviours~="image-preview"]')) {
            var button = uploadButton(img);
            if (button) {
                button.style.display = "none";
            }
        }
    }, true);

    doc.addEventListener("error", function (event) {
        var img = event.target;
        if (img.matches && img.matches('img[data-behaviours~="image-preview"]') && img.getAttribute("src")) {
            var button = uploadButton(img);
            if (button) {
                button.style.display = "";
            }
            window.alert(img.dataset.invalidMessage);
        }
    }, true);
})();
