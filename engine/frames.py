"""Frame-wise spectral descriptors computed incrementally on a streamed mono signal.

The analysis grid is fixed: 44 100 Hz input, Hann frames of 2048 samples every 1024 samples,
so the timeline runs at ``FRAME_RATE = 44100 / 1024 ≈ 43.07`` frames per second. The signal is
padded with half a frame of silence at the start, which centres frame ``i`` on
``i / FRAME_RATE`` seconds.

Per frame this produces RMS, spectral centroid, spectral flux (the onset envelope) over the
whole spectrum, below 200 Hz and from 200 Hz to 4 kHz, the same two bands' flux of the plain
(uncompressed) magnitude, a 12-bin chroma, RMS amplitude in eight fixed frequency bands and 13
MFCCs. Each descriptor is a plain function of a block of magnitude spectra so it can be tested
on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

SAMPLE_RATE = 44100
FRAME_SIZE = 2048
HOP_SIZE = 1024
FRAME_RATE = SAMPLE_RATE / HOP_SIZE

BAND_EDGES_HZ: tuple[float, ...] = (20, 60, 150, 400, 1000, 2500, 6000, 12000, 20000)
BAND_NAMES: tuple[str, ...] = (
    "sub_bass",
    "bass",
    "low_mid",
    "mid",
    "upper_mid",
    "presence",
    "brilliance",
    "air",
)
PITCH_CLASSES: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

_CHROMA_MIN_HZ = 55.0
_CHROMA_MAX_HZ = 5000.0
_MEL_BANDS = 40
_MEL_MIN_HZ = 20.0
_MEL_MAX_HZ = 11025.0
MFCC_COEFFICIENTS = 13
# Compression factor for the log-magnitude flux; makes the onset envelope respond to soft
# onsets as well as loud ones (as in Böck & Widmer's SuperFlux).
_FLUX_LOG_GAIN = 1000.0
LOW_BAND_MAX_HZ = 200.0
# Snare, chords and melody; above it hi-hats and cymbals, which often mark the level below
# the beat.
MID_BAND_MAX_HZ = 4000.0
_LOG_FLOOR = 1e-10

_FREQS = np.fft.rfftfreq(FRAME_SIZE, 1.0 / SAMPLE_RATE)
_WINDOW = np.hanning(FRAME_SIZE + 1)[:-1].astype(np.float32)
# Scaling the Hann-windowed spectrum this way makes a full-scale sine read as amplitude 1.
_WINDOW_GAIN = float(np.sum(_WINDOW)) / 2.0


def _chroma_matrix() -> FloatArray:
    matrix = np.zeros((12, _FREQS.size), dtype=np.float32)
    valid = (_FREQS >= _CHROMA_MIN_HZ) & (_FREQS <= _CHROMA_MAX_HZ)
    midi = 69.0 + 12.0 * np.log2(_FREQS[valid] / 440.0)
    # Each bin spreads over its two nearest pitch classes so tuning offsets do not drop energy.
    lower = np.floor(midi)
    frac = midi - lower
    cols = np.nonzero(valid)[0]
    lower_pc = (lower.astype(int)) % 12
    upper_pc = (lower_pc + 1) % 12
    np.add.at(matrix, (lower_pc, cols), (1.0 - frac).astype(np.float32))
    np.add.at(matrix, (upper_pc, cols), frac.astype(np.float32))
    return matrix


def _band_matrix() -> FloatArray:
    matrix = np.zeros((len(BAND_NAMES), _FREQS.size), dtype=np.float32)
    for index in range(len(BAND_NAMES)):
        low, high = BAND_EDGES_HZ[index], BAND_EDGES_HZ[index + 1]
        matrix[index, (low <= _FREQS) & (high > _FREQS)] = 1.0
    return matrix


def _mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_matrix() -> FloatArray:
    edges_mel = np.linspace(
        _mel(np.array(_MEL_MIN_HZ)), _mel(np.array(_MEL_MAX_HZ)), _MEL_BANDS + 2
    )
    edges_hz = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    matrix = np.zeros((_MEL_BANDS, _FREQS.size), dtype=np.float32)
    for band in range(_MEL_BANDS):
        low, centre, high = edges_hz[band], edges_hz[band + 1], edges_hz[band + 2]
        rising = (_FREQS - low) / (centre - low)
        falling = (high - _FREQS) / (high - centre)
        matrix[band] = np.clip(np.minimum(rising, falling), 0.0, None)
    return matrix


def _dct_matrix() -> FloatArray:
    n = np.arange(_MEL_BANDS)
    k = np.arange(MFCC_COEFFICIENTS)[:, None]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * _MEL_BANDS)) * np.sqrt(2.0 / _MEL_BANDS)
    basis[0] /= np.sqrt(2.0)
    return np.asarray(basis, dtype=np.float32)


_LOW_BINS = int(np.searchsorted(_FREQS, LOW_BAND_MAX_HZ))
_MID_BINS = int(np.searchsorted(_FREQS, MID_BAND_MAX_HZ))
_CHROMA = _chroma_matrix()
_BANDS = _band_matrix()
_BAND_BIN_COUNTS = np.maximum(_BANDS.sum(axis=1), 1.0)
_MELS = _mel_matrix()
_DCT = _dct_matrix()


def frame_rms(frames: FloatArray) -> FloatArray:
    return np.asarray(np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1)), np.float32)


def magnitude_spectra(frames: FloatArray) -> FloatArray:
    spectra = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) / _WINDOW_GAIN
    return spectra.astype(np.float32)


def spectral_centroid(spectra: FloatArray) -> FloatArray:
    """Centroid in Hz; NaN for frames of digital silence, where it is undefined."""
    total = spectra.sum(axis=1)
    weighted = spectra @ _FREQS.astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weighted / total, np.nan).astype(np.float32)


def log_spectra(spectra: FloatArray) -> FloatArray:
    return np.asarray(np.log1p(_FLUX_LOG_GAIN * spectra), dtype=np.float32)


def spectral_flux(log_spec: FloatArray, previous: FloatArray | None) -> FloatArray:
    """Half-wave rectified rise of log magnitude (or of plain magnitude, given plain spectra)
    against the previous frame.

    The reference frame is max-filtered across three bins so vibrato and slight pitch drift do
    not read as onsets.
    """
    reference = np.empty_like(log_spec)
    reference[1:] = log_spec[:-1]
    reference[0] = log_spec[0] if previous is None else previous
    widened = np.maximum(reference, np.roll(reference, 1, axis=1))
    widened = np.maximum(widened, np.roll(reference, -1, axis=1))
    rise = np.clip(log_spec - widened, 0.0, None)
    return np.asarray(rise.sum(axis=1), dtype=np.float32)


def chroma(spectra: FloatArray) -> FloatArray:
    """Pitch-class energy per frame, scaled so each frame's largest bin is 1 (zeros in silence)."""
    energy = np.square(spectra) @ _CHROMA.T
    peak = energy.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(peak > 0, energy / peak, 0.0).astype(np.float32)


