// Keeps Pipeline health current without reloading the page: every few seconds the page is
// fetched again and its measurements swapped in. A change in the overall state or in the
// firing alerts is announced politely to screen readers; routine updates stay silent.
(function () {
  "use strict";
  var root = document.getElementById("pipeline-health");
  var announcer = document.getElementById("pg-announcer");
  if (!root || !announcer || !window.fetch || !window.DOMParser) { return; }
  var seconds = Number(announcer.getAttribute("data-refresh-seconds")) || 30;

  function summary(container) {
    var state = container.querySelector(".pg-updated .pg-state");
    var alerts = container.querySelectorAll("tr.pg-alert").length;
    return (state ? state.textContent.trim() : "unknown") + "|" + alerts;
  }

  function update() {
    var live = document.getElementById("pg-live");
    // Swapping the content under someone's focus (an Acknowledge button) would lose it.
    if (document.hidden || (live && live.contains(document.activeElement))) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("pg-live");
        if (!fresh || !live) { return; }
        var before = summary(live);
        live.replaceWith(fresh);
        var after = summary(fresh);
        if (after !== before) {
          var parts = after.split("|");
          announcer.textContent = "Pipeline health changed: overall " + parts[0] + ", " +
            parts[1] + " alert" + (parts[1] === "1" ? "" : "s") + " firing.";
        }
      })
      .catch(function () {
        announcer.textContent = "Pipeline health could not be updated; the figures shown may be out of date.";
      });
  }

  window.setInterval(update, seconds * 1000);
})();
