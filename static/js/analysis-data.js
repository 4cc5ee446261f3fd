// Loads a succeeded analysis for the results page: the job JSON (beats, onsets, sections...)
// and the timeline as a screen-sized q8 overview, with finer windows fetched when zoomed.
// Exposes window.PhonoglyphAnalysis.data.
(function () {
  "use strict";
  var ns = window.PhonoglyphAnalysis = window.PhonoglyphAnalysis || {};
  var PITCHES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
  // Below this meter confidence bars and downbeats are not drawn (docs/audio-analysis.md).
  var OVERVIEW_POINTS = 2000;

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  // One q8 series back to numbers (NaN for null): bytes 0-254 over [lo, hi], 255 null.
  function decodeQ8(encoded) {
    var raw = window.atob(encoded.q);
    var out = new Float32Array(raw.length);
    var span = encoded.hi - encoded.lo;
    for (var i = 0; i < raw.length; i++) {
      var code = raw.charCodeAt(i);
      out[i] = code === 255 ? NaN : encoded.lo + code / 254 * span;
    }
    return { values: out, columns: encoded.shape ? encoded.shape[1] : 1 };
  }

  function decodeWindow(body) {
    var window_ = { start: body.start, end: body.end };
    if (body.waveform) {
      window_.waveform = {
        rate: body.waveform.points_per_second,
        min: decodeQ8(body.waveform.min).values,
        max: decodeQ8(body.waveform.max).values
      };
    }
    var t = body.timeline;
    if (t) {
      window_.timeline = { rate: t.frame_rate };
      ["rms", "spectral_centroid", "spectral_flux", "loudness_momentary", "chroma"].forEach(function (name) {
        if (t[name]) { window_.timeline[name] = decodeQ8(t[name]); }
      });
      if (t.bands) {
        window_.timeline.bands = decodeQ8(t.bands.db);
        window_.timeline.bandNames = t.bands.names;
      }
    }
    return window_;
  }

  function windowUrl(base, start, end, resolution) {
    return base + "?encoding=q8&start=" + start.toFixed(3) + "&end=" + end.toFixed(3) +
      "&resolution=" + resolution.toFixed(4);
  }

  function median(values) {
    if (!values.length) { return null; }
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    return sorted[Math.floor(sorted.length / 2)];
  }

  // Spotify-style rows from the summary alone (the audio-analysis view is far larger).
  function rows(result) {
    var beats = result.beats || [];
    var tempo = result.tempo || {};
    // The engine leaves the meter out (beats_per_bar null, no downbeats) below its threshold.
    var meterOk = tempo.beats_per_bar !== null && tempo.beats_per_bar !== undefined;
    var downbeats = meterOk ? (result.downbeats || []) : [];
    var beatConfidence = tempo.confidence || 0;
    var bars = downbeats.map(function (start, i) {
      return { start: start, end: i + 1 < downbeats.length ? downbeats[i + 1] : result.duration,
        confidence: tempo.meter_confidence };
    });
    var perBeat = tempo.tatums_per_beat || 2;
    var tatums = [];
    beats.forEach(function (start, i) {
      if (i + 1 >= beats.length) { return; }
      var step = (beats[i + 1] - start) / perBeat;
      for (var k = 0; k < perBeat; k++) { tatums.push(start + k * step); }
    });
    var onsets = result.onsets || [];
    var segments = onsets.map(function (onset, i) {
      return { start: onset.t, end: i + 1 < onsets.length ? onsets[i + 1].t : result.duration,
        confidence: onset.strength };
    });
    var sections = (result.sections || []).map(function (section) {
      var inside = beats.filter(function (b) { return b >= section.start && b < section.end; });
      var gaps = [];
      for (var i = 1; i < inside.length; i++) { gaps.push(inside[i] - inside[i - 1]); }
      var gap = median(gaps);
      var bpm = inside.length >= 3 && gap ? 60 / gap : tempo.bpm;
      var label = (section.key ? section.key + " " + (section.scale || "") : "no key") +
        (bpm ? " · " + Math.round(bpm) + " BPM" : "");
      return { start: section.start, end: section.end, label: label,
        confidence: section.key_strength === undefined ? 1 : Math.max(0.25, section.key_strength || 0) };
    });
    return { beats: beats, beatConfidence: beatConfidence, downbeats: downbeats, bars: bars,
      tatums: tatums, segments: segments, sections: sections, meterOk: meterOk };
  }

  function load(root) {
    var timelineUrl = root.dataset.timelineUrl;
    return getJson(root.dataset.apiUrl).then(function (job) {
      var duration = job.result.duration;
      var resolution = Math.min(100, OVERVIEW_POINTS / Math.max(duration, 1));
      var overview = getJson(windowUrl(timelineUrl, 0, duration, resolution))
        .then(decodeWindow)
        .catch(function () { return null; });
      return overview.then(function (windowed) {
        return {
          job: job, result: job.result, duration: duration, overview: windowed,
          rows: rows(job.result), pitches: PITCHES,
          fetchWindow: function (start, end, pointsPerSecond) {
            return getJson(windowUrl(timelineUrl, start, end, pointsPerSecond)).then(decodeWindow);
          }
        };
      });
    });
  }

  // Index of the last time in the sorted `times` at or before `t` (-1 when none).
  function lastAtOrBefore(times, t, key) {
    var lo = 0, hi = times.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      var value = key ? times[mid][key] : times[mid];
      if (value <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  ns.data = { load: load, lastAtOrBefore: lastAtOrBefore, pitches: PITCHES };
})();
