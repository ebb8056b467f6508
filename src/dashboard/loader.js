// Runs only on a 401 page. The fragment never reaches the server or its logs; once read it
// is removed from the address bar and kept for this tab only.
(function () {
  "use strict";
  var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem("dialer-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  var token = sessionStorage.getItem("dialer-token");
  if (!token) return;
  fetch(location.pathname + location.search, {
    headers: { Authorization: "Bearer " + token }, cache: "no-store"
  }).then(function (r) {
    if (r.status === 401) {
      sessionStorage.removeItem("dialer-token");
      document.getElementById("msg").textContent = "The token was refused; open the page again with the right #token=.";
      return;
    }
    return r.text().then(function (html) {
      document.open();
      document.write(html);
      document.close();
    });
  });
})();
