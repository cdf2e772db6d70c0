(function () {
  "use strict";
  var table = document.getElementById("tools");
  if (!table || !table.tBodies.length) { return; }
  var body = table.tBodies[0];
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  function key(row, col, type) {
    var cell = row.cells[col];
    if (!cell) { return type === "number" ? -Infinity : ""; }
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { raw = cell.textContent; }
    if (type === "number") { var n = parseFloat(raw); return isNaN(n) ? -Infinity : n; }
    return raw.toLowerCase();
  }
  function sortBy(button) {
    var col = Number(button.getAttribute("data-col"));
    var type = button.getAttribute("data-type");
    var th = button.parentNode;
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    each(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, col, type), y = key(b, col, type);
      var order = x < y ? -1 : (x > y ? 1 : 0);
      return ascending ? order : -order;
    });
    each(rows, function (row) { body.appendChild(row); });
  }
  each(table.tHead.querySelectorAll("button[data-col]"), function (button) {
    button.addEventListener("click", function () { sortBy(button); });
  });
  var filter = document.getElementById("category-filter");
  var wrap = document.getElementById("category-filter-wrap");
  if (filter && wrap) {
    wrap.hidden = false;
    filter.addEventListener("change", function () {
      each(body.rows, function (row) {
        var category = row.getAttribute("data-category");
        row.hidden = filter.value !== "" && category !== null && category !== filter.value;
      });
    });
  }
}());
