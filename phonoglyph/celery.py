"""The Celery application; configuration comes from Django settings prefixed CELERY_."""

from __future__ import annotations

import os

from celery import Celery

# Connects the worker's logging, metrics and error-reporting receivers before the worker starts.
import telemetry.celery_signals  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phonoglyph.settings")
# One BLAS/OpenMP thread per process: analysis runs one job per worker process, and idle
# OpenBLAS threads spin on the other cores, which measured slower, not faster.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

app = Celery("phonoglyph")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
