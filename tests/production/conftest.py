"""Fixtures of the production tests: a real S3 API (SeaweedFS) shared with the media tests."""

from __future__ import annotations

from tests.support.s3 import s3_server, s3_storage  # noqa: F401
