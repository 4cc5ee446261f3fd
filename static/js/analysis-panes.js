// Draws the time-aligned panes of the results page for a view [start, end] in seconds:
// ruler and Spotify-style rows over a normalised waveform, momentary loudness, chroma and
// band energies with the spectral centroid. Colours come from CSS custom properties
// (static/css/analysis.css), so a theme only has to remap them. Exposes PhonoglyphAnalysis.panes.
(function () {
  "use strict";
  var ns = window.PhonoglyphAnalysis = window.PhonoglyphAnalysis || {};
  var GUTTER = 64;
  var BAND_EDGES = [20, 60, 150, 400, 1000, 2500, 6000, 12000, 20000];
  var ROWS = [["ruler", 20], ["sections", 24], ["bars", 12], ["beats", 12], ["tatums", 9], ["segments", 12]];
  var STEPS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

  function colours() {
    var style = window.getComputedStyle(document.documentElement);
    var names = ["wave", "grid", "text", "beat", "downbeat", "tatum", "segment", "section-a", "section-b",
      "line", "reference", "centroid", "heat-low", "heat-mid", "heat-high"];
    var out = {};
    names.forEach(function (name) { out[name] = style.getPropertyValue("--chart-" + name).trim() || "#888"; });
    out.heat = [rgb(out["heat-low"]), rgb(out["heat-mid"]), rgb(out["heat-high"])];
    return out;
  }

  var probe = document.createElement("canvas").getContext("2d");
  function rgb(colour) {
    probe.fillStyle = "#000";
    probe.fillStyle = colour;
    var hex = probe.fillStyle;
    if (hex.charAt(0) === "#") {
      return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
    }
    var parts = hex.match(/[\d.]+/g) || ["0", "0", "0"];
    return [Number(parts[0]), Number(parts[1]), Number(parts[2])];
  }

  function heat(scale, v) {
    var x = Math.min(1, Math.max(0, v)) * 2;
    var a = scale[x < 1 ? 0 : 1], b = scale[x < 1 ? 1 : 2], f = x < 1 ? x : x - 1;
    return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
  }

  function mmss(t, step) {
    var sign = t < 0 ? "-" : "";
    t = Math.abs(t);
    var m = Math.floor(t / 60), s = t - m * 60;
    var text = step < 1 ? s.toFixed(step < 0.1 ? 2 : 1) : String(Math.floor(s));
    if (s < 10) { text = "0" + text; }
    return sign + m + ":" + text;
  }

  function setup(canvas) {
    var ratio = window.devicePixelRatio || 1;
    var cssHeight = Number(canvas.dataset.height || canvas.getAttribute("height")) || 160;
    canvas.dataset.height = cssHeight;
    canvas.style.height = cssHeight + "px";
    var cssWidth = canvas.clientWidth || 800;
    canvas.width = Math.max(1, Math.floor(cssWidth * ratio));
    canvas.height = Math.floor(cssHeight * ratio);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return { ctx: ctx, w: cssWidth, h: cssHeight };
  }

  function create(data, canvases) {
    var result = data.result;
    var detail = null;
    var peak = waveformPeak(data.overview);

    function source(view) {
      if (detail && detail.start <= view.start + 1e-6 && detail.end >= view.end - 1e-6) { return detail; }
      return data.overview;
    }

    function plot(c) { return { x0: GUTTER, w: Math.max(1, c.w - GUTTER) }; }
    function xOf(view, p, t) { return p.x0 + (t - view.start) / (view.end - view.start) * p.w; }

    function ruler(c, view, p, y, h, col) {
      var span = view.end - view.start;
      var step = STEPS[STEPS.length - 1];
      for (var i = 0; i < STEPS.length; i++) { if (p.w / (span / STEPS[i]) >= 70) { step = STEPS[i]; break; } }
      c.ctx.fillStyle = col.text;
      c.ctx.strokeStyle = col.grid;
      c.ctx.font = "11px system-ui, sans-serif";
      c.ctx.textBaseline = "middle";
      for (var t = Math.ceil(view.start / step) * step; t <= view.end; t += step) {
        var x = xOf(view, p, t);
        c.ctx.beginPath(); c.ctx.moveTo(x, y + h - 6); c.ctx.lineTo(x, c.h); c.ctx.stroke();
        c.ctx.fillText(mmss(t, step), x + 3, y + h / 2 - 2);
      }
    }

    function spans(c, view, p, items, y, h, colour, labels) {
      items.forEach(function (item, i) {
        if (item.end < view.start || item.start > view.end) { return; }
        var x0 = Math.max(p.x0, xOf(view, p, item.start)), x1 = Math.min(p.x0 + p.w, xOf(view, p, item.end));
        c.ctx.globalAlpha = 0.25 + 0.75 * Math.min(1, Math.max(0, item.confidence === null || item.confidence === undefined ? 1 : item.confidence));
        c.ctx.fillStyle = typeof colour === "function" ? colour(i) : colour;
        c.ctx.fillRect(x0, y + 1, Math.max(1, x1 - x0 - 1), h - 2);
        if (labels && x1 - x0 > 40) {
          c.ctx.globalAlpha = 1;
          c.ctx.fillStyle = labels;
          c.ctx.fillText(item.label, x0 + 4, y + h / 2, x1 - x0 - 8);
        }
      });
      c.ctx.globalAlpha = 1;
    }

    function ticks(c, view, p, times, y, h, colour, alpha, minGap) {
      var last = -Infinity;
      c.ctx.fillStyle = colour;
      c.ctx.globalAlpha = alpha;
      for (var i = 0; i < times.length; i++) {
        var t = times[i];
        if (t < view.start || t > view.end) { continue; }
        var x = xOf(view, p, t);
        if (x - last < minGap) { continue; }
        last = x;
        c.ctx.fillRect(x, y + 1, 1.5, h - 2);
      }
      c.ctx.globalAlpha = 1;
    }

    function label(c, text, y, h, col) {
      c.ctx.fillStyle = col.text;
      c.ctx.font = "11px system-ui, sans-serif";
      c.ctx.textBaseline = "middle";
      c.ctx.fillText(text, 4, y + h / 2, GUTTER - 8);
    }

    function drawWaveform(view, col) {
      var c = setup(canvases.waveform), p = plot(c), y = 0, rows = data.rows;
      var tops = {};
      ROWS.forEach(function (row) { tops[row[0]] = y; y += row[1]; });
      ruler(c, view, p, 0, ROWS[0][1], col);
      label(c, "sections", tops.sections, 24, col);
      c.ctx.font = "11px system-ui, sans-serif";
      spans(c, view, p, rows.sections, tops.sections, 24, function (i) { return i % 2 ? col["section-b"] : col["section-a"]; }, col.text);
      label(c, "bars", tops.bars, 12, col);
      spans(c, view, p, rows.bars, tops.bars, 12, function (i) { return i % 2 ? col.downbeat : col.beat; });
      label(c, "beats", tops.beats, 12, col);
      ticks(c, view, p, rows.beats, tops.beats, 12, col.beat, 0.3 + 0.7 * rows.beatConfidence, 2);
      ticks(c, view, p, rows.downbeats, tops.beats, 12, col.downbeat, 1, 0);
      label(c, "tatums", tops.tatums, 9, col);
      ticks(c, view, p, rows.tatums, tops.tatums, 9, col.tatum, 0.3 + 0.7 * rows.beatConfidence, 3);
      label(c, "segments", tops.segments, 12, col);
      spans(c, view, p, rows.segments, tops.segments, 12, function (i) { return i % 2 ? col.segment : col.tatum; });
      var top = y + 4, h = c.h - top, mid = top + h / 2;
      var src = source(view);
      if (src && src.waveform && peak > 0) {
        var wave = src.waveform, gain = 1 / peak;
        c.ctx.fillStyle = col.wave;
        for (var px = 0; px < p.w; px++) {
          var t0 = view.start + px / p.w * (view.end - view.start);
          var t1 = view.start + (px + 1) / p.w * (view.end - view.start);
          var i0 = Math.floor((t0 - src.start) * wave.rate), i1 = Math.max(i0 + 1, Math.floor((t1 - src.start) * wave.rate));
          var lo = 0, hi = 0;
          for (var i = Math.max(0, i0); i < i1 && i < wave.min.length; i++) {
            if (wave.min[i] < lo) { lo = wave.min[i]; }
            if (wave.max[i] > hi) { hi = wave.max[i]; }
          }
          c.ctx.fillRect(p.x0 + px, mid - hi * gain * (h / 2 - 2), 1, Math.max(1, (hi - lo) * gain * (h / 2 - 2)));
        }
      }
      // dBFS axis of the normalised waveform: the peak and fractions of it.
      c.ctx.strokeStyle = col.grid;
      c.ctx.fillStyle = col.text;
      [1, 0.5, 0.25].forEach(function (a) {
        var db = 20 * Math.log10(a * peak);
        [-1, 1].forEach(function (sign) {
          var yy = mid - sign * a * (h / 2 - 2);
          c.ctx.beginPath(); c.ctx.moveTo(p.x0, yy); c.ctx.lineTo(p.x0 + p.w, yy); c.ctx.stroke();
          if (sign > 0 && isFinite(db)) { c.ctx.fillText(db.toFixed(1) + " dB", 4, yy); }
        });
      });
      c.ctx.fillText("dBFS", 4, c.h - 8);
    }

    function seriesAt(series, rate, start, t0, t1) {
      var i0 = Math.floor((t0 - start) * rate), i1 = Math.max(i0 + 1, Math.floor((t1 - start) * rate));
      var sum = 0, count = 0;
      for (var i = Math.max(0, i0); i < i1 && i < series.length; i++) {
        if (!isNaN(series[i])) { sum += series[i]; count++; }
      }
      return count ? sum / count : NaN;
    }

    function drawLoudness(view, col) {
      var c = setup(canvases.loudness), p = plot(c);
      var src = source(view), low = -60, high = 0;
      var y = function (v) { return c.h - 4 - (Math.min(high, Math.max(low, v)) - low) / (high - low) * (c.h - 8); };
      c.ctx.strokeStyle = col.grid; c.ctx.fillStyle = col.text; c.ctx.font = "11px system-ui, sans-serif"; c.ctx.textBaseline = "middle";
      for (var level = low; level <= high; level += 10) {
        c.ctx.beginPath(); c.ctx.moveTo(p.x0, y(level)); c.ctx.lineTo(p.x0 + p.w, y(level)); c.ctx.stroke();
        c.ctx.fillText(level + " LUFS", 4, y(level));
      }
      var integrated = result.loudness ? result.loudness.integrated_lufs : null;
      if (integrated !== null && integrated !== undefined) {
        c.ctx.strokeStyle = col.reference; c.ctx.setLineDash([6, 4]);
        c.ctx.beginPath(); c.ctx.moveTo(p.x0, y(integrated)); c.ctx.lineTo(p.x0 + p.w, y(integrated)); c.ctx.stroke();
        c.ctx.setLineDash([]);
      }
      var series = src && src.timeline && src.timeline.loudness_momentary;
      if (!series) { return; }
      c.ctx.strokeStyle = col.line; c.ctx.lineWidth = 1.5; c.ctx.beginPath();
      var started = false;
      for (var px = 0; px < p.w; px += 1) {
        var t0 = view.start + px / p.w * (view.end - view.start), t1 = view.start + (px + 1) / p.w * (view.end - view.start);
        var v = seriesAt(series.values, src.timeline.rate, src.start, t0, t1);
        if (isNaN(v)) { started = false; continue; }
        if (started) { c.ctx.lineTo(p.x0 + px, y(v)); } else { c.ctx.moveTo(p.x0 + px, y(v)); started = true; }
      }
      c.ctx.stroke(); c.ctx.lineWidth = 1;
    }

    function drawMatrix(canvas, view, col, matrix, rate, start, rowLabels, scale, overlay) {
      var c = setup(canvas), p = plot(c);
      var rows = matrix.columns, width = Math.max(1, Math.floor(p.w));
      var image = c.ctx.createImageData(width, rows);
      for (var px = 0; px < width; px++) {
        var t0 = view.start + px / width * (view.end - view.start), t1 = view.start + (px + 1) / width * (view.end - view.start);
        var i0 = Math.floor((t0 - start) * rate), i1 = Math.max(i0 + 1, Math.floor((t1 - start) * rate));
        for (var r = 0; r < rows; r++) {
          var sum = 0, count = 0;
          for (var i = Math.max(0, i0); i < i1 && i * rows + r < matrix.values.length; i++) {
            var v = matrix.values[i * rows + r];
            if (!isNaN(v)) { sum += v; count++; }
          }
          var colour = heat(col.heat, count ? scale(sum / count) : 0);
          var at = ((rows - 1 - r) * width + px) * 4;
          image.data[at] = colour[0]; image.data[at + 1] = colour[1]; image.data[at + 2] = colour[2]; image.data[at + 3] = 255;
        }
      }
      var off = document.createElement("canvas");
      off.width = width; off.height = rows;
      off.getContext("2d").putImageData(image, 0, 0);
      c.ctx.imageSmoothingEnabled = false;
      c.ctx.drawImage(off, p.x0, 0, p.w, c.h);
      var rowHeight = c.h / rows;
      c.ctx.fillStyle = col.text; c.ctx.font = "10px system-ui, sans-serif"; c.ctx.textBaseline = "middle";
      rowLabels.forEach(function (text, r) { c.ctx.fillText(text, 4, c.h - (r + 0.5) * rowHeight, GUTTER - 8); });
      if (overlay) { overlay(c, p); }
    }

    function drawChroma(view, col) {
      var src = source(view);
      if (!src || !src.timeline || !src.timeline.chroma) { setup(canvases.chroma); return; }
      drawMatrix(canvases.chroma, view, col, src.timeline.chroma, src.timeline.rate, src.start, data.pitches,
        function (v) { return v; });
    }

    function hzToRow(hz) {
      if (hz <= BAND_EDGES[0]) { return 0; }
      for (var i = 0; i < BAND_EDGES.length - 1; i++) {
        if (hz < BAND_EDGES[i + 1]) {
          return i + Math.log(hz / BAND_EDGES[i]) / Math.log(BAND_EDGES[i + 1] / BAND_EDGES[i]);
        }
      }
      return BAND_EDGES.length - 1;
    }

    function drawBands(view, col) {
      var src = source(view);
      if (!src || !src.timeline || !src.timeline.bands) { setup(canvases.bands); return; }
      var labels = BAND_EDGES.slice(0, -1).map(function (hz) { return hz >= 1000 ? hz / 1000 + " kHz" : hz + " Hz"; });
      drawMatrix(canvases.bands, view, col, src.timeline.bands, src.timeline.rate, src.start, labels,
        function (db) { return 1 + db / 60; },
        function (c, p) {
          var centroid = src.timeline.spectral_centroid;
          if (!centroid) { return; }
          var rowHeight = c.h / (BAND_EDGES.length - 1);
          c.ctx.strokeStyle = col.centroid; c.ctx.lineWidth = 1.5; c.ctx.beginPath();
          var started = false;
          for (var px = 0; px < p.w; px += 2) {
            var t0 = view.start + px / p.w * (view.end - view.start), t1 = view.start + (px + 2) / p.w * (view.end - view.start);
            var hz = seriesAt(centroid.values, src.timeline.rate, src.start, t0, t1);
            if (isNaN(hz)) { started = false; continue; }
            var yy = c.h - hzToRow(hz) * rowHeight;
            if (started) { c.ctx.lineTo(p.x0 + px, yy); } else { c.ctx.moveTo(p.x0 + px, yy); started = true; }
          }
          c.ctx.stroke(); c.ctx.lineWidth = 1;
        });
    }

    function draw(view) {
      var col = colours();
      drawWaveform(view, col);
      drawLoudness(view, col);
      drawChroma(view, col);
      drawBands(view, col);
    }

    return {
      gutter: GUTTER,
      peak: peak,
      draw: draw,
      setDetail: function (windowed) { detail = windowed; },
      source: source
    };
  }

  function waveformPeak(overview) {
    if (!overview || !overview.waveform) { return 0; }
    var peak = 0, wave = overview.waveform;
    for (var i = 0; i < wave.min.length; i++) {
      peak = Math.max(peak, Math.abs(wave.min[i]) || 0, Math.abs(wave.max[i]) || 0);
    }
    return peak;
  }

  ns.panes = { create: create, mmss: mmss, colours: colours, heat: heat };
})();
