"""Accuracy of the engine on signals with known truth and on annotated real recordings.

Run from the repository root::

    .venv/bin/python -m bench.accuracy           # print the tables
    .venv/bin/python -m bench.accuracy --write   # also regenerate docs/accuracy.md
    .venv/bin/python -m bench.accuracy --write --external-corpus DIR
        # also the annotated recordings that DIR/corpus.json names (see bench/_external.py)

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
from pathlib import Path

import essentia.standard as es
import numpy as np
import numpy.typing as npt

from bench._confidence import LABEL_SECONDS, confidence_tables
from bench._corpus import (
    SR,
    Clip,
    chord_progression,
    click_track,
    drum_pattern,
    f_measure,
    real_clips,
    sine,
)
from bench._external import MANIFEST, ExternalClip, ManifestError, load_manifest, materialise
from bench._notes import NOTES
from bench._real import (
    EXTERNAL_COMMAND,
    external_rhythm_tables,
    real_onset_table,
    real_rhythm_table,
)
from bench._systems import (
    Tables,
    bpm_cell,
    decode,
    essentia_audio,
    essentia_key,
    essentia_rhythm,
    frames_and_key,
    librosa_rhythm,
    mark,
    tempo_ok,
)
from engine import frames as frame_features
from engine.pipeline import analyze, describe_tempo
from engine.tonal import KEY_PROFILE, estimate_key
from tests.engine.engine_signals import (
    GROUPINGS,
    click_ramp,
    metered_pattern,
)
from tests.support.audio import encode

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
        "| Essentia BPM | ok | F | librosa BPM | ok | F |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    )
    totals = {name: [0, 0.0] for name in ("engine", "off", "essentia", "librosa")}
    count = 0
    for kind, bpm in itertools.product(("click", "drums"), TEMPO_BPMS):
        maker = click_track if kind == "click" else drum_pattern
        signal, truth_beats = maker(bpm, TEMPO_SECONDS)
        path = encode(signal, workdir / f"{kind}_{bpm:g}.wav")
        decoded = decode(path)
        found: list[tuple[str, float | None, list[float]]] = []
        for name, guard in (("engine", True), ("off", False)):
            tempo, _ = describe_tempo(decoded.frames, frame_features.FRAME_RATE, octave_guard=guard)
            found.append((name, tempo.bpm, list(tempo.beats)))
        found.append(("essentia", *essentia_rhythm(essentia_audio(path))))
        theirs = librosa_rhythm(path)
        if theirs is not None:
            found.append(("librosa", *theirs))
        cells = []
        for name, estimate, beats in found:
            f = f_measure(beats, truth_beats)
            ok = tempo_ok(estimate, bpm)
            totals[name][0] += ok
            totals[name][1] += f
            cells += [bpm_cell(estimate), mark(ok), f"{f:.2f}"]
        cells += ["-", "-", "-"] * (4 - len(found))
        count += 1
        tables.add(f"| {kind} | {bpm:g} | " + " | ".join(cells) + " |")
    summary = " | ".join(
        f"{totals[n][0]}/{count} | | {totals[n][1] / count:.2f}"
        for n in ("engine", "off", "essentia", "librosa")
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
            f"| {mark(engine_answer == truth)} | {_key_name(essentia_answer)} "
            f"| {mark(essentia_answer == truth)} |"
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
        mine_ok = mark(mine is not None and abs(mine - expected) <= tolerance)
        theirs_ok = mark(abs(theirs - expected) <= tolerance)
        tables.add(
            f"| {name} | {expected:g} {unit} | {'absent' if mine is None else f'{mine:.2f}'} "
            f"| {mine_ok} "
            f"| {theirs:.2f} | {theirs_ok} |"
        )
    tables.add("")


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
        hits["tempo"] += tempo_ok(tempo.bpm, bpm)
        hits["bar"] += tempo.beats_per_bar == per_bar
        downbeat_f = f"{f_measure(list(tempo.downbeats), downbeats):.2f}" if downbeats else "-"
        essentia_bpm, essentia_beats = essentia_rhythm(essentia_audio(path))
        theirs = librosa_rhythm(path)
        librosa_cells = (
            "- | -" if theirs is None else f"{theirs[0]:.1f} | {f_measure(theirs[1], beats):.2f}"
        )
        tables.add(
            f"| {name} | {bpm:g} | {bpm_cell(tempo.bpm)} "
            f"| {f_measure(list(tempo.beats), beats):.2f} "
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


def build(externals: Sequence[ExternalClip] = ()) -> list[str]:
    tables = Tables(list(NOTES))
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        clips = real_clips()
        credits(tables, clips)
        synthetic_tempo(tables, workdir)
        decoded = {clip.name: decode(clip.path) for clip in clips}
        real_rhythm_table(tables, clips, decoded)
        if externals:
            outside = [materialise(external, workdir) for external in externals]
            outside_decoded = {clip.name: decode(clip.path) for clip in outside}
            external_rhythm_tables(tables, externals, outside, outside_decoded)
        tables.add(*confidence_tables(frames_and_key, workdir, clips))
        meter_table(tables, workdir)
        key_tables(tables, workdir)
        loudness_table(tables, workdir)
        real_onset_table(tables, clips, decoded)
    return tables.lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"regenerate {DOC.name}")
    parser.add_argument(
        "--external-corpus",
        type=Path,
        metavar="DIR",
        help=f"also score the annotated recordings that DIR/{MANIFEST} names",
    )
    args = parser.parse_args()
    externals: list[ExternalClip] = []
    if args.external_corpus is not None:
        try:
            externals = load_manifest(args.external_corpus)
        except ManifestError as error:
            parser.error(f"--external-corpus: {error}")
    lines = build(externals)
    print("\n".join(lines))
    if args.write:
        command = EXTERNAL_COMMAND if externals else COMMAND
        DOC.write_text(
            "\n".join(
                [
                    "# Analysis accuracy",
                    "",
                    f"Generated by `{command}`; do not edit by hand.",
                    "",
                    *lines,
                ]
            )
        )


if __name__ == "__main__":
    main()
