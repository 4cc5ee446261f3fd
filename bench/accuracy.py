"""Accuracy of the engine on signals with known truth and on annotated real recordings.

Run from the repository root::

    .venv/bin/python -m bench.accuracy           # print the tables
    .venv/bin/python -m bench.accuracy --write   # also regenerate docs/accuracy.md

Beside every engine figure stands bare Essentia with its defaults: RhythmExtractor2013
(multifeature) for tempo and beats, KeyExtractor (default profile) for key,
OnsetDetection (hfc) + Onsets for onsets, LoudnessEBUR128 for loudness. Bare Essentia reads
our own bench files with its MonoLoader; the engine decodes them the way it decodes uploads.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import essentia
import essentia.standard as es
import numpy as np
import numpy.typing as npt

from bench._corpus import (
    SR,
    Clip,
    chord_progression,
    click_track,
    drum_pattern,
    encode,
    f_measure,
    onset_f_measure,
    real_clips,
    sine,
)
from engine import frames as frame_features
from engine import rhythm
from engine.decode import iter_pcm_blocks, probe_audio, sniff_audio_format
from engine.pipeline import analyze, describe_tempo
from engine.tonal import KEY_PROFILE, KEY_THRESHOLD, Decimator, estimate_key, normalise_key_name
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

try:
    import librosa
except ImportError:  # the bench extra is optional; its columns then read "-"
    librosa = None  # type: ignore[assignment]  # a missing module is None, checked before use

essentia.log.infoActive = False

COMMAND = ".venv/bin/python -m bench.accuracy --write"
DOC = Path(__file__).resolve().parents[1] / "docs" / "accuracy.md"
TEMPO_BPMS = (60.0, 70.0, 80.0, 90.0, 100.0, 110.0, 120.0, 130.0, 140.0, 150.0, 165.0, 180.0)
TEMPO_SECONDS = 20.0
# Every profile Essentia's Key offers except weichai, which fails on minor keys.
PROFILES = (
    "bgate",
    "braw",
    "edma",
    "edmm",
    "temperley",
    "temperley2005",
    "krumhansl",
    "shaath",
    "noland",
    "gomez",
    "diatonic",
    "tonictriad",
    "thpcp",
)
_PITCHES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
EBU_CASES: tuple[tuple[str, Sequence[tuple[float, float]], float | None, float | None], ...] = (
    # name, (seconds, dBFS per channel) segments, expected integrated LUFS, expected LRA
    ("Tech 3341 case 1: 1 kHz, -23 dBFS, 20 s", ((20.0, -23.0),), -23.0, None),
    ("Tech 3341 case 2: 1 kHz, -33 dBFS, 20 s", ((20.0, -33.0),), -33.0, None),
    (
        "Tech 3341 case 3: -36/-23/-36 dBFS",
        ((10.0, -36.0), (60.0, -23.0), (10.0, -36.0)),
        -23.0,
        None,
    ),
    (
        "Tech 3341 case 4: -72/-36/-23/-36/-72 dBFS",
        ((10.0, -72.0), (10.0, -36.0), (60.0, -23.0), (10.0, -36.0), (10.0, -72.0)),
        -23.0,
        None,
    ),
    ("Tech 3342 case 1: -20/-30 dBFS", ((20.0, -20.0), (20.0, -30.0)), None, 10.0),
    ("Tech 3342 case 2: -20/-15 dBFS", ((20.0, -20.0), (20.0, -15.0)), None, 5.0),
    ("Tech 3342 case 3: -40/-20 dBFS", ((20.0, -40.0), (20.0, -20.0)), None, 20.0),
)


@dataclass(frozen=True)
class Decoded:
    frames: frame_features.FrameFeatures
    key_signal: npt.NDArray[np.float32]


def decode(path: Path) -> Decoded:
    """The engine's own decode and frame analysis, kept so several variants can share it."""
    with path.open("rb") as handle:
        container = sniff_audio_format(handle.read(64))
    assert container is not None, path
    probe = probe_audio(path, input_format=container)
    channels = min(probe.channels, 2)
    analyzer = frame_features.FrameAnalyzer(with_spectral=False)
    # The bench runs the engine's own stages on one decode; beats need the full pipeline's
    # octave guard and pulse gate, which ``describe_tempo`` applies.
    decimator = Decimator()
    for block in iter_pcm_blocks(path, input_format=container, sample_rate=SR, channels=channels):
        mono = block.mean(axis=1, dtype=np.float32) if channels > 1 else block[:, 0]
        analyzer.push(mono)
        decimator.push(mono)
    return Decoded(analyzer.finish(), decimator.finish())


