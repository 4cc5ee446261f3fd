from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from billing.services import credits_grant


@pytest.fixture(autouse=True)
def _private_media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def give_credits(user: User, amount: int = 100) -> None:
    credits_grant(user=user, amount=amount, reason="test credits")
