from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accounts.models import User
from billing.services import credits_grant
from media.models import MediaFile
from tests.analysis.factories import MediaFileFactory
from tests.engine.stem_signals import backing
from tests.support.audio import encode


@pytest.fixture(autouse=True)
def _private_media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def give_credits(user: User, amount: int = 100) -> None:
    credits_grant(user=user, amount=amount, reason="test credits")


def mix_wav(seconds: float) -> bytes:
    """A stereo WAV of the generated backing (chords, bass line, drums)."""
    with tempfile.TemporaryDirectory() as folder:
        path = encode(np.asarray(backing(seconds).total * 0.8), Path(folder) / "mix.wav")
        return path.read_bytes()


def backing_media(owner: User, seconds: float = 6.0) -> MediaFile:
    return MediaFileFactory.create(
        owner=owner, audio_bytes=mix_wav(seconds), duration_seconds=seconds
    )
