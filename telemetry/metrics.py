"""Prometheus metrics: every metric the application exposes at `/metrics`, defined once.

Other modules (and the health and alerting code) import the metric objects from here. Under
gunicorn or Celery prefork, set `PROMETHEUS_MULTIPROC_DIR` to an empty directory shared by the
processes of one host (wiped at each deploy): prometheus-client then keeps values in files
there and the `/metrics` view merges them with `MultiProcessCollector`.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

# Request latency buckets: API calls are expected in the 5 ms to 1 s range; uploads take longer.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Background work runs from well under a second (bookkeeping) to many minutes (stems).
TASK_BUCKETS = (0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# Audio files last from a few seconds (samples) to an hour or more (DJ sets, podcasts).
AUDIO_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 900.0, 1800.0, 3600.0, 7200.0)

HTTP_REQUEST_DURATION = Histogram(
    "phonoglyph_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL pattern name, method and status.",
    ["route", "method", "status"],
    buckets=HTTP_BUCKETS,
)

CELERY_TASKS = Counter(
    "phonoglyph_celery_tasks_total",
    "Celery tasks finished, by task name and outcome (succeeded, failed, retried, rejected).",
    ["task", "outcome"],
)
CELERY_TASK_DURATION = Histogram(
    "phonoglyph_celery_task_duration_seconds",
    "Wall time of a Celery task run, by task name.",
    ["task"],
    buckets=TASK_BUCKETS,
)

ANALYSIS_PROCESSING_DURATION = Histogram(
    "phonoglyph_analysis_processing_duration_seconds",
    "Wall time spent analysing one audio file, by outcome.",
    ["outcome"],
    buckets=TASK_BUCKETS,
)
ANALYSIS_AUDIO_DURATION = Histogram(
    "phonoglyph_analysis_audio_duration_seconds",
    "Duration of the audio submitted to analysis, by outcome.",
    ["outcome"],
    buckets=AUDIO_BUCKETS,
)

STEM_SEPARATION_PROCESSING_DURATION = Histogram(
    "phonoglyph_stem_separation_processing_duration_seconds",
    "Wall time spent separating one audio file into stems, by outcome.",
    ["outcome"],
    buckets=TASK_BUCKETS,
)

UPLOAD_REJECTIONS = Counter(
    "phonoglyph_upload_rejections_total", "Uploads refused, by rejection code.", ["code"]
)
CREDITS_MOVED = Counter(
    "phonoglyph_credits_total", "Credits moved through the ledger, by movement.", ["movement"]
)
RESULT_CACHE = Counter(
    "phonoglyph_result_cache_total",
    "Reads of finished analysis results from the cache, by part and outcome (hit, miss).",
    ["part", "outcome"],
)

# The alerting loop sets this after each evaluation; across processes the latest write wins.
ALERTS_FIRING = Gauge(
    "phonoglyph_alerts_firing",
    "Alerts currently firing, by severity.",
    ["severity"],
    multiprocess_mode="mostrecent",
)

ANALYTICS_EVENTS_DROPPED = Counter(
    "phonoglyph_analytics_events_dropped_total",
    "Product analytics events dropped: the buffer was full (host slow or down) or a send failed.",
    ["reason"],
)
TRACES_DROPPED = Counter(
    "phonoglyph_traces_dropped_total",
    "Traced requests whose transaction was dropped: the relay process was behind (its pipe full).",
    ["reason"],
)

QUEUE_DEPTH_METRIC = "phonoglyph_celery_queue_depth"


def host_registry() -> CollectorRegistry:
    """The metrics of this host's processes: merged from PROMETHEUS_MULTIPROC_DIR when they
    share one (gunicorn, Celery prefork), else this process's own."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    return registry
