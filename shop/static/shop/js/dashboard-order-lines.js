/*
 * The dashboard's order page: Oscar 4.2's template still runs
 * oscar.dashboard.orders.initTable() on load, which its dashboard.js no longer
 * defines, so every view of the page threw. Oscar 3 used it to put a "select
 * every line" checkbox in the empty first header cell of the lines table (the
 * template still leaves that cell empty); this is that function. Its label is
 * this script's data-select-all-label (translated in the template).
 */
(function () {
    "use strict";

    var script = document.currentScript;
    var orders = window.oscar && window.oscar.dashboard && window.oscar.dashboard.orders;
    if (!orders || orders.initTable) {
        return;
    }

    orders.initTable = function () {
        var form = document.getElementById("order_lines_form");
        var cell = form && form.querySelector("thead th");
        if (!cell) {
            return;
        }
        var lines = form.querySelectorAll('tbody input[type="checkbox"][name="selected_line"]');
        var all = document.createElement("input");
        all.type = "checkbox";
        all.className = "order-lines-select-all";
        all.setAttribute("aria-label", script.dataset.selectAllLabel);
        cell.appendChild(all);

        all.addEventListener("change", function () {
            lines.forEach(function (line) {
                line.checked = all.checked;
            });
        });
        // The box follows the lines chosen one by one: ticked when all are, dashed when some.
        form.addEventListener("change", function (event) {
            if (event.target === all) {
                return;
            }
            var ticked = Array.prototype.filter.call(lines, function (line) {
                return line.checked;
            }).length;
            all.checked = ticked === lines.length;
            all.indeterminate = ticked > 0 && ticked < lines.length;
        });
    };
})();
