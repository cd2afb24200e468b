// The live board (issue #13): ask the team's stream position every 2 seconds and reload the
// page when it has moved. Without JavaScript the <noscript> meta refresh reloads every 15 s.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !board.dataset.headUrl) { return; }
  var url = board.dataset.headUrl, head = board.dataset.head, waiting = false;
  function poll() {
    if (waiting || document.hidden) { return; }
    waiting = true;
    fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && String(data.head) !== String(head)) { window.location.reload(); }
      })
      .catch(function () {})
      .finally(function () { waiting = false; });
  }
  window.setInterval(poll, 2000);
  document.addEventListener("visibilitychange", poll);
}());
