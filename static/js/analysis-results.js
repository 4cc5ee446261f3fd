// Draws a succeeded analysis: waveform with beat grid, onsets and sections, the loudness
// curve, and chroma and band heatmaps, from the job JSON and its timeline arrays.
(function () {
  "use strict";
  var root = document.getElementById("analysis-job");
  if (!root) { return; }
  var message = document.getElementById("chart-message");

  // Chart colours come from the stylesheet so the pictures follow the light or dark theme.
  function color(name) {
    return window.getComputedStyle(document.documentElement).getPropertyValue("--chart-" + name).trim();
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  function setup(id) {
    var canvas = document.getElementById(id);
    if (!canvas) { return null; }
    var ratio = window.devicePixelRatio || 1;
    var cssHeight = Number(canvas.getAttribute("height")) || 160;
    canvas.style.height = cssHeight + "px";
    canvas.width = Math.max(1, Math.floor(canvas.clientWidth * ratio));
    canvas.height = Math.floor(cssHeight * ratio);
    var ctx = canvas.getContext("2d");
    return { ctx: ctx, w: canvas.width, h: canvas.height, ratio: ratio };
  }

  function drawSections(c, sections, duration) {
    (sections || []).forEach(function (section, index) {
      var x0 = section.start / duration * c.w;
      var x1 = section.end / duration * c.w;
      c.ctx.fillStyle = index % 2 === 0 ? color("section-a") : color("section-b");
      c.ctx.fillRect(x0, 0, x1 - x0, c.h);
      c.ctx.fillStyle = color("section-label");
      c.ctx.fillRect(x0, 0, 2 * c.ratio, c.h);
    });
  }

  function drawWaveform(job, arrays) {
    var c = setup("chart-waveform");
    if (!c) { return; }
    var result = job.result;
    var duration = result.duration;
    drawSections(c, result.sections, duration);
    var mid = c.h / 2;
    var wave = arrays.waveform;
    if (wave) {
      var n = wave.min.length;
      c.ctx.fillStyle = color("wave");
      for (var x = 0; x < c.w; x++) {
        var i0 = Math.floor(x / c.w * n);
        var i1 = Math.max(i0 + 1, Math.floor((x + 1) / c.w * n));
        var lo = 0, hi = 0;
        for (var i = i0; i < i1 && i < n; i++) {
          lo = Math.min(lo, wave.min[i]);
          hi = Math.max(hi, wave.max[i]);
        }
        c.ctx.fillRect(x, mid - hi * mid, 1, Math.max(1, (hi - lo) * mid));
      }
    }
    var downbeats = {};
    (result.downbeats || []).forEach(function (t) { downbeats[t] = true; });
    (result.beats || []).forEach(function (t) {
      c.ctx.fillStyle = downbeats[t] ? color("downbeat") : color("beat");
      c.ctx.fillRect(t / duration * c.w, 0, downbeats[t] ? 2 * c.ratio : c.ratio, c.h);
    });
    c.ctx.fillStyle = color("onset");
    (result.onsets || []).forEach(function (onset) {
      var size = (4 + 10 * Math.min(1, onset.strength)) * c.ratio;
      c.ctx.fillRect(onset.t / duration * c.w - c.ratio, c.h - size, 2 * c.ratio, size);
    });
  }

  function drawLine(id, values, low, high, lineColor, reference) {
    var c = setup(id);
    if (!c || !values || !values.length) { return; }
    var y = function (v) { return c.h - (Math.min(high, Math.max(low, v)) - low) / (high - low) * c.h; };
    c.ctx.strokeStyle = color("grid");
    for (var level = Math.ceil(low / 10) * 10; level <= high; level += 10) {
      c.ctx.beginPath(); c.ctx.moveTo(0, y(level)); c.ctx.lineTo(c.w, y(level)); c.ctx.stroke();
    }
    if (reference !== null && reference !== undefined) {
      c.ctx.strokeStyle = color("downbeat");
      c.ctx.setLineDash([6 * c.ratio, 4 * c.ratio]);
      c.ctx.beginPath(); c.ctx.moveTo(0, y(reference)); c.ctx.lineTo(c.w, y(reference)); c.ctx.stroke();
      c.ctx.setLineDash([]);
    }
    c.ctx.strokeStyle = lineColor;
    c.ctx.lineWidth = 1.5 * c.ratio;
    c.ctx.beginPath();
    var started = false;
    values.forEach(function (v, i) {
      var x = i / values.length * c.w;
      if (v === null || !isFinite(v)) { started = false; return; }
      if (started) { c.ctx.lineTo(x, y(v)); } else { c.ctx.moveTo(x, y(v)); started = true; }
    });
    c.ctx.stroke();
  }

  function drawHeatmap(id, frames, rows, scale, labels) {
    var c = setup(id);
    if (!c || !frames || !frames.length) { return; }
    var n = frames.length;
    var rowHeight = c.h / rows;
    for (var x = 0; x < c.w; x++) {
      var i0 = Math.floor(x / c.w * n);
      var i1 = Math.max(i0 + 1, Math.floor((x + 1) / c.w * n));
      for (var r = 0; r < rows; r++) {
        var sum = 0, count = 0;
        for (var i = i0; i < i1 && i < n; i++) { sum += frames[i][r]; count++; }
        var v = scale(count ? sum / count : 0);
        c.ctx.fillStyle = "hsl(" + (260 - 200 * v) + ", 80%, " + (8 + 55 * v) + "%)";
        c.ctx.fillRect(x, c.h - (r + 1) * rowHeight, 1, Math.ceil(rowHeight));
      }
    }
    c.ctx.fillStyle = "rgba(230, 232, 239, 0.8)";
    c.ctx.font = (10 * c.ratio) + "px system-ui, sans-serif";
    (labels || []).forEach(function (label, r) {
      c.ctx.fillText(label, 4 * c.ratio, c.h - r * rowHeight - rowHeight / 2 + 4 * c.ratio);
    });
  }

  function drawAll(job, arrays) {
    drawWaveform(job, arrays);
    var timeline = arrays.timeline;
    if (!timeline) {
      message.textContent = "The timeline was not requested for this analysis.";
      return;
    }
    var integrated = job.result.loudness ? job.result.loudness.integrated_lufs : null;
    if (timeline.loudness_momentary) {
      drawLine("chart-loudness", timeline.loudness_momentary, -60, 0, color("line"), integrated);
    } else {
      message.textContent = "Loudness was not requested, so there is no loudness curve.";
    }
    var pitches = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
    drawHeatmap("chart-chroma", timeline.chroma, 12, function (v) { return Math.min(1, Math.max(0, v)); }, pitches);
    var values = timeline.bands.values;
    var peak = 1e-12;
    values.forEach(function (frame) { frame.forEach(function (v) { if (v > peak) { peak = v; } }); });
    drawHeatmap("chart-bands", values, timeline.bands.names.length, function (v) {
      // Band energies span orders of magnitude: show 60 dB below the loudest frame.
      var db = 10 * Math.log10(Math.max(v, 1e-12) / peak);
      return Math.min(1, Math.max(0, 1 + db / 60));
    }, timeline.bands.names);
  }

  Promise.all([getJson(root.dataset.apiUrl), getJson(root.dataset.timelineUrl).catch(function () { return {}; })])
    .then(function (both) {
      var job = both[0], arrays = both[1];
      drawAll(job, arrays);
      var timer = null;
      function redraw() {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { drawAll(job, arrays); }, 150);
      }
      window.addEventListener("resize", redraw);
      document.addEventListener("phonoglyph:themechange", redraw);
      if (window.matchMedia) {
        window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redraw);
      }
    })
    .catch(function (error) {
      if (message) { message.textContent = "Could not load the result: " + error.message; }
    });
})();
