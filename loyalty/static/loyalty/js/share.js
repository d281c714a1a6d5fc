// The referral link goes through the phone's share sheet (Web Share API) when there
// is one, and is copied to the clipboard otherwise. Data comes from data- attributes.
(function () {
    "use strict";
    document.addEventListener("click", function (event) {
        var button = event.target.closest(".loyalty-share");
        if (!button) {
            return;
        }
        var data = {
            title: button.dataset.shareTitle,
            text: button.dataset.shareText,
            url: button.dataset.shareUrl
        };
        if (navigator.share) {
            navigator.share(data).catch(function () { /* dismissed: nothing to do */ });
        } else if (navigator.clipboard) {
            navigator.clipboard.writeText(data.url).then(function () {
                button.textContent = button.dataset.copied;
            });
        }
    });
}());
