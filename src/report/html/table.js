// The rows table: reads the inline JSON once, then draws one page at a time, so a
// 100k-row report opens as fast as a small one. Values go in with textContent only.
(function () {
  "use strict";
  var PAGE = 100;
  var tbody = document.getElementById("tbody");
  var heads = Array.prototype.slice.call(document.querySelectorAll("table.rows th"));
  var cols = heads.map(function (th) { return { i: +th.dataset.i, num: !!th.dataset.num }; });
  var q = document.getElementById("q");
  var data = JSON.parse(document.getElementById("rows-data").textContent);
  var view = data, page = 0, sortBy = -1, dir = 1, query = "", open = {};
  var hay = new Map();

  function text(v) { return v === null || v === undefined ? "" : String(v); }
  function haystack(r) {
    var h = hay.get(r);
    if (h === undefined) { h = r.slice(0, 16).map(text).join("\u0001").toLowerCase(); hay.set(r, h); }
    return h;
  }
  function apply() {
    var t0 = performance.now();
    view = query ? data.filter(function (r) { return haystack(r).indexOf(query) >= 0; }) : data.slice();
    if (sortBy >= 0) {
      var c = cols[sortBy];
      view.sort(function (a, b) {
        var x = a[c.i], y = b[c.i];
        if (x === null || x === undefined || x === "") return 1;
        if (y === null || y === undefined || y === "") return -1;
        var d = c.num ? x - y : text(x).localeCompare(text(y));
        return d * dir || a[0] - b[0];
      });
    }
    page = Math.min(page, Math.max(0, Math.ceil(view.length / PAGE) - 1));
    draw();
    // Read by the measurements (tests/dashboard_figures.rs): filter, sort and draw, in ms.
    window.dialerApplyMs = performance.now() - t0;
  }
  function el(tag, cls, value) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (value !== undefined) e.textContent = text(value);
    return e;
  }
  function detail(r) {
    var tr = el("tr", "detail"), td = el("td");
    td.colSpan = cols.length;
    var dl = el("dl");
    [["email", r[3]], ["call id", r[18]], ["time zone", r[19]], ["latency ms", r[8]],
     ["note", r[14]], ["data", r[15]], ["summary", r[16]], ["transcript", r[17]]]
      .forEach(function (p) {
        if (p[1] === null || p[1] === undefined || p[1] === "") return;
        dl.appendChild(el("dt", "", p[0]));
        dl.appendChild(el("dd", p[0] === "transcript" ? "transcript" : "", p[1]));
      });
    if (!dl.firstChild) dl.appendChild(el("dd", "note", "Nothing more about this row."));
    td.appendChild(dl);
    tr.appendChild(td);
    return tr;
  }
  function draw() {
    var start = page * PAGE, rows = view.slice(start, start + PAGE);
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) {
      var tr = el("tr", "row");
      tr.dataset.row = r[0];
      tr.title = "Click for the summary and transcript";
      cols.forEach(function (c) {
        var v = r[c.i], td;
        if (c.i === 4) {
          td = el("td");
          td.appendChild(el("span", "pill st-" + text(v), v));
        } else {
          td = el("td", c.num ? "num" : (c.i === 14 ? "clip" : "nw"), v);
          if (c.i === 14) td.title = text(v);
        }
        tr.appendChild(td);
      });
      tr.addEventListener("click", function () {
        open[r[0]] = !open[r[0]];
        draw();
      });
      frag.appendChild(tr);
      if (open[r[0]]) frag.appendChild(detail(r));
    });
    tbody.textContent = "";
    tbody.appendChild(frag);
    var pages = Math.max(1, Math.ceil(view.length / PAGE));
    document.getElementById("count").textContent = query
      ? view.length.toLocaleString("en") + " of " + data.length.toLocaleString("en") + " rows match"
      : data.length.toLocaleString("en") + " rows";
    document.getElementById("pageinfo").textContent = " page " + (page + 1) + " of " + pages + " ";
    document.getElementById("prev").disabled = page === 0;
    document.getElementById("next").disabled = page + 1 >= pages;
    heads.forEach(function (th, k) {
      th.setAttribute("aria-sort", k === sortBy ? (dir > 0 ? "ascending" : "descending") : "none");
    });
  }
  heads.forEach(function (th, k) {
    th.addEventListener("click", function () {
      if (sortBy === k) dir = -dir; else { sortBy = k; dir = 1; }
      apply();
    });
  });
  var timer = 0;
  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { query = q.value.trim().toLowerCase(); page = 0; apply(); }, 120);
  });
  document.getElementById("prev").addEventListener("click", function () { page--; draw(); });
  document.getElementById("next").addEventListener("click", function () { page++; draw(); });
  // The dashboard hands fresh rows in here; search, sort, page and open rows are kept.
  window.dialerRows = { replace: function (rows) { data = rows; hay = new Map(); apply(); } };
  apply();
  window.dialerRendered = performance.now();
})();
