// The stem separation page once the job ended: plays its stems together (job-progress.js
// follows the job while it runs).
(function () {
  "use strict";
  var root = document.getElementById("stems-job");
  if (!root) { return; }
  // One clock for every stem: the first stem leads; the others are pulled back to it whenever
  // they drift further than DRIFT seconds (media elements start a few milliseconds apart).
  var DRIFT = 0.04;

  function player(box) {
    var audios = Array.prototype.slice.call(box.querySelectorAll("audio"));
    var leader = audios[0];
    var playButton = document.getElementById("stem-play");
    var seek = document.getElementById("stem-seek");
    var clock = document.getElementById("stem-time");
    var solo = {};
    var muted = {};

    function name(element) { return element.dataset.stem; }

    function applyGains() {
      var anySolo = Object.keys(solo).some(function (key) { return solo[key]; });
      audios.forEach(function (audio) {
        var stem = name(audio);
        audio.muted = anySolo ? !solo[stem] : Boolean(muted[stem]);
      });
      box.querySelectorAll(".stem-solo").forEach(function (button) {
        button.setAttribute("aria-pressed", String(Boolean(solo[name(button)])));
      });
      box.querySelectorAll(".stem-mute").forEach(function (button) {
        button.setAttribute("aria-pressed", String(Boolean(muted[name(button)])));
      });
    }

    function align() {
      var t = leader.currentTime;
      audios.forEach(function (audio) {
        if (audio !== leader && Math.abs(audio.currentTime - t) > DRIFT) { audio.currentTime = t; }
      });
    }

    function format(seconds) {
      var whole = Math.floor(seconds);
      var rest = whole % 60;
      return Math.floor(whole / 60) + ":" + (rest < 10 ? "0" : "") + rest;
    }

    function play() {
      align();
      Promise.all(audios.map(function (audio) { return audio.play(); })).catch(function () {
        pause();
      });
      playButton.textContent = "Pause";
      playButton.setAttribute("aria-pressed", "true");
    }

    function pause() {
      audios.forEach(function (audio) { audio.pause(); });
      playButton.textContent = "Play";
      playButton.setAttribute("aria-pressed", "false");
    }

    playButton.addEventListener("click", function () {
      if (leader.paused) { play(); } else { pause(); }
    });
    seek.addEventListener("input", function () {
      audios.forEach(function (audio) { audio.currentTime = Number(seek.value); });
    });
    leader.addEventListener("timeupdate", function () {
      seek.value = String(leader.currentTime);
      clock.textContent = format(leader.currentTime);
      if (!leader.paused) { align(); }
    });
    leader.addEventListener("ended", pause);
    box.addEventListener("click", function (event) {
      var button = event.target.closest(".stem-solo, .stem-mute");
      if (!button) { return; }
      var table = button.classList.contains("stem-solo") ? solo : muted;
      table[name(button)] = !table[name(button)];
      applyGains();
    });
    applyGains();
  }

  var box = document.getElementById("stem-player");
  if (box) { player(box); }
})();
