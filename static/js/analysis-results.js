// The results page of a succeeded analysis: time-aligned panes with one ruler and one
// playhead synced to the audio player, click or drag to seek, zoom and scroll (wheel, pinch,
// + and -), keyboard (space, arrows by beat, shift+arrows by bar), a Web Audio click track,
// the visualizer preview, text alternatives of every chart and the developer snippet.
(function () {
  "use strict";
  var root = document.getElementById("analysis-job");
  var ns = window.PhonoglyphAnalysis;
  if (!root || !ns || !ns.data) { return; }
  var message = document.getElementById("chart-message");
  var audio = document.getElementById("audio-player");
  var panesEl = document.getElementById("analysis-panes");
  var playhead = document.getElementById("playhead");
  var readout = document.getElementById("time-readout");
  var canvases = {
    waveform: document.getElementById("chart-waveform"),
    loudness: document.getElementById("chart-loudness"),
    chroma: document.getElementById("chart-chroma"),
    bands: document.getElementById("chart-bands")
  };
  var MIN_SPAN = 2;

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  function describe(data, panes) {
    var r = data.result, rows = data.rows, mmss = ns.panes.mmss;
    var sections = rows.sections.map(function (s) { return mmss(s.start, 1) + "–" + mmss(s.end, 1) + " " + s.label; });
    text("chart-waveform-text", "Waveform of " + mmss(data.duration, 1) + ", normalised; peak " +
      (panes.peak > 0 ? (20 * Math.log10(panes.peak)).toFixed(1) + " dBFS" : "silence") + ". " +
      rows.beats.length + " beats" + (r.tempo && r.tempo.bpm ? " at " + r.tempo.bpm.toFixed(1) + " BPM" : "") + ", " +
      (rows.meterOk ? rows.bars.length + " bars (meter confidence " + r.tempo.meter_confidence.toFixed(2) + ")" :
        "no bars (meter not confident)") + ", " + rows.segments.length + " segments. Sections: " +
      (sections.join("; ") || "none") + ".");
    var tl = data.overview && data.overview.timeline;
    if (tl && tl.loudness_momentary) {
      var values = Array.prototype.filter.call(tl.loudness_momentary.values, function (v) { return !isNaN(v) && v > -70; });
      text("chart-loudness-text", "Momentary loudness from " + Math.min.apply(null, values.concat([0])).toFixed(1) +
        " to " + Math.max.apply(null, values.concat([-70])).toFixed(1) + " LUFS; integrated " +
        (r.loudness && r.loudness.integrated_lufs !== null ? r.loudness.integrated_lufs.toFixed(1) + " LUFS" : "not measured") + ".");
    }
    if (tl && tl.chroma) {
      var means = data.pitches.map(function (p, k) {
        var sum = 0, count = 0;
        for (var i = k; i < tl.chroma.values.length; i += 12) { if (!isNaN(tl.chroma.values[i])) { sum += tl.chroma.values[i]; count++; } }
        return { pitch: p, mean: count ? sum / count : 0 };
      });
      text("chart-chroma-text", "Mean chroma by pitch class (0–1): " +
        means.map(function (m) { return m.pitch + " " + m.mean.toFixed(2); }).join(", ") + ".");
    }
    if (tl && tl.bands) {
      var cols = tl.bands.columns;
      text("chart-bands-text", "Mean band energy relative to the loudest (dB): " + tl.bandNames.map(function (name, k) {
        var sum = 0, count = 0;
        for (var i = k; i < tl.bands.values.length; i += cols) { if (!isNaN(tl.bands.values[i])) { sum += tl.bands.values[i]; count++; } }
        return name + " " + (count ? (sum / count).toFixed(1) : "–");
      }).join(", ") + ". The line is the spectral centroid (Hz).");
    }
  }

  function start(data) {
    var panes = ns.panes.create(data, canvases);
    var duration = data.duration;
    var view = { start: 0, end: duration };
    var dirty = true, detailTimer = null, detailToken = 0;
    var visualizer = null, visualCanvas = null;
    describe(data, panes);
    text("peak-level", panes.peak > 0 ? (20 * Math.log10(panes.peak)).toFixed(1) + " dBFS" : "—");

    function now() { return audio ? audio.currentTime : 0; }

    function setView(s, e) {
      var span = Math.min(duration, Math.max(MIN_SPAN, e - s));
      s = Math.max(0, Math.min(s, duration - span));
      view = { start: s, end: s + span };
      dirty = true;
      text("zoom-level", span >= duration - 1e-6 ? "whole track" : ns.panes.mmss(span, span < 10 ? 0.1 : 1) + " shown");
      window.clearTimeout(detailTimer);
      detailTimer = window.setTimeout(fetchDetail, 200);
    }

    function fetchDetail() {
      var overview = data.overview && data.overview.waveform;
      var plotWidth = canvases.waveform.clientWidth - panes.gutter;
      var span = view.end - view.start;
      var needed = 1.5 * plotWidth / span;
      if (!overview || needed <= overview.rate * 1.2) { panes.setDetail(null); dirty = true; return; }
      var token = ++detailToken;
      var s = Math.max(0, view.start - span / 2), e = Math.min(duration, view.end + span / 2);
      data.fetchWindow(s, e, needed).then(function (windowed) {
        if (token === detailToken) { panes.setDetail(windowed); dirty = true; }
      }).catch(function () { /* the overview stays drawn */ });
    }

    function zoom(factor, anchor) {
      var at = anchor === undefined ? Math.min(view.end, Math.max(view.start, now())) : anchor;
      var span = (view.end - view.start) * factor;
      var f = (at - view.start) / (view.end - view.start);
      setView(at - f * span, at - f * span + span);
    }

    function timeAt(clientX) {
      var rect = canvases.waveform.getBoundingClientRect();
      var f = (clientX - rect.left - panes.gutter) / Math.max(1, rect.width - panes.gutter);
      return Math.min(duration, Math.max(0, view.start + Math.min(1, Math.max(0, f)) * (view.end - view.start)));
    }

    function seek(t) {
      if (!audio) { return; }
      audio.currentTime = Math.min(duration, Math.max(0, t));
      clickReset();
      placePlayhead();
    }

    function placePlayhead() {
      var t = now();
      var width = canvases.waveform.clientWidth - panes.gutter;
      var inView = t >= view.start && t <= view.end;
      playhead.hidden = !inView;
      if (inView) {
        var x = panes.gutter + (t - view.start) / (view.end - view.start) * width;
        playhead.style.transform = "translateX(" + x.toFixed(1) + "px)";
      }
      playhead.dataset.time = t.toFixed(3);
    }

    // Pointer: click or drag seeks; two pointers pinch-zoom.
    var pointers = {};
    var pinchDistance = 0;
    panesEl.addEventListener("pointerdown", function (event) {
      pointers[event.pointerId] = event.clientX;
      panesEl.setPointerCapture(event.pointerId);
      if (Object.keys(pointers).length === 1) { seek(timeAt(event.clientX)); }
    });
    panesEl.addEventListener("pointermove", function (event) {
      if (!(event.pointerId in pointers)) { return; }
      pointers[event.pointerId] = event.clientX;
      var xs = Object.keys(pointers).map(function (k) { return pointers[k]; });
      if (xs.length === 2) {
        var distance = Math.abs(xs[0] - xs[1]);
        if (pinchDistance > 0 && distance > 0) { zoom(pinchDistance / distance, timeAt((xs[0] + xs[1]) / 2)); }
        pinchDistance = distance;
      } else if (xs.length === 1) {
        seek(timeAt(event.clientX));
      }
    });
    function release(event) { delete pointers[event.pointerId]; pinchDistance = 0; }
    panesEl.addEventListener("pointerup", release);
    panesEl.addEventListener("pointercancel", release);
    panesEl.addEventListener("wheel", function (event) {
      if (event.ctrlKey || event.metaKey) {
        event.preventDefault();
        zoom(Math.exp(event.deltaY * 0.01), timeAt(event.clientX));
      } else if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
        event.preventDefault();
        var delta = (event.shiftKey ? event.deltaY : event.deltaX) / Math.max(1, canvases.waveform.clientWidth - panes.gutter);
        var span = view.end - view.start;
        setView(view.start + delta * span, view.end + delta * span);
      }
    }, { passive: false });

    function stepBy(times, direction, t) {
      if (!times.length) { return null; }
      if (direction > 0) {
        for (var i = 0; i < times.length; i++) { if (times[i] > t + 0.01) { return times[i]; } }
        return null;
      }
      for (var j = times.length - 1; j >= 0; j--) { if (times[j] < t - 0.05) { return times[j]; } }
      return 0;
    }

    function barTimes() {
      if (data.rows.meterOk && data.rows.downbeats.length) { return data.rows.downbeats; }
      var per = (data.result.tempo && data.result.tempo.beats_per_bar) || 4;
      return data.rows.beats.filter(function (_, i) { return i % per === 0; });
    }

    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var tag = target && target.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) { return; }
      if (event.altKey || event.ctrlKey || event.metaKey) { return; }
      if (event.key === " " && tag !== "BUTTON" && tag !== "AUDIO" && tag !== "A" && tag !== "SUMMARY") {
        event.preventDefault();
        if (audio) { if (audio.paused) { audio.play(); } else { audio.pause(); } }
      } else if ((event.key === "ArrowRight" || event.key === "ArrowLeft") && tag !== "AUDIO") {
        event.preventDefault();
        var direction = event.key === "ArrowRight" ? 1 : -1;
        var times = event.shiftKey ? barTimes() : data.rows.beats;
        var fallback = now() + direction * (event.shiftKey ? 4 : 1);
        var next = stepBy(times, direction, now());
        seek(next === null ? fallback : next);
      } else if (event.key === "+" || event.key === "=") {
        zoom(0.5);
      } else if (event.key === "-" || event.key === "_") {
        zoom(2);
      }
    });

    function on(id, type, handler) {
      var el = document.getElementById(id);
      if (el) { el.addEventListener(type, handler); }
      return el;
    }
    on("zoom-in", "click", function () { zoom(0.5); });
    on("zoom-out", "click", function () { zoom(2); });
    on("zoom-reset", "click", function () { setView(0, duration); });

    // Click track: short blips on beats (higher on downbeats), scheduled ahead on Web Audio's clock.
    var clickButton = document.getElementById("click-track");
    var context = null, clickOn = false, scheduledUntil = -1, scheduler = null;
    function clickReset() { scheduledUntil = now() - 0.001; }
    function blip(when, downbeat) {
      var osc = context.createOscillator(), gain = context.createGain();
      osc.frequency.value = downbeat ? 1760 : 1100;
      gain.gain.setValueAtTime(0.0001, when);
      gain.gain.exponentialRampToValueAtTime(0.5, when + 0.002);
      gain.gain.exponentialRampToValueAtTime(0.0001, when + 0.05);
      osc.connect(gain).connect(context.destination);
      osc.start(when); osc.stop(when + 0.06);
    }
    function schedule() {
      if (!audio || audio.paused) { return; }
      var t = now(), ahead = t + 0.15, rate = audio.playbackRate || 1;
      var beats = data.rows.beats, downbeats = data.rows.downbeats;
      for (var i = ns.data.lastAtOrBefore(beats, scheduledUntil) + 1; i < beats.length && beats[i] <= ahead; i++) {
        if (beats[i] >= t - 0.01) { blip(context.currentTime + Math.max(0, beats[i] - t) / rate, downbeats.indexOf(beats[i]) !== -1); }
        scheduledUntil = beats[i];
      }
    }
    if (clickButton) {
      clickButton.addEventListener("click", function () {
        clickOn = !clickOn;
        clickButton.setAttribute("aria-pressed", String(clickOn));
        if (clickOn) {
          context = context || new (window.AudioContext || window.webkitAudioContext)();
          context.resume();
          clickReset();
          scheduler = window.setInterval(schedule, 25);
        } else {
          window.clearInterval(scheduler);
        }
      });
    }
    if (audio) { audio.addEventListener("seeked", clickReset); audio.addEventListener("play", clickReset); }

    // Visualizer: made when first shown, so its canvas costs nothing until then.
    var visualButton = document.getElementById("visualizer-toggle");
    var visualBox = document.getElementById("visualizer");
    on("visualizer-toggle", "click", function () {
      var show = visualBox.hidden;
      visualBox.hidden = !show;
      visualButton.setAttribute("aria-expanded", String(show));
      if (show && !visualizer) {
        visualCanvas = document.createElement("canvas");
        visualCanvas.id = "visualizer-canvas";
        visualCanvas.className = "visualizer-canvas";
        visualCanvas.setAttribute("role", "img");
        visualCanvas.setAttribute("aria-label", "Visualizer preview driven by the analysis: it pulses on beats, flashes on onsets, takes its shape from the band energies and its colours from the section.");
        visualBox.insertBefore(visualCanvas, visualBox.firstChild);
        follow(data, "mix");
      }
    });

    // What drives the visualizer: the mix's analysis, or one stem's (the sources offered are
    // the stems with a finished analysis). Playback is untouched; only the data changes.
    var sourceSelect = document.getElementById("visualizer-source");
    var stemData = {}, sourceToken = 0;
    function follow(driving, source) {
      visualizer = ns.visualizer.create(driving, visualCanvas);
      visualCanvas.dataset.source = source;
      visualCanvas.dataset.analysis = String(driving.job.id);
    }
    if (sourceSelect) {
      sourceSelect.addEventListener("change", function () {
        var option = sourceSelect.options[sourceSelect.selectedIndex];
        var source = option.value, token = ++sourceToken;
        if (!visualCanvas) { return; }
        if (source === "mix") { follow(data, source); return; }
        stemData[source] = stemData[source] || ns.data.load(option);
        stemData[source].then(function (driving) {
          if (token === sourceToken) { follow(driving, source); }
        }).catch(function (error) {
          delete stemData[source];
          if (message) { message.textContent = "Could not load the " + source + " analysis: " + error.message; }
        });
      });
    }
    on("visualizer-fullscreen", "click", function () {
      if (visualBox.requestFullscreen) { visualBox.requestFullscreen(); }
    });

    var lastReadout = -1;
    function frame() {
      var t = now();
      if (audio && !audio.paused && (t > view.end || t < view.start) && view.end - view.start < duration) {
        var span = view.end - view.start;
        setView(t - span * 0.1, t + span * 0.9);
      }
      if (dirty) { dirty = false; panes.draw(view); }
      placePlayhead();
      if (visualizer && !visualBox.hidden) { visualizer.render(t); }
      if (readout && Math.abs(t - lastReadout) >= 0.25) {
        lastReadout = t;
        readout.textContent = ns.panes.mmss(t, 1) + " / " + ns.panes.mmss(duration, 1);
      }
      window.requestAnimationFrame(frame);
    }

    var resizeTimer = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(function () { dirty = true; }, 100);
    });
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () { dirty = true; });
    new MutationObserver(function () { dirty = true; }).observe(document.documentElement, { attributes: true });
    setView(0, duration);
    window.requestAnimationFrame(frame);
    root.dataset.ready = "true";
  }

  // The developer snippet's Copy button.
  var copy = document.getElementById("snippet-copy");
  if (copy) {
    copy.addEventListener("click", function () {
      var code = document.getElementById("snippet-code");
      navigator.clipboard.writeText(code.textContent).then(function () { text("snippet-status", "Copied."); },
        function () { text("snippet-status", "Select the code and copy it."); });
    });
  }

  ns.data.load(root).then(start).catch(function (error) {
    if (message) { message.textContent = "Could not load the result: " + error.message; }
  });
})();
