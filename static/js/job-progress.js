// Follows a queued or running job on its page (analysis or stem separation): the bar, the
// stage in plain words, the time left when the server could measure it, and the tab's title
// and icon, so the tab shows how far the job is while the person looks elsewhere. Reloads once
// the job ended, to show what came of it.
(function () {
  "use strict";
  var root = document.querySelector("[data-progress-url]");
  if (!root) { return; }
  var url = root.dataset.progressUrl;
  var bar = document.getElementById("job-progress");
  var stage = document.getElementById("job-stage");
  var percent = document.getElementById("job-percent");
  var timeLeft = document.getElementById("job-time-left");
  var badge = document.getElementById("job-status");
  var icon = document.querySelector("link[rel~='icon']");
  var baseTitle = document.title;
  var delay = 1000;

  function timeLeftText(seconds) {
    if (seconds === null) { return ""; }
    if (seconds < 60) { return "about " + Math.max(5, Math.round(seconds / 5) * 5) + " s left"; }
    var minutes = Math.round(seconds / 60);
    if (minutes < 60) { return "about " + minutes + " min left"; }
    return "about " + Math.floor(minutes / 60) + " h " + (minutes % 60) + " min left";
  }

  // The tab's icon: a ring that fills with the percentage, drawn in the page's accent colour.
  function drawIcon(value) {
    if (!icon) { return; }
    var canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 64;
    var context = canvas.getContext("2d");
    if (!context) { return; }
    var styles = getComputedStyle(document.documentElement);
    context.lineWidth = 12;
    context.strokeStyle = styles.getPropertyValue("--line").trim() || "#8c93a3";
    context.beginPath();
    context.arc(32, 32, 24, 0, 2 * Math.PI);
    context.stroke();
    context.strokeStyle = styles.getPropertyValue("--accent").trim() || "#5432e0";
    context.beginPath();
    context.arc(32, 32, 24, -Math.PI / 2, -Math.PI / 2 + 2 * Math.PI * value / 100);
    context.stroke();
    icon.type = "image/png";
    icon.href = canvas.toDataURL("image/png");
  }

  function show(job) {
    if (bar) { bar.value = job.percent; }
    if (percent) { percent.textContent = job.percent; }
    // Only a change is written, so screen readers hear a new stage once, not every second.
    if (stage && stage.textContent !== job.stage_words) { stage.textContent = job.stage_words; }
    if (timeLeft) {
      var text = timeLeftText(job.seconds_left);
      timeLeft.textContent = text ? " · " + text : "";
    }
    if (badge) {
      badge.textContent = job.status.charAt(0).toUpperCase() + job.status.slice(1);
      badge.className = "badge " + job.status;
    }
    if (job.status === "running") {
      document.title = job.percent + "% · " + job.stage_words + " — " + baseTitle;
    } else {
      document.title = job.stage_words + " — " + baseTitle;
    }
    drawIcon(job.percent);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (job) {
        delay = 1000;
        show(job);
        if (job.finished) {
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
  poll();
})();
