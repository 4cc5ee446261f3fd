"""The stored timeline and waveform cut to a time range and a screen's resolution.

A results page (or an integrator's player) never needs 43 frames a second of a 30-minute
track at once: it needs about two points per pixel of what it shows. `timeline_window` takes
the stored arrays (`AnalysisResult.to_dict()`'s `timeline` and `waveform`) and returns the
part between `start` and `end` seconds, reduced to at most `resolution` points per second:

* waveform `min`/`max`: the extremes of each bucket (peaks are never averaged away);
* `rms`, `spectral_flux`: the bucket's maximum (a beat's energy survives the zoom-out);
* `spectral_centroid`, `loudness_momentary`, `chroma`, `bands`, `mfcc`: the bucket's mean
  (nulls ignored; a bucket of nulls stays null).

`q8_encode` turns such a window into its compact form: every series as unsigned bytes, 0-254
spread linearly over the series' own [lo, hi], 255 for null, base64-encoded; matrices
(chroma, bands, mfcc) row-major with their `shape`. `bands` are sent in dB relative to their
loudest value in the window (floor -80 dB) before quantising, since their energies span
orders of magnitude.
"""

from __future__ import annotations

import base64
import math
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

TIMELINE_SERIES = ("rms", "spectral_centroid", "spectral_flux", "loudness_momentary")
PEAK_SERIES = frozenset({"rms", "spectral_flux"})
MATRIX_SERIES = ("chroma", "mfcc")
_Q8_NULL = 255
_Q8_STEPS = 254
_BANDS_DB_FLOOR = -80.0


def _as_array(values: Any) -> FloatArray:
    """Lists (None for null) as a float array with NaN for null; arrays as they are."""
    if isinstance(values, np.ndarray):
        return values
    array = np.array(values, dtype=object)
    array[array == None] = math.nan  # noqa: E711  # elementwise comparison
    return array.astype(np.float64)


def _bucket_edges(first: int, last: int, count: int) -> npt.NDArray[np.int64]:
    return np.linspace(first, last, count + 1).round().astype(np.int64)


def _reduce(values: FloatArray, edges: npt.NDArray[np.int64], how: str) -> FloatArray:
    """Reduce rows of `values` between consecutive `edges` by `how` (min, max or mean)."""
    shape = (len(edges) - 1, *values.shape[1:])
    out = np.full(shape, math.nan, dtype=np.float64)
    function: Any = {"min": np.nanmin, "max": np.nanmax, "mean": np.nanmean}[how]
    with warnings.catch_warnings():
        # A bucket of nulls is null, not a warning.
        warnings.simplefilter("ignore", category=RuntimeWarning)
        for index in range(len(edges) - 1):
            lo, hi = int(edges[index]), int(edges[index + 1])
            if hi > lo:
                out[index] = function(values[lo:hi], axis=0)
    return out


def _window(
    values: FloatArray, rate: float, start: float, end: float, resolution: float, how: str
) -> tuple[FloatArray, float]:
    """The rows of `values` (at `rate` per second) in [start, end), at most `resolution`/s."""
    first = max(0, min(len(values), math.floor(start * rate)))
    last = max(first, min(len(values), math.ceil(end * rate)))
    wanted = max(1, math.ceil((end - start) * min(rate, resolution)))
    if last - first <= wanted:
        return values[first:last], rate
    return _reduce(values, _bucket_edges(first, last, wanted), how), wanted / (end - start)


def arrays_as_numpy(arrays: dict[str, Any]) -> dict[str, Any]:
    """The stored arrays with every series as a float array (NaN for null), parsed once."""
    out: dict[str, Any] = {}
    wave = arrays.get("waveform")
    if wave:
        out["waveform"] = {
            "points_per_second": wave["points_per_second"],
            "min": _as_array(wave["min"]).astype(np.float32),
            "max": _as_array(wave["max"]).astype(np.float32),
        }
    timeline = arrays.get("timeline")
    if timeline:
        converted: dict[str, Any] = {"frame_rate": timeline["frame_rate"]}
        for name in (*TIMELINE_SERIES, *MATRIX_SERIES):
            if timeline.get(name) is not None:
                converted[name] = _as_array(timeline[name]).astype(np.float32)
        if timeline.get("bands"):
            converted["bands"] = {
                "names": timeline["bands"]["names"],
                "values": _as_array(timeline["bands"]["values"]).astype(np.float32),
            }
        out["timeline"] = converted
    return out


