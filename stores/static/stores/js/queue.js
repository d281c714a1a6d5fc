/* Pickup queue: reload every N seconds so "I'm here" shows up without staff touching anything. */
(function () {
    "use strict";
    var el = document.querySelector("[data-refresh-seconds]");
    if (!el) { return; }
    var seconds = parseInt(el.dataset.refreshSeconds, 10) || 20;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
}());