def essentia_audio(path: Path) -> npt.NDArray[np.float32]:
    return np.asarray(es.MonoLoader(filename=str(path), sampleRate=SR)())


def essentia_rhythm(audio: npt.NDArray[np.float32]) -> tuple[float, list[float]]:
    bpm, beats, _, _, _ = es.RhythmExtractor2013(method="multifeature")(audio)
    return float(bpm), [float(b) for b in beats]


def essentia_key(audio: npt.NDArray[np.float32]) -> tuple[str, str]:
    key, scale, _ = es.KeyExtractor()(audio)
    return normalise_key_name(str(key)), str(scale)


def essentia_onsets(audio: npt.NDArray[np.float32]) -> list[float]:
    window, fft, polar = es.Windowing(type="hann"), es.FFT(), es.CartesianToPolar()
    detection = es.OnsetDetection()
    curve = []
    for frame in es.FrameGenerator(audio, frameSize=1024, hopSize=512):
        magnitude, phase = polar(fft(window(frame)))
        curve.append(detection(magnitude, phase))
    onsets = es.Onsets()(essentia.array([curve]), [1])
    return [float(t) for t in onsets]


def engine_onsets(decoded: Decoded) -> list[float]:
    rate = frame_features.FRAME_RATE
    times, _ = rhythm.detect_onsets(rhythm.onset_envelope(decoded.frames.spectral_flux, rate), rate)
    return [float(t) for t in times]


def _tempo_ok(estimate: float | None, truth: float) -> bool:
    return estimate is not None and abs(estimate - truth) <= 0.04 * truth


def _bpm(value: float | None) -> str:
    return "absent" if value is None else f"{value:.1f}"


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


@dataclass
class Tables:
    lines: list[str]

    def add(self, *rows: str) -> None:
        self.lines.extend(rows)


