"""Phonoglyph: self-hostable audio analysis for visualizations."""

from __future__ import annotations

from phonoglyph.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
