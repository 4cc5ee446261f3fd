from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from billing.services import credits_grant


@pytest.fixture(autouse=True)
def _private_media_root(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    yield


def give_credits(user: User, amount: int = 100) -> None:
    credits_grant(user=user, amount=amount, reason="test credits")
