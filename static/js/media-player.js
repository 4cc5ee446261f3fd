// While an upload's playable preview is being prepared: ask the API until it is ready, then
// give the player the preview (at once when paused, else at the next pause, keeping the
// position), or say that it could not be made.
(function () {
  "use strict";
  var status = document.getElementById("preview-status");
  var audio = document.getElementById("audio-player");
  if (!status || !audio || !status.dataset.apiUrl) { return; }
  var delay = 2000;

  function usePreview(url) {
    var position = audio.currentTime;
    var source = document.createElement("source");
    source.src = url;
    source.type = "audio/webm; codecs=opus";
    audio.insertBefore(source, audio.firstChild);
    audio.load();
    if (position > 0) {
      audio.addEventListener("loadedmetadata", function () { audio.currentTime = position; }, { once: true });
    }
    audio.dataset.previewStatus = "ready";
    status.textContent = "The playable preview is ready.";
  }

  function ready(url) {
    if (audio.paused) { usePreview(url); return; }
    status.textContent = "The playable preview is ready; the player switches to it when paused.";
    audio.addEventListener("pause", function () { usePreview(url); }, { once: true });
  }

  function poll() {
    fetch(status.dataset.apiUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (media) {
        if (media.preview_status === "ready" && media.preview_url) { ready(media.preview_url); return; }
        if (media.preview_status === "failed") {
          audio.dataset.previewStatus = "failed";
          status.textContent = "A playable preview could not be made; the original upload plays if your browser supports its format.";
          return;
        }
        delay = 2000;
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
