// A visualizer preview driven only by the stored analysis: beats pulse, onsets flash, band
// energies shape the figure, section changes switch palette and loudness scales it. It reads
// the audio element's currentTime every frame, so it follows playback and seeking.
// Honours prefers-reduced-motion (no pulse or flash). Exposes PhonoglyphAnalysis.visualizer.
(function () {
  "use strict";
  var ns = window.PhonoglyphAnalysis = window.PhonoglyphAnalysis || {};
  var PALETTES = [
    ["#120b2e", "#7c5cff", "#29c5b0"], ["#1d0b14", "#ff5c7a", "#ffd166"], ["#071a1f", "#29c5b0", "#a0e7ff"],
    ["#1a1405", "#ffd166", "#ff8a3d"], ["#0b1022", "#5c9dff", "#e6e8ef"], ["#14071f", "#d65cff", "#5cffb1"]
  ];

  function create(data, canvas) {
    var lastIndex = ns.data.lastAtOrBefore;
    var result = data.result, rows = data.rows, overview = data.overview;
    var onsets = result.onsets || [];
    var reduced = window.matchMedia("(prefers-reduced-motion: reduce)");
    var ctx = canvas.getContext("2d");
    var frames = 0;

    function bandsAt(t) {
      var tl = overview && overview.timeline;
      if (!tl || !tl.bands) { return null; }
      var cols = tl.bands.columns, i = Math.max(0, Math.min(Math.floor((t - overview.start) * tl.rate), tl.bands.values.length / cols - 1));
      return Array.prototype.slice.call(tl.bands.values, i * cols, i * cols + cols);
    }

    function loudnessAt(t) {
      var tl = overview && overview.timeline;
      if (!tl || !tl.loudness_momentary) { return -30; }
      var v = tl.loudness_momentary.values[Math.max(0, Math.min(Math.floor((t - overview.start) * tl.rate), tl.loudness_momentary.values.length - 1))];
      return isNaN(v) ? -70 : v;
    }

    function render(t) {
      var ratio = window.devicePixelRatio || 1;
      var w = Math.max(1, Math.floor(canvas.clientWidth * ratio)), h = Math.max(1, Math.floor(canvas.clientHeight * ratio));
      if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
      var still = reduced.matches;
      var beatIndex = ns.data.lastAtOrBefore(rows.beats, t);
      var sinceBeat = beatIndex >= 0 ? t - rows.beats[beatIndex] : 10;
      var onBar = beatIndex >= 0 && rows.downbeats.indexOf(rows.beats[beatIndex]) !== -1;
      var pulse = still ? 0 : Math.exp(-sinceBeat * 8) * (onBar ? 1.6 : 1);
      var onsetIndex = lastIndex(onsets, t, "t");
      var flash = still || onsetIndex < 0 ? 0 : onsets[onsetIndex].strength * Math.exp(-(t - onsets[onsetIndex].t) * 14);
      var sectionIndex = Math.max(0, lastIndex(rows.sections, t, "start"));
      var palette = PALETTES[sectionIndex % PALETTES.length];
      var loud = Math.min(1, Math.max(0, (loudnessAt(t) + 60) / 55));
      ctx.globalAlpha = 1;
      ctx.fillStyle = palette[0];
      ctx.fillRect(0, 0, w, h);
      if (flash > 0.02) {
        ctx.globalAlpha = Math.min(0.5, flash * 0.5);
        ctx.fillStyle = palette[2];
        ctx.fillRect(0, 0, w, h);
        ctx.globalAlpha = 1;
      }
      var cx = w / 2, cy = h / 2, base = Math.min(w, h) * (0.12 + 0.22 * loud) * (1 + 0.18 * pulse);
      var bands = bandsAt(t) || [0, 0, 0, 0, 0, 0, 0, 0];
      var n = bands.length;
      ctx.beginPath();
      for (var k = 0; k <= n * 4; k++) {
        var band = bands[k % n];
        var shape = isNaN(band) ? 0 : Math.max(0, 1 + band / 60);
        var angle = k / (n * 4) * Math.PI * 2 - Math.PI / 2;
        var r = base * (1 + 0.9 * shape * (k % 4 === 0 ? 1 : 0.55));
        var x = cx + Math.cos(angle) * r, y = cy + Math.sin(angle) * r;
        if (k === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
      }
      ctx.closePath();
      ctx.fillStyle = palette[1];
      ctx.fill();
      ctx.beginPath();
      ctx.arc(cx, cy, base * 0.55, 0, Math.PI * 2);
      ctx.fillStyle = palette[2];
      ctx.fill();
      frames += 1;
      canvas.dataset.frames = String(frames);
      canvas.dataset.time = t.toFixed(3);
    }

    return { render: render };
  }

  ns.visualizer = { create: create };
})();