def band_rms(spectra: FloatArray) -> FloatArray:
    """RMS amplitude (full scale = 1) of the spectrum inside each of the eight bands."""
    power = np.square(spectra) @ _BANDS.T
    return np.asarray(np.sqrt(power / 2.0), dtype=np.float32)


def mfcc(spectra: FloatArray) -> FloatArray:
    mel_energy = np.square(spectra) @ _MELS.T
    return np.asarray(np.log(mel_energy + _LOG_FLOOR) @ _DCT.T, dtype=np.float32)


@dataclass(frozen=True)
class FrameFeatures:
    rms: FloatArray
    spectral_centroid: FloatArray
    spectral_flux: FloatArray
    low_band_flux: FloatArray
    mid_band_flux: FloatArray
    # Flux of the plain magnitude below 200 Hz and from 200 Hz to 4 kHz: the log flux makes a
    # soft hi-hat count nearly as much as a kick, while this one follows how loud the attack is.
    low_band_magnitude_flux: FloatArray
    mid_band_magnitude_flux: FloatArray
    chroma: FloatArray
    bands: FloatArray
    mfcc: FloatArray

    @property
    def frame_count(self) -> int:
        return int(self.rms.size)


class FrameAnalyzer:
    """Accumulates frame descriptors over consecutive mono blocks at 44.1 kHz."""

    def __init__(self, *, with_spectral: bool = True) -> None:
        self._with_spectral = with_spectral
        self._pending: FloatArray = np.zeros(FRAME_SIZE // 2, dtype=np.float32)
        self._previous_log: FloatArray | None = None
        self._previous_magnitude: FloatArray | None = None
        self._samples_seen = 0
        self._frames_done = 0
        names = (
            "rms",
            "centroid",
            "flux",
            "low_flux",
            "mid_flux",
            "low_magnitude_flux",
            "mid_magnitude_flux",
            "chroma",
            "bands",
            "mfcc",
        )
        self._parts: dict[str, list[FloatArray]] = {name: [] for name in names}

    def push(self, mono: FloatArray) -> None:
        self._samples_seen += mono.size
        self._append(mono)

    def _append(self, mono: FloatArray) -> None:
        buffer = np.concatenate([self._pending, mono.astype(np.float32, copy=False)])
        count = 0 if buffer.size < FRAME_SIZE else 1 + (buffer.size - FRAME_SIZE) // HOP_SIZE
        if count:
            self._process(buffer, count)
            self._frames_done += count
        self._pending = buffer[count * HOP_SIZE :].copy()

    def finish(self) -> FrameFeatures:
        # One frame is centred on every hop that starts inside the signal; the zero padding
        # after the end mirrors the half frame of padding before the start.
        wanted = -(-self._samples_seen // HOP_SIZE)
        missing = wanted - self._frames_done
        if missing > 0:
            needed = (missing - 1) * HOP_SIZE + FRAME_SIZE - self._pending.size
            self._append(np.zeros(max(needed, 0), dtype=np.float32))
        parts = self._parts

        def joined(name: str, width: int) -> FloatArray:
            if not parts[name]:
                return np.zeros((0, width) if width else 0, dtype=np.float32)
            return np.concatenate(parts[name]).astype(np.float32, copy=False)

        return FrameFeatures(
            rms=joined("rms", 0),
            spectral_centroid=joined("centroid", 0),
            spectral_flux=joined("flux", 0),
            low_band_flux=joined("low_flux", 0),
            mid_band_flux=joined("mid_flux", 0),
            low_band_magnitude_flux=joined("low_magnitude_flux", 0),
            mid_band_magnitude_flux=joined("mid_magnitude_flux", 0),
            chroma=joined("chroma", 12),
            bands=joined("bands", len(BAND_NAMES)),
            mfcc=joined("mfcc", MFCC_COEFFICIENTS),
        )

    def _process(self, buffer: FloatArray, count: int) -> None:
        frames = np.lib.stride_tricks.as_strided(
            buffer,
            shape=(count, FRAME_SIZE),
            strides=(buffer.strides[0] * HOP_SIZE, buffer.strides[0]),
            writeable=False,
        )
        self._parts["rms"].append(frame_rms(frames))
        spectra = magnitude_spectra(frames)
        log_spec = log_spectra(spectra)
        self._parts["flux"].append(spectral_flux(log_spec, self._previous_log))
        previous_low = None if self._previous_log is None else self._previous_log[:_LOW_BINS]
        self._parts["low_flux"].append(spectral_flux(log_spec[:, :_LOW_BINS], previous_low))
        previous_mid = (
            None if self._previous_log is None else self._previous_log[_LOW_BINS:_MID_BINS]
        )
        self._parts["mid_flux"].append(
            spectral_flux(log_spec[:, _LOW_BINS:_MID_BINS], previous_mid)
        )
        self._previous_log = log_spec[-1].copy()
        previous = self._previous_magnitude
        for name, bins in (
            ("low_magnitude_flux", slice(0, _LOW_BINS)),
            ("mid_magnitude_flux", slice(_LOW_BINS, _MID_BINS)),
        ):
            reference = None if previous is None else previous[bins]
            self._parts[name].append(spectral_flux(spectra[:, bins], reference))
        self._previous_magnitude = spectra[-1].copy()
        self._parts["centroid"].append(spectral_centroid(spectra))
        if self._with_spectral:
            self._parts["chroma"].append(chroma(spectra))
            self._parts["bands"].append(band_rms(spectra))
            self._parts["mfcc"].append(mfcc(spectra))
