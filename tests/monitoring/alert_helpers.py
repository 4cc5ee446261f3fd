"""Drive a real metric in alerting tests: the depth of the filesystem broker's `celery` queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def set_queue_depth(settings: Any, depth: int) -> None:
    """Make the `celery` queue hold exactly `depth` messages, as kombu names them on disk."""
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    for existing in folder.glob("*.celery.msg"):
        existing.unlink()
    for index in range(depth):
        (folder / f"{index:06d}_test.celery.msg").write_text("{}")
