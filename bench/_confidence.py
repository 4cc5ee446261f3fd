"""Labelled present/absent material and the ROC AUC of the engine's confidences.

The engine's thresholds (``rhythm.PULSE_THRESHOLD``, ``tonal.KEY_THRESHOLD``,
``rhythm.METER_THRESHOLD``) were chosen on the *tuning* set below. The *held-out* set is
built from the same kinds of material with other tempi, offsets, chords, roots, modulation
rates, noise seeds and meters' tempi, and is never used to choose anything: its AUCs and
error counts are the figures to believe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench._corpus import Clip, click_track, drum_pattern, sine
from engine import frames as frame_features
from engine import rhythm
from engine.pipeline import describe_tempo
from engine.tonal import KEY_THRESHOLD, estimate_key
from tests.engine.engine_signals import (
    GROUPINGS,
    click_ramp,
    drone,
    metered_pattern,
    pad,
    pink_noise,
    rubato_line,
    speech_bursts,
    steady_chords,
    tremolo_chord,
    white_noise,
)
from tests.support.audio import encode

__all__ = ["LABEL_SECONDS", "Labelled", "confidence_tables", "labelled_material", "roc_auc"]

LABEL_SECONDS = 20.0
Chord = tuple[str, str, str]


@dataclass(frozen=True)
class Half:
    """The parameters one half of the labelled set is generated with."""

    tempi: tuple[float, ...]
    # Where the first beat falls; None keeps each generator's own default.
    offset: float | None
    chords: tuple[Chord, ...]
    meter_tempi: tuple[float, ...]
    swing: tuple[float, float]
    syncopated_bpm: float
    ramp: tuple[float, float]
    seeds: tuple[int, ...]
    swells: tuple[float, ...]
    roots: str
    tremolo_hz: tuple[float, ...]
    sine_hz: float


TUNING = Half(
    tempi=(60.0, 75.0, 90.0, 110.0, 128.0, 150.0, 175.0),
    offset=None,
    chords=(("C", "E", "G"), ("A", "C", "E"), ("F", "A", "C"), ("G", "B", "D")),
    meter_tempi=(80.0, 120.0, 160.0),
    swing=(0.17, 100.0),
    syncopated_bpm=110.0,
    ramp=(100.0, 130.0),
    seeds=(0, 1, 2),
    swells=(4.0, 7.0, 10.0),
    roots="CDE",
    tremolo_hz=(2.35, 1.5, 4.0),
    sine_hz=1000.0,
)
HELD_OUT = Half(
    tempi=(66.0, 82.0, 97.0, 118.0, 137.0, 158.0, 184.0),
    offset=0.37,
    chords=(("D", "F#", "A"), ("B", "D", "F#"), ("G", "B", "D"), ("E", "G", "B")),
    meter_tempi=(92.0, 136.0, 172.0),
    swing=(0.12, 124.0),
    syncopated_bpm=96.0,
    ramp=(85.0, 115.0),
    seeds=(11, 12, 13),
    swells=(5.0, 8.5, 12.0),
    roots="FGA",
    tremolo_hz=(3.1, 1.8, 5.2),
    sine_hz=440.0,
)


@dataclass(frozen=True)
class Labelled:
    name: str
    path: Path
    pulse: bool
    # None where the property is not defined for the material (speech has pitch but no key).
    tonal: bool | None
    meter: bool | None
    # The tempo a listener would tap, for generated pulsed material.
    bpm: float | None = None


def _shifted(
    maker: Callable[..., tuple[npt.NDArray[np.float32], list[float]]],
    bpm: float,
    offset: float | None,
) -> npt.NDArray[np.float32]:
    if offset is None:
        return maker(bpm, LABEL_SECONDS)[0]
    return maker(bpm, LABEL_SECONDS, offset=offset)[0]


def labelled_material(workdir: Path, half: Half, clips: Sequence[Clip] = ()) -> list[Labelled]:
    """Pulsed music of many styles, tempi and meters against beatless material, with labels.

    ``clips``: real recordings with annotated beats or a creator's tempo, counted as pulsed.
    """
    items: list[Labelled] = []
    tag = "tune" if half is TUNING else "held"

    def add(
        name: str, signal: npt.NDArray[np.float32], bpm: float | None = None, **labels: bool | None
    ) -> None:
        safe = name.replace("/", "-").replace(" ", "_")
        path = encode(signal, workdir / f"label_{tag}_{safe}.wav")
        items.append(Labelled(name, path, bpm=bpm, **labels))  # type: ignore[arg-type]

    for bpm in half.tempi:
        click = _shifted(click_track, bpm, half.offset)
        add(f"click {bpm:g}", click, bpm, pulse=True, tonal=False, meter=False)
        drums = _shifted(drum_pattern, bpm, half.offset)
        add(f"drums {bpm:g}", drums, bpm, pulse=True, tonal=False, meter=False)
        chords = steady_chords(bpm, LABEL_SECONDS, half.chords)
        add(f"struck chords {bpm:g}", chords, bpm, pulse=True, tonal=True, meter=None)
    for meter in GROUPINGS:
        for bpm in half.meter_tempi:
            if half.offset is None:
                pattern = metered_pattern(bpm, LABEL_SECONDS, meter)[0]
            else:
                pattern = metered_pattern(bpm, LABEL_SECONDS, meter, offset=half.offset)[0]
            add(f"{meter} at {bpm:g}", pattern, bpm, pulse=True, tonal=None, meter=True)
    swing, swing_bpm = half.swing
    swung = metered_pattern(swing_bpm, LABEL_SECONDS, "4/4", swing=swing)[0]
    add(f"swing 4/4 at {swing_bpm:g}", swung, swing_bpm, pulse=True, tonal=None, meter=True)
    bpm = half.syncopated_bpm
    syncopated = metered_pattern(bpm, LABEL_SECONDS, "4/4", syncopation=True)[0]
    add(f"syncopated 4/4 at {bpm:g}", syncopated, bpm, pulse=True, tonal=None, meter=True)
    low, high = half.ramp
    ramp = click_ramp(low, high, 30.0)[0]
    add(f"clicks {low:g} to {high:g}", ramp, (low + high) / 2, pulse=True, tonal=False, meter=False)
    for index, seed in enumerate(half.seeds):
        chord = half.chords[index]
        swelling = pad(chord, LABEL_SECONDS, swell_seconds=half.swells[index])
        add(f"pad {seed}", swelling, pulse=False, tonal=True, meter=False)
        held = drone(half.roots[index], LABEL_SECONDS, seed=seed)
        add(f"drone {seed}", held, pulse=False, tonal=True, meter=False)
        for kind, noise in (("white", white_noise), ("pink", pink_noise)):
            hiss = noise(LABEL_SECONDS, seed=seed)
            add(f"{kind} noise {seed}", hiss, pulse=False, tonal=False, meter=False)
        bursts = speech_bursts(LABEL_SECONDS, seed=seed)
        add(f"speech-like bursts {seed}", bursts, pulse=False, tonal=None, meter=False)
        line = rubato_line(LABEL_SECONDS, seed=seed)
        add(f"rubato line {seed}", line, pulse=False, tonal=True, meter=False)
        rate = half.tremolo_hz[index]
        wobble = tremolo_chord(chord, LABEL_SECONDS, rate)
        add(f"tremolo chord {rate:g} Hz", wobble, pulse=False, tonal=True, meter=False)
    tone = sine(half.sine_hz, LABEL_SECONDS, 0.1)
    add(f"sine {half.sine_hz:g} Hz", tone, pulse=False, tonal=None, meter=False)
    for clip in clips:
        if clip.beats or clip.bpm is not None:
            tonal = True if clip.key else None
            items.append(Labelled(clip.name, clip.path, pulse=True, tonal=tonal, meter=None))
    return items


def roc_auc(present: Sequence[float], absent: Sequence[float]) -> float:
    """Probability that a present item scores above an absent one (ties count half)."""
    high = np.asarray(present, dtype=np.float64)[:, None]
    low = np.asarray(absent, dtype=np.float64)[None, :]
    return float(((high > low).sum() + 0.5 * (high == low).sum()) / (high.size * low.size))


Scores = dict[str, list[tuple[str, bool, float]]]
# Generated pulsed items whose tempo the engine got wrong (over 4 % off), and how many were rated.
TempoMisses = tuple[list[str], int]
Decode = Callable[[Path], tuple[frame_features.FrameFeatures, npt.NDArray[np.float32]]]


def _scores(material: list[Labelled], decode: Decode) -> tuple[Scores, TempoMisses]:
    scores: Scores = {"tempo": [], "key": [], "meter": []}
    misses: list[str] = []
    rated = 0
    for item in material:
        frames, key_signal = decode(item.path)
        tempo, _ = describe_tempo(frames, frame_features.FRAME_RATE)
        if item.bpm is not None:
            rated += 1
            if tempo.bpm is None or abs(tempo.bpm - item.bpm) > 0.04 * item.bpm:
                found = "absent" if tempo.bpm is None else f"{tempo.bpm:.1f}"
                misses.append(f"{item.name} (read {found})")
        scores["tempo"].append((item.name, item.pulse, tempo.confidence))
        if item.tonal is not None:
            scores["key"].append((item.name, item.tonal, estimate_key(key_signal).strength))
        if item.meter is not None and tempo.bpm is not None:
            scores["meter"].append((item.name, item.meter, tempo.meter_confidence or 0.0))
    return scores, (misses, rated)


THRESHOLDS = {
    "tempo": ("tempo confidence", rhythm.PULSE_THRESHOLD),
    "key": ("key strength", KEY_THRESHOLD),
    "meter": ("meter confidence", rhythm.METER_THRESHOLD),
}


def confidence_tables(decode: Decode, workdir: Path, clips: Sequence[Clip]) -> list[str]:
    tuning = labelled_material(workdir, TUNING, clips)
    held_out = labelled_material(workdir, HELD_OUT)
    tuned, tune_misses = _scores(tuning, decode)
    scored, held_misses = _scores(held_out, decode)
    lines = [
        "## Confidences: present against absent",
        "",
        "Two labelled sets of the same kinds of material. Pulsed: clicks, drums and struck "
        "chords at seven tempi; drums and bass in 2/4, 3/4, 4/4, 6/8 and 7/8 at three tempi; "
        "swing, syncopation, a tempo ramp. Absent: pads, drones, white and pink noise, "
        "speech-like formant bursts, rubato lines, tremolo chords and a sine (20 s each). "
        "Key: tonal material against noise, clicks and drums. Meter: patterns whose bar opens "
        "with bass and an accented kick against equal beats (clicks, a kick on every beat) and "
        "beatless material that passed the pulse gate.",
        "",
        f"The thresholds were chosen on the **tuning** set ({len(tuning)} items: tempi "
        f"{', '.join(f'{b:g}' for b in TUNING.tempi)} BPM, noise seeds "
        f"{', '.join(map(str, TUNING.seeds))}, chords on C, roots C/D/E, and the real clips "
        f"with beat or tempo truth). The **held-out** set ({len(held_out)} items, generated "
        "only) uses other tempi "
        f"({', '.join(f'{b:g}' for b in HELD_OUT.tempi)} BPM), beat offsets, chords (on D), "
        "drone roots, swell lengths, tremolo rates, noise and speech seeds, meter tempi, swing "
        "amount and ramp; nothing in the engine was chosen on it. ROC AUC: the chance that a "
        "present item scores above an absent one. The engine reports a property absent "
        "below its threshold; *kept* and *refused* count the held-out items on the right "
        "side of it.",
        "",
        "| confidence | threshold | tuning AUC (present/absent) | held-out present "
        "| held-out absent | **held-out AUC** | lowest present | highest absent "
        "| present kept | absent refused |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (label, threshold) in THRESHOLDS.items():
        tune_present = [v for _, truth, v in tuned[name] if truth]
        tune_absent = [v for _, truth, v in tuned[name] if not truth]
        present = [(v, n) for n, truth, v in scored[name] if truth]
        absent = [(v, n) for n, truth, v in scored[name] if not truth]
        if not present or not absent or not tune_present or not tune_absent:
            continue
        low, high = min(present), max(absent)
        kept = sum(v >= threshold for v, _ in present)
        refused = sum(v < threshold for v, _ in absent)
        auc = roc_auc([v for v, _ in present], [v for v, _ in absent])
        lines.append(
            f"| {label} | {threshold:g} "
            f"| {roc_auc(tune_present, tune_absent):.3f} "
            f"({len(tune_present)}/{len(tune_absent)}) "
            f"| {len(present)} | {len(absent)} | **{auc:.3f}** "
            f"| {low[0]:.2f} ({low[1]}) | {high[0]:.2f} ({high[1]}) "
            f"| {kept}/{len(present)} | {refused}/{len(absent)} |"
        )
    lines.append("")
    for label, (misses, rated) in (("tuning", tune_misses), ("held-out", held_misses)):
        wrong = "; wrong: " + ", ".join(misses) if misses else ""
        lines.append(
            f"Tempo on the generated pulsed items of the {label} set: "
            f"{rated - len(misses)}/{rated} within 4 %{wrong}."
        )
        lines.append("")
    return lines
