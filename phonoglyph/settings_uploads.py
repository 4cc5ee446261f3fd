"""Settings of uploads: their size, length, quota and rate, virus scanning and S3 addressing.

Part of the settings module (`phonoglyph.settings` imports every name), kept apart so that
each settings file stays readable; values come from the environment like all the others.
"""

from __future__ import annotations

import environ

env = environ.Env()

# Media uploads and storage
PHONOGLYPH_MAX_UPLOAD_BYTES: int = env.int("PHONOGLYPH_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
PHONOGLYPH_MAX_DURATION_SECONDS: int = env.int("PHONOGLYPH_MAX_DURATION_SECONDS", default=1800)
PHONOGLYPH_USER_QUOTA_BYTES: int = env.int("PHONOGLYPH_USER_QUOTA_BYTES", default=2 * 1024**3)
PHONOGLYPH_UPLOADS_PER_HOUR: int = env.int("PHONOGLYPH_UPLOADS_PER_HOUR", default=10)
# Bytes of an upload that are not audio (tags, pictures, padding): the larger of these two.
PHONOGLYPH_MAX_METADATA_BYTES: int = env.int("PHONOGLYPH_MAX_METADATA_BYTES", default=1024 * 1024)
PHONOGLYPH_MAX_METADATA_FRACTION: float = env.float(
    "PHONOGLYPH_MAX_METADATA_FRACTION", default=0.05
)
PHONOGLYPH_PROBE_TIMEOUT_SECONDS: float = env.float(
    "PHONOGLYPH_PROBE_TIMEOUT_SECONDS", default=20.0
)
CLAMAV_URL: str = env.str("CLAMAV_URL", default="")
CLAMAV_TIMEOUT_SECONDS: float = env.float("CLAMAV_TIMEOUT_SECONDS", default=60.0)
# S3-compatible servers (MinIO, SeaweedFS) usually need "path"; empty lets boto3 choose.
AWS_S3_ADDRESSING_STYLE: str | None = env.str("AWS_S3_ADDRESSING_STYLE", default="") or None
# Uploads stream to disk, never into memory; only small non-file form fields are held in RAM.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_TEMP_DIR: str | None = env.str("FILE_UPLOAD_TEMP_DIR", default="") or None
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
