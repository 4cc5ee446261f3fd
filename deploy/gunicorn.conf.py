"""gunicorn settings of the documented deployment, read with `gunicorn -c deploy/gunicorn.conf.py`.

Sync workers are pinned by whoever they serve, so they must only ever see complete requests:
nginx (deploy/nginx.conf) sits in front, buffers request bodies and gives up on slow clients,
and only it is published. Every value can be changed with a GUNICORN_* variable.
"""

from __future__ import annotations

import os

wsgi_app = "phonoglyph.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# 2 x cores + 1 (gunicorn's own advice): a sync worker waits on PostgreSQL, Redis and storage
# for much of a request, so one per core leaves the CPUs idle while requests queue (bench/
# RESULTS.md, "Load"). Set GUNICORN_WORKERS where os.cpu_count() sees the host's cores rather
# than the container's share, and count each worker's connection (docs/operations.md).
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
# Only for worker_class "gthread": requests each worker serves at once (one database
# connection each; see docs/operations.md on pool sizing).
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Long enough for an upload's probe and virus scan; slow clients never reach a worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# Only the proxy talks to gunicorn; X-Forwarded-Proto from it is trusted for HTTPS detection.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")
