// The dashboard's refresh: polls the campaign's figures every 2 s (or, for a campaign so
// large that one poll is slow, three times the last poll's cost, so the dashboard never
// keeps the machine busy) and swaps them in, and fetches the rows again when the figures
// changed (no more often than five times the last fetch's cost). The token, if any, comes from sessionStorage and goes in a header, never a cookie.
(function () {
  "use strict";
  var cfg = JSON.parse(document.body.dataset.live);
  var token = sessionStorage.getItem("dialer-token");
  var headers = token ? { Authorization: "Bearer " + token } : {};
  var by = cfg.by, version = cfg.version, rowsAt = Date.now(), rowsCost = 0;
  var state = document.getElementById("live-state");

  function get(path) {
    return fetch(path, { headers: headers, cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }
  function bindPicker() {
    var sel = document.getElementById("by");
    if (sel) sel.addEventListener("change", function () { by = sel.value; tick(true); });
  }
  var timer = 0;
  function tick(now) {
    clearTimeout(timer);
    var started = Date.now();
    var url = cfg.base + "/live" + (by ? "?by=" + encodeURIComponent(by) : "");
    get(url).then(function (j) {
      document.getElementById("live").innerHTML = j.html;
      bindPicker();
      state.textContent = "live · updated " + new Date().toLocaleTimeString();
      var due = Date.now() - rowsAt > Math.max(2000, rowsCost * 5);
      if (j.version !== version && (due || now === true)) {
        var t0 = Date.now();
        return get(cfg.base + "/rows.json").then(function (rows) {
          window.dialerRows.replace(rows);
          version = j.version;
          rowsAt = Date.now();
          rowsCost = rowsAt - t0;
        });
      }
    }).catch(function (e) {
      state.textContent = "not updated: " + e.message;
    }).then(function () {
      timer = setTimeout(tick, Math.max(2000, 3 * (Date.now() - started)));
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("button[data-action]"), function (b) {
    b.addEventListener("click", function () {
      var action = b.dataset.action;
      if (!confirm("Ask the dispatcher to " + action + " this campaign?")) return;
      fetch(cfg.base + "/control", {
        method: "POST",
        headers: Object.assign({ "Content-Type": "application/json" }, headers),
        body: JSON.stringify({ action: action })
      }).then(function (r) {
        state.textContent = r.ok ? action + " requested" : action + " refused: HTTP " + r.status;
      });
    });
  });
  bindPicker();
  timer = setTimeout(tick, 2000);
})();
