// The segment rule builder (loyalty dashboard). The page works without this file:
// "Add a condition" submits the form. Here, rows are added in place from the
// <template>, and the count and sample follow the marketer's edits (debounced GET).
(function () {
    "use strict";
    var form = document.querySelector("form.segment-builder");
    if (!form) {
        return;
    }
    var total = form.querySelector("input[name='conditions-TOTAL_FORMS']");
    var rows = form.querySelector(".segment-conditions");
    var template = form.querySelector("template.segment-condition-template");
    var countEl = form.querySelector(".segment-live-count");
    var errorsEl = form.querySelector(".segment-live-errors");
    var sampleEl = form.querySelector(".segment-live-sample");
    var timer = null;
    var latest = 0;

    function refresh() {
        var params = new URLSearchParams(new FormData(form));
        params.delete("csrfmiddlewaretoken");
        var ticket = ++latest;
        fetch(form.dataset.countUrl + "?" + params.toString(), {
            headers: {"Accept": "application/json"},
            credentials: "same-origin"
        }).then(function (response) {
            return response.json();
        }).then(function (data) {
            if (ticket !== latest) {
                return; // an older answer arriving late
            }
            errorsEl.textContent = (data.errors || []).join(" ");
            if (data.errors) {
                return;
            }
            countEl.textContent = data.count;
            sampleEl.replaceChildren.apply(sampleEl, data.sample.map(function (member) {
                var item = document.createElement("li");
                item.textContent = member.name + " · " + member.email;
                return item;
            }));
        }).catch(function () { /* offline: the count stays as it was */ });
    }

    function schedule() {
        window.clearTimeout(timer);
        timer = window.setTimeout(refresh, 400);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    // Edits made before this script ran (a fast tap, or values the browser restored on
    // "Back") fired no event here: count what the form holds now.
    schedule();

    var add = form.querySelector("button[name='add_condition']");
    if (add && template && total) {
        add.addEventListener("click", function (event) {
            event.preventDefault();
            var index = parseInt(total.value, 10);
            var html = template.innerHTML.replace(/__prefix__/g, String(index));
            rows.insertAdjacentHTML("beforeend", html);
            total.value = String(index + 1);
            var select = rows.lastElementChild.querySelector("select");
            if (select) {
                select.focus();
            }
        });
    }
}());