def timeline_window(
    arrays: dict[str, Any],
    *,
    start: float,
    end: float | None,
    resolution: float,
    duration: float,
) -> dict[str, Any]:
    """The arrays between `start` and `end` (default: the end) at <= `resolution` points/s."""
    end_seconds = duration if end is None else min(end, duration)
    start_seconds = max(0.0, min(start, end_seconds))
    window: dict[str, Any] = {"start": round(start_seconds, 4), "end": round(end_seconds, 4)}
    wave = arrays.get("waveform")
    if wave:
        pps = float(wave["points_per_second"])
        low, rate = _window(
            _as_array(wave["min"]), pps, start_seconds, end_seconds, resolution, "min"
        )
        high, _ = _window(
            _as_array(wave["max"]), pps, start_seconds, end_seconds, resolution, "max"
        )
        window["waveform"] = {"points_per_second": round(rate, 6), "min": low, "max": high}
    timeline = arrays.get("timeline")
    if timeline:
        frame_rate = float(timeline["frame_rate"])
        out: dict[str, Any] = {}
        rate = frame_rate
        for name in (*TIMELINE_SERIES, *MATRIX_SERIES):
            if timeline.get(name) is None:
                continue
            how = "max" if name in PEAK_SERIES else "mean"
            out[name], rate = _window(
                _as_array(timeline[name]), frame_rate, start_seconds, end_seconds, resolution, how
            )
        bands = timeline.get("bands")
        if bands:
            values, rate = _window(
                _as_array(bands["values"]),
                frame_rate,
                start_seconds,
                end_seconds,
                resolution,
                "mean",
            )
            out["bands"] = {"names": list(bands["names"]), "values": values}
        out["frame_rate"] = round(rate, 6)
        window["timeline"] = out
    return window


def _plain(value: Any, digits: int) -> Any:
    if isinstance(value, np.ndarray):
        rounded = np.round(value, digits).astype(object)
        rounded[np.isnan(value)] = None
        return rounded.tolist()
    if isinstance(value, dict):
        return {key: _plain(item, digits) for key, item in value.items()}
    return value


def window_as_json(window: dict[str, Any]) -> dict[str, Any]:
    """The window with its arrays as JSON lists (null for missing values)."""
    return {key: _plain(value, 5) for key, value in window.items()}


def _q8(values: FloatArray) -> dict[str, Any]:
    finite = values[np.isfinite(values)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 0.0
    span = hi - lo if hi > lo else 1.0
    codes = np.full(values.shape, _Q8_NULL, dtype=np.uint8)
    present = np.isfinite(values)
    codes[present] = np.round((values[present] - lo) / span * _Q8_STEPS).astype(np.uint8)
    encoded: dict[str, Any] = {
        "lo": round(lo, 6),
        "hi": round(hi, 6),
        "q": base64.b64encode(codes.tobytes()).decode("ascii"),
    }
    if values.ndim > 1:
        encoded["shape"] = list(values.shape)
    return encoded


def q8_encode(window: dict[str, Any]) -> dict[str, Any]:
    """The compact form of a window (see the module docstring)."""
    out: dict[str, Any] = {"start": window["start"], "end": window["end"], "encoding": "q8"}
    wave = window.get("waveform")
    if wave:
        out["waveform"] = {
            "points_per_second": wave["points_per_second"],
            "min": _q8(wave["min"]),
            "max": _q8(wave["max"]),
        }
    timeline = window.get("timeline")
    if timeline:
        encoded: dict[str, Any] = {"frame_rate": timeline["frame_rate"]}
        for name in (*TIMELINE_SERIES, *MATRIX_SERIES):
            if name in timeline:
                encoded[name] = _q8(timeline[name])
        if "bands" in timeline:
            values = timeline["bands"]["values"]
            peak = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                db = 10.0 * np.log10(np.maximum(values, 1e-20) / max(peak, 1e-20))
            db = np.where(np.isfinite(values), np.maximum(db, _BANDS_DB_FLOOR), math.nan)
            encoded["bands"] = {"names": timeline["bands"]["names"], "db": _q8(db)}
        out["timeline"] = encoded
    return out