def _key_name(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


def synthetic_tempo(tables: Tables, workdir: Path) -> None:
    tables.add(
        "## Tempo and beats on generated patterns",
        "",
        f"{TEMPO_SECONDS:g} s each. *click*: a noise burst with a low thump on every beat. "
        "*drums*: kick on every beat, snare on 2 and 4, hi-hat on every eighth note (at slow "
        "tempi the eighth-note hats invite a double-tempo answer). Tempo counts as right "
        "within 4 %; beat F-measure at ±70 ms. *guard off*: the engine without its tempo octave "
        "guard.",
        "",
        "| signal | truth BPM | engine BPM | ok | F | guard off BPM | ok | F "
        "| Essentia BPM | ok | F |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    )
    totals = {"engine": [0, 0.0], "off": [0, 0.0], "essentia": [0, 0.0]}
    count = 0
    for kind, bpm in itertools.product(("click", "drums"), TEMPO_BPMS):
        maker = click_track if kind == "click" else drum_pattern
        signal, truth_beats = maker(bpm, TEMPO_SECONDS)
        path = encode(signal, workdir / f"{kind}_{bpm:g}.wav")
        decoded = decode(path)
        cells = []
        for name, guard in (("engine", True), ("off", False)):
            tempo, _ = describe_tempo(decoded.frames, frame_features.FRAME_RATE, octave_guard=guard)
            f = f_measure(list(tempo.beats), truth_beats)
            ok = _tempo_ok(tempo.bpm, bpm)
            totals[name][0] += ok
            totals[name][1] += f
            cells += [_bpm(tempo.bpm), _mark(ok), f"{f:.2f}"]
        essentia_bpm, essentia_beats = essentia_rhythm(essentia_audio(path))
        f = f_measure(essentia_beats, truth_beats)
        ok = _tempo_ok(essentia_bpm, bpm)
        totals["essentia"][0] += ok
        totals["essentia"][1] += f
        cells += [f"{essentia_bpm:.1f}", _mark(ok), f"{f:.2f}"]
        count += 1
        tables.add(f"| {kind} | {bpm:g} | " + " | ".join(cells) + " |")
    summary = " | ".join(
        f"{totals[n][0]}/{count} | | {totals[n][1] / count:.2f}"
        for n in ("engine", "off", "essentia")
    )
    tables.add(f"| **all** | | {summary} |", "")


# Roman-numeral progressions as (semitones above the tonic, triad quality). The cadences
# state the key plainly; the turnaround touches the tonic once among three other chords, and
# natural minor lacks the leading tone that separates minor from its relative major.
PROGRESSIONS: dict[str, tuple[str, tuple[tuple[int, str], ...]]] = {
    "I-IV-V-I": ("major", ((0, "major"), (5, "major"), (7, "major"), (0, "major"))),
    "I-vi-ii-V": ("major", ((0, "major"), (9, "minor"), (2, "minor"), (7, "major"))),
    "i-iv-V-i": ("minor", ((0, "minor"), (5, "minor"), (7, "major"), (0, "minor"))),
    "i-iv-v-i": ("minor", ((0, "minor"), (5, "minor"), (7, "minor"), (0, "minor"))),
}


def _progression(tonic: str, degrees: tuple[tuple[int, str], ...]) -> list[list[str]]:
    root = _PITCHES.index(tonic)
    chords = []
    for degree, quality in degrees:
        base = (root + degree) % 12
        third = 4 if quality == "major" else 3
        chords.append([_PITCHES[base], _PITCHES[(base + third) % 12], _PITCHES[(base + 7) % 12]])
    return chords * 2


def keyed_material(workdir: Path) -> list[tuple[str, Path, tuple[str, str], str]]:
    material = []
    for name, (scale, degrees) in PROGRESSIONS.items():
        for tonic in _PITCHES:
            signal = chord_progression(_progression(tonic, degrees))
            path = encode(signal, workdir / f"chords_{tonic}_{name}.wav")
            material.append((f"{name} in {tonic} {scale}", path, (tonic, scale), "synthetic"))
    for clip in real_clips():
        if clip.key is not None:
            material.append((clip.name, clip.path, clip.key, "real"))
    return material


def key_tables(tables: Tables, workdir: Path) -> None:
    material = keyed_material(workdir)
    decoded = {name: decode(path).key_signal for name, path, _, _ in material}
    scores: dict[str, dict[str, int]] = {}
    answers: dict[str, dict[str, tuple[str, str]]] = {}
    for profile in PROFILES:
        scores[profile] = {"synthetic": 0, "real": 0}
        answers[profile] = {}
        for name, _, truth, kind in material:
            estimate = estimate_key(decoded[name], profile=profile)
            # The profile's own answer, whether or not it passes the tonal threshold.
            answer = estimate.candidate or ("-", "-")
            answers[profile][name] = answer
            scores[profile][kind] += answer == truth
    synthetic_count = sum(1 for m in material if m[3] == "synthetic")
    real_count = len(material) - synthetic_count
    ranked = sorted(
        PROFILES, key=lambda p: (-(scores[p]["synthetic"] + scores[p]["real"]), -scores[p]["real"])
    )
    tables.add(
        "## Key profile, chosen by measurement",
        "",
        f"Every Essentia key profile on the engine's key signal: {synthetic_count} generated "
        f"chord progressions ({', '.join(PROGRESSIONS)} in all twelve keys, additive-synth "
        f"chords) and the {real_count} real clips with a known key. "
        f"Best first. The engine uses **{KEY_PROFILE}**.",
        "",
        f"| profile | generated ({synthetic_count}) | real ({real_count}) | total |",
        "|---|---|---|---|",
    )
    for profile in ranked:
        s, r = scores[profile]["synthetic"], scores[profile]["real"]
        marker = f"**{profile}**" if profile == KEY_PROFILE else profile
        tables.add(f"| {marker} | {s} | {r} | {s + r} |")
    tables.add("")
    tables.add(
        "## Key",
        "",
        f"Engine ({KEY_PROFILE} profile on its 11 025 Hz key signal) beside bare Essentia "
        "KeyExtractor with its defaults on the 44.1 kHz signal.",
        "",
        "| material | truth | engine | ok | Essentia | ok |",
        "|---|---|---|---|---|---|",
    )
    engine_right = essentia_right = 0
    for name, path, truth, kind in material:
        engine_answer = answers[KEY_PROFILE][name]
        essentia_answer = essentia_key(essentia_audio(path))
        engine_right += engine_answer == truth
        essentia_right += essentia_answer == truth
        label = name if kind == "synthetic" else f"{name} (real)"
        tables.add(
            f"| {label} | {_key_name(truth)} | {_key_name(engine_answer)} "
            f"| {_mark(engine_answer == truth)} | {_key_name(essentia_answer)} "
            f"| {_mark(essentia_answer == truth)} |"
        )
    tables.add(
        f"| **all** | | {engine_right}/{len(material)} | | {essentia_right}/{len(material)} | |",
        "",
    )


def _ebu_signal(segments: Sequence[tuple[float, float]]) -> npt.NDArray[np.float32]:
    parts = [sine(1000.0, seconds, 10 ** (dbfs / 20)) for seconds, dbfs in segments]
    mono = np.concatenate(parts)
    return np.stack([mono, mono], axis=1)


def loudness_table(tables: Tables, workdir: Path) -> None:
    tables.add(
        "## Loudness on EBU reference signals",
        "",
        "Stereo 1 kHz sines as in EBU Tech 3341 (integrated loudness, tolerance ±0.1 LU) and "
        "Tech 3342 (loudness range, tolerance ±1 LU), written as 16-bit stereo WAV.",
        "",
        "| signal | expected | engine | ok | Essentia LoudnessEBUR128 | ok |",
        "|---|---|---|---|---|---|",
    )
    for index, (name, segments, integrated, loudness_range) in enumerate(EBU_CASES):
        signal = _ebu_signal(segments)
        path = encode(signal, workdir / f"ebu_{index}.wav")
        # A full default analysis: the tone has no pulse and no key, which must not cost it
        # its loudness.
        result = analyze(path)
        assert result.loudness is not None
        _, _, es_integrated, es_range = es.LoudnessEBUR128(sampleRate=float(SR))(
            np.ascontiguousarray(signal, dtype=np.float32)
        )
        if integrated is not None:
            mine, theirs, tolerance, unit = (
                result.loudness.integrated_lufs,
                float(es_integrated),
                0.1,
                "LUFS",
            )
            expected = integrated
        else:
            assert loudness_range is not None
            mine, theirs, tolerance, unit = result.loudness.range_lu, float(es_range), 1.0, "LU"
            expected = loudness_range
        mine_ok = _mark(mine is not None and abs(mine - expected) <= tolerance)
        theirs_ok = _mark(abs(theirs - expected) <= tolerance)
        tables.add(
            f"| {name} | {expected:g} {unit} | {'absent' if mine is None else f'{mine:.2f}'} "
            f"| {mine_ok} "
            f"| {theirs:.2f} | {theirs_ok} |"
        )
    tables.add("")


def real_rhythm_table(tables: Tables, clips: list[Clip], decoded: dict[str, Decoded]) -> None:
    tables.add(
        "## Tempo and beats on real recordings",
        "",
        "Truth tempo: the annotated beat rate (GuitarSet, Candombe) or the creator's tempo "
        "(trumpet). Beat F-measure at ±70 ms against the annotated beats.",
        "",
        "| clip | truth BPM | engine BPM | F | guard off BPM | F | Essentia BPM | F |",
        "|---|---|---|---|---|---|---|---|",
    )
    for clip in clips:
        if clip.bpm is None:
            continue
        truth = clip.bpm
        if clip.beats:
            truth = 60.0 / ((clip.beats[-1] - clip.beats[0]) / (len(clip.beats) - 1))
        cells = []
        for guard in (True, False):
            tempo, _ = describe_tempo(
                decoded[clip.name].frames, frame_features.FRAME_RATE, octave_guard=guard
            )
            f = f"{f_measure(list(tempo.beats), list(clip.beats)):.2f}" if clip.beats else "-"
            cells += [_bpm(tempo.bpm) + ("" if _tempo_ok(tempo.bpm, truth) else " ✗"), f]
        bpm, beats = essentia_rhythm(essentia_audio(clip.path))
        f = f"{f_measure(beats, list(clip.beats)):.2f}" if clip.beats else "-"
        cells += [f"{bpm:.1f}" + ("" if _tempo_ok(bpm, truth) else " ✗"), f]
        tables.add(f"| {clip.name} | {truth:.1f} | " + " | ".join(cells) + " |")
    tables.add("", "✗ marks a tempo more than 4 % from the truth.", "")


def real_onset_table(tables: Tables, clips: list[Clip], decoded: dict[str, Decoded]) -> None:
    tables.add(
        "## Onsets on real recordings",
        "",
        "F-measure at ±50 ms. GuitarSet: the note onsets of all six strings, onsets closer "
        "than 30 ms merged (one strum). vocadito: each of the two annotators separately.",
        "",
        "| clip | annotation | reference onsets | engine F | Essentia F |",
        "|---|---|---|---|---|",
    )
    for clip in clips:
        if not clip.onsets:
            continue
        mine = engine_onsets(decoded[clip.name])
        theirs = essentia_onsets(essentia_audio(clip.path))
        for index, reference in enumerate(clip.onsets):
            label = "note onsets" if len(clip.onsets) == 1 else f"annotator {index + 1}"
            tables.add(
                f"| {clip.name} | {label} | {len(reference)} "
                f"| {onset_f_measure(mine, reference):.2f} "
                f"| {onset_f_measure(theirs, reference):.2f} |"
            )
    tables.add("")


_CHORDS = (("C", "E", "G"), ("A", "C", "E"), ("F", "A", "C"), ("G", "B", "D"))
LABEL_SECONDS = 20.0


@dataclass(frozen=True)
class Labelled:
    name: str
    path: Path
    pulse: bool
    # None where the property is not defined for the material (speech has pitch but no key).
    tonal: bool | None
    meter: bool | None


def labelled_material(workdir: Path, clips: list[Clip]) -> list[Labelled]:
    """Pulsed music of many styles, tempi and meters against beatless material, with labels.

    Real clips with annotated beats or a creator's tempo count as pulsed; the choir and the
    solo singer are left out (no beat annotation either way).
    """
    items: list[Labelled] = []

    def add(name: str, signal: npt.NDArray[np.float32], **labels: bool | None) -> None:
        path = encode(signal, workdir / f"label_{name.replace('/', '-')}.wav")
        items.append(Labelled(name, path, **labels))  # type: ignore[arg-type]

    for bpm in (60.0, 75.0, 90.0, 110.0, 128.0, 150.0, 175.0):
        add(
            f"click {bpm:g}",
            click_track(bpm, LABEL_SECONDS)[0],
            pulse=True,
            tonal=False,
            meter=False,
        )
        add(
            f"drums {bpm:g}",
            drum_pattern(bpm, LABEL_SECONDS)[0],
            pulse=True,
            tonal=False,
            meter=False,
        )
        add(
            f"struck chords {bpm:g}",
            steady_chords(bpm, LABEL_SECONDS, _CHORDS),
            pulse=True,
            tonal=True,
            meter=None,
        )
    for meter in GROUPINGS:
        for bpm in (80.0, 120.0, 160.0):
            add(
                f"{meter} at {bpm:g}",
                metered_pattern(bpm, LABEL_SECONDS, meter)[0],
                pulse=True,
                tonal=None,
                meter=True,
            )
    add(
        "swing 4/4 at 100",
        metered_pattern(100.0, LABEL_SECONDS, "4/4", swing=0.17)[0],
        pulse=True,
        tonal=None,
        meter=True,
    )
    add(
        "syncopated 4/4 at 110",
        metered_pattern(110.0, LABEL_SECONDS, "4/4", syncopation=True)[0],
        pulse=True,
        tonal=None,
        meter=True,
    )
    add(
        "clicks 100 to 130", click_ramp(100.0, 130.0, 30.0)[0], pulse=True, tonal=False, meter=False
    )
    for seed in range(3):
        add(
            f"pad {seed}",
            pad(_CHORDS[seed], LABEL_SECONDS, swell_seconds=4.0 + 3 * seed),
            pulse=False,
            tonal=True,
            meter=False,
        )
        add(
            f"drone {seed}",
            drone("CDE"[seed], LABEL_SECONDS, seed=seed),
            pulse=False,
            tonal=True,
            meter=False,
        )
        add(
            f"white noise {seed}",
            white_noise(LABEL_SECONDS, seed=seed),
            pulse=False,
            tonal=False,
            meter=False,
        )
        add(
            f"pink noise {seed}",
            pink_noise(LABEL_SECONDS, seed=seed),
            pulse=False,
            tonal=False,
            meter=False,
        )
        add(
            f"speech-like bursts {seed}",
            speech_bursts(LABEL_SECONDS, seed=seed),
            pulse=False,
            tonal=None,
            meter=False,
        )
        add(
            f"rubato line {seed}",
            rubato_line(LABEL_SECONDS, seed=seed),
            pulse=False,
            tonal=True,
            meter=False,
        )
        rate = (2.35, 1.5, 4.0)[seed]
        add(
            f"tremolo chord {rate:g} Hz",
            tremolo_chord(_CHORDS[seed], LABEL_SECONDS, rate),
            pulse=False,
            tonal=True,
            meter=False,
        )
    add("sine 1 kHz", sine(1000.0, LABEL_SECONDS, 0.1), pulse=False, tonal=None, meter=False)
    for clip in clips:
        if clip.beats or clip.bpm is not None:
            items.append(
                Labelled(
                    clip.name, clip.path, pulse=True, tonal=True if clip.key else None, meter=None
                )
            )
    return items


def roc_auc(present: Sequence[float], absent: Sequence[float]) -> float:
    """Probability that a present item scores above an absent one (ties count half)."""
    high = np.asarray(present, dtype=np.float64)[:, None]
    low = np.asarray(absent, dtype=np.float64)[None, :]
    return float(((high > low).sum() + 0.5 * (high == low).sum()) / (high.size * low.size))


def confidence_tables(tables: Tables, workdir: Path, clips: list[Clip]) -> None:
    material = labelled_material(workdir, clips)
    scores: dict[str, list[tuple[str, bool, float]]] = {"tempo": [], "key": [], "meter": []}
    for item in material:
        decoded = decode(item.path)
        tempo, _ = describe_tempo(decoded.frames, frame_features.FRAME_RATE)
        scores["tempo"].append((item.name, item.pulse, tempo.confidence))
        if item.tonal is not None:
            strength = estimate_key(decoded.key_signal).strength
            scores["key"].append((item.name, item.tonal, strength))
        if item.meter is not None and tempo.bpm is not None:
            meter = tempo.meter_confidence or 0.0
            scores["meter"].append((item.name, item.meter, meter))
    thresholds = {
        "tempo": ("tempo confidence", rhythm.PULSE_THRESHOLD),
        "key": ("key strength", KEY_THRESHOLD),
        "meter": ("meter confidence", rhythm.METER_THRESHOLD),
    }
    tables.add(
        "## Confidences: present against absent",
        "",
        f"{len(material)} labelled items: generated pulsed material (clicks, drums, struck "
        "chords at seven tempi; drums and bass in 2/4, 3/4, 4/4, 6/8 and 7/8 at three tempi; "
        "swing, syncopation, a tempo ramp) and the real clips with beat or tempo truth, "
        "against pads, drones, white and pink noise, speech-like formant bursts, rubato "
        "lines, tremolo chords and a sine (20 s each). Key: tonal material against noise, "
        "clicks and drums. Meter: patterns whose bar opens with bass and an accented kick "
        "against equal beats (clicks, a kick on every beat) and beatless material that "
        "passed the pulse gate. ROC AUC: the chance that a present item scores above an "
        "absent one. The engine reports a property absent below its threshold.",
        "",
        "| confidence | present | absent | ROC AUC | threshold | lowest present "
        "| highest absent | present kept | absent refused |",
        "|---|---|---|---|---|---|---|---|---|",
    )
    for name, (label, threshold) in thresholds.items():
        rows = scores[name]
        present = [(v, n) for n, truth, v in rows if truth]
        absent = [(v, n) for n, truth, v in rows if not truth]
        if not present or not absent:
            continue
        low, high = min(present), max(absent)
        kept = sum(v >= threshold for v, _ in present)
        refused = sum(v < threshold for v, _ in absent)
        tables.add(
            f"| {label} | {len(present)} | {len(absent)} "
            f"| {roc_auc([v for v, _ in present], [v for v, _ in absent]):.3f} "
            f"| {threshold:g} | {low[0]:.2f} ({low[1]}) | {high[0]:.2f} ({high[1]}) "
            f"| {kept}/{len(present)} | {refused}/{len(absent)} |"
        )
    tables.add("")


def librosa_rhythm(path: Path) -> tuple[float, list[float]] | None:
    if librosa is None:
        return None
    audio, rate = librosa.load(str(path), sr=22050, mono=True)
    bpm, frames = librosa.beat.beat_track(y=audio, sr=rate)
    times = librosa.frames_to_time(frames, sr=rate)
    return float(np.atleast_1d(bpm)[0]), [float(t) for t in times]


def meter_table(tables: Tables, workdir: Path) -> None:
    tables.add(
        "## Odd meters, swing, syncopation and tempo ramps (generated)",
        "",
        f"{LABEL_SECONDS:g} s of drums and bass; the beat is the counted unit (quarter notes "
        "in 2/4, 3/4 and 4/4, eighth notes in 6/8 and 7/8, grouped 3+3 and 2+2+3). Beat and "
        "downbeat F-measure at ±70 ms; *bar*: the engine's beats per bar (absent when the meter "
        "confidence is below its threshold).",
        "",
        "| pattern | truth BPM | engine BPM | F | bar | downbeat F | Essentia BPM | F "
        "| librosa BPM | F |",
        "|---|---|---|---|---|---|---|---|---|---|",
    )
    cases: list[tuple[str, npt.NDArray[np.float32], float, list[float], list[float], int]] = []
    for meter, groups in GROUPINGS.items():
        for bpm in (90.0, 140.0):
            signal, beats, downbeats = metered_pattern(bpm, LABEL_SECONDS, meter)
            cases.append((f"{meter}", signal, bpm, beats, downbeats, sum(groups)))
    for name, swing, syncopation in (("4/4 swing", 0.17, False), ("4/4 syncopated", 0.0, True)):
        signal, beats, downbeats = metered_pattern(
            100.0, LABEL_SECONDS, "4/4", swing=swing, syncopation=syncopation
        )
        cases.append((name, signal, 100.0, beats, downbeats, 4))
    ramp, ramp_beats = click_ramp(100.0, 130.0, 30.0)
    cases.append(("clicks 100 to 130 BPM", ramp, 115.0, ramp_beats, [], 0))
    hits = {"tempo": 0, "bar": 0}
    for name, signal, bpm, beats, downbeats, per_bar in cases:
        path = encode(signal, workdir / f"meter_{name.replace('/', '-').replace(' ', '_')}.wav")
        result = analyze(path, features=["tempo"])
        assert result.tempo is not None
        tempo = result.tempo
        hits["tempo"] += _tempo_ok(tempo.bpm, bpm)
        hits["bar"] += tempo.beats_per_bar == per_bar
        downbeat_f = f"{f_measure(list(tempo.downbeats), downbeats):.2f}" if downbeats else "-"
        essentia_bpm, essentia_beats = essentia_rhythm(essentia_audio(path))
        theirs = librosa_rhythm(path)
        librosa_cells = (
            "- | -" if theirs is None else f"{theirs[0]:.1f} | {f_measure(theirs[1], beats):.2f}"
        )
        tables.add(
            f"| {name} | {bpm:g} | {_bpm(tempo.bpm)} | {f_measure(list(tempo.beats), beats):.2f} "
            f"| {tempo.beats_per_bar or 'absent'} | {downbeat_f} | {essentia_bpm:.1f} "
            f"| {f_measure(essentia_beats, beats):.2f} | {librosa_cells} |"
        )
    tables.add(
        "",
        f"Tempo right (within 4 %, ramp against its mean) in {hits['tempo']}/{len(cases)}; "
        f"beats per bar right in {hits['bar']}/{len(cases) - 1}.",
        "",
    )


def credits(tables: Tables, clips: list[Clip]) -> None:
    tables.add("## Real clips and credits", "", "| clip | licence and credit |", "|---|---|")
    tables.add(*(f"| {clip.name} | {clip.credit} |" for clip in clips))
    tables.add("")


NOTES = (
    "## How to read this",
    "",
    "- **Tempo octave guard.** The comb over the onset autocorrelation finds the beat period "
    "up to a simple ratio. The guard compares the tempi at 1/3, 1/2, 2/3, 1, 3/2, 2 and 3 times "
    "the comb's peak by how well a beat grid at each explains the onsets, in 8 s windows, on "
    "the full band and below 200 Hz (kick and bass), with a gentle preference for tempi near "
    "120 BPM to settle near ties (see `engine/rhythm.py`). The *guard off* columns are "
    "the comb's peak alone. The guard it replaced (the 120 BPM preference alone, one-octave "
    "spread, engine 1.0.0) got 19 of the same 27 measured tempi right (24 generated, three "
    "real); the grid-evidence guard gets 25. What it still gets wrong: the 60 BPM drum pattern, "
    "whose eighth-note hi-hats make 120 BPM an equally good grid, and the trumpet loop.",
    "- **Key profile.** The table below runs every Essentia profile on the same key signal. "
    "Plain cadences do not separate the profiles; the I-vi-ii-V turnaround (the tonic chord "
    "once among three others) and natural minor (no leading tone) do: edma misses most "
    "turnarounds, temperley and diatonic every natural-minor progression, edmm every major "
    "progression. bgate, braw, temperley2005, krumhansl and noland get every generated and "
    "real item right. The engine uses bgate: tied for best, so the measurement gives no reason "
    "to move away from Essentia's own default, which also keeps the engine comparable with "
    "published KeyExtractor figures. The trumpet loop's truth (tonic F, blues/Dorian) is "
    "scored as F minor.",
    "- **Beat phase.** The tracker runs on the onsets below 200 Hz, and how strongly it holds "
    "the tempo is measured from the signal: the local tempo of every 8 s window is compared "
    "with the global one, and the tracker's transition penalty is set to the log-normal "
    "deviation that covers that spread (`tracker_tightness` in `engine/rhythm.py`; "
    "half a frame of rounding is not counted as deviation). Steady playing thus keeps a "
    "near-rigid grid that syncopated accents cannot drag onto the off-beat: with the earlier "
    "fixed, loose penalty the GuitarSet clip left the beat after about 4 s (F 0.17). A "
    "drifting or changing tempo reads as unsteady and keeps the tracker loose (a click track "
    "speeding up from 100 to 130 BPM is a test case). The margin on GuitarSet is real but not "
    "wide: it reads as steady as the generated patterns (local tempo within 0.4 %); had it "
    "read as straying by 1 % or more, the looser penalty would lose the beat again.",
    "",
)


def build() -> list[str]:
    tables = Tables(list(NOTES))
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        clips = real_clips()
        credits(tables, clips)
        synthetic_tempo(tables, workdir)
        decoded = {clip.name: decode(clip.path) for clip in clips}
        real_rhythm_table(tables, clips, decoded)
        confidence_tables(tables, workdir, clips)
        meter_table(tables, workdir)
        key_tables(tables, workdir)
        loudness_table(tables, workdir)
        real_onset_table(tables, clips, decoded)
    return tables.lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"regenerate {DOC.name}")
    args = parser.parse_args()
    lines = build()
    print("\n".join(lines))
    if args.write:
        DOC.write_text(
            "\n".join(
                [
                    "# Analysis accuracy",
                    "",
                    f"Generated by `{COMMAND}`; do not edit by hand.",
                    "",
                    *lines,
                ]
            )
        )


if __name__ == "__main__":
    main()
