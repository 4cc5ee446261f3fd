from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from phonoglyph.celery import app as celery_app
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def private_networks_allowed(settings: Any) -> None:
    settings.PHONOGLYPH_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.PHONOGLYPH_WEBHOOK_TIMEOUT_SECONDS = 5.0


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run published tasks in-process, as a worker would, so a test sees their effect."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


class Clock:
    """Django's clock, moved forward on demand (time travel through retry schedules)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(tz=UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)

    def travel_to(self, moment: datetime) -> None:
        self.offset += moment - self.now()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    travel = Clock()
    monkeypatch.setattr(timezone, "now", travel.now)
    return travel
