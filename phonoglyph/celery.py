"""The Celery application; configuration comes from Django settings prefixed CELERY_."""

from __future__ import annotations

import os

from celery import Celery

# Connects the worker's logging, metrics and error-reporting receivers before the worker starts.
import monitoring.celery_signals  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phonoglyph.settings")

app = Celery("phonoglyph")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
