// Follows a queued or running analysis by polling its JSON and reloads once it has ended.
(function () {
  "use strict";
  var root = document.getElementById("analysis-job");
  if (!root) { return; }
  var url = root.dataset.apiUrl;
  var bar = document.getElementById("job-progress");
  var stage = document.getElementById("job-stage");
  var percent = document.getElementById("job-percent");
  var badge = document.getElementById("job-status");
  var finished = ["succeeded", "failed", "cancelled"];
  var delay = 1000;

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (job) {
        delay = 1000;
        if (bar) { bar.value = job.progress; }
        if (percent) { percent.textContent = job.progress; }
        if (stage && job.stage) { stage.textContent = job.stage; }
        if (badge) { badge.textContent = job.status; badge.className = "badge " + job.status; }
        if (finished.indexOf(job.status) !== -1) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // Back off while the server is unreachable instead of hammering it.
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
})();
