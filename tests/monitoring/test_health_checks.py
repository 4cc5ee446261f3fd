"""Each health check measures its dependency and turns a failure into a bounded, named result."""

from __future__ import annotations

import socket
import time

import pytest

from monitoring import health

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_check_runs_select_one():
    result = health.check_database()

    assert result.healthy
    assert result.service == "database"
    assert result.latency_ms >= 0
    assert set(result.as_dict()) == {
        "service",
        "healthy",
        "metrics",
        "checked_at",
        "latency_ms",
        "error",
    }


def test_cache_check_round_trips_a_key():
    assert health.check_cache().healthy


def test_cache_check_pings_redis(settings, redis_url):
    settings.REDIS_URL = redis_url
    assert health.check_cache().healthy

    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    result = health.check_cache()
    assert not result.healthy
    assert "ConnectionError" in result.error


def test_storage_check_writes_reads_back_and_deletes(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)

    result = health.check_storage()

    assert result.healthy
    assert result.metrics["backend"] == "FileSystemStorage"
    leftovers = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert leftovers == []


def test_storage_check_fails_when_the_media_root_cannot_be_written(settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the storage root should be")
    settings.MEDIA_ROOT = str(blocker)

    result = health.check_storage()

    assert not result.healthy
    assert result.error


def test_storage_check_against_s3_on_a_closed_port_fails_within_the_time_limit(settings):
    settings.PHONOGLYPH_HEALTH_CHECK_TIMEOUT_SECONDS = 2.0
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "phonoglyph-health",
                "endpoint_url": f"http://127.0.0.1:{closed_port()}",
                "access_key": "test",
                "secret_key": "test-secret",
                "region_name": "us-east-1",
            },
        },
    }
    started = time.monotonic()

    result = health.check_storage()

    assert time.monotonic() - started < 4
    assert not result.healthy
    assert result.metrics["backend"] == "S3Storage"


def test_queue_depth_on_redis_sums_the_priority_lists(settings, redis_url):
    import redis

    settings.CELERY_BROKER_URL = redis_url
    settings.PHONOGLYPH_MONITORED_QUEUES = ["analysis", "celery"]
    client = redis.Redis.from_url(redis_url)
    client.delete("analysis", "analysis\x06\x163", "analysis\x06\x169", "celery")
    client.rpush("analysis", "a", "b")
    client.rpush("analysis\x06\x163", "c")
    client.rpush("analysis\x06\x169", "d", "e", "f")
    try:
        result = health.check_queues()
    finally:
        client.delete("analysis", "analysis\x06\x163", "analysis\x06\x169")
        client.close()

    assert result.healthy
    assert result.metrics == {
        "broker": "redis",
        "queues": {"analysis": 6, "celery": 0},
        "total": 6,
    }


def test_queue_depth_on_the_filesystem_broker_counts_message_files(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    settings.PHONOGLYPH_MONITORED_QUEUES = ["analysis", "celery"]
    for name in ("1_a.analysis.msg", "2_b.analysis.msg", "3_c.celery.msg", "notes.txt"):
        (tmp_path / name).write_text("{}")

    result = health.check_queues()

    assert result.metrics["queues"] == {"analysis": 2, "celery": 1}


def test_queue_depth_on_rabbitmq_reads_the_queue_message_count(settings, rabbitmq_url):
    from kombu import Connection, Exchange, Queue

    settings.CELERY_BROKER_URL = rabbitmq_url
    settings.PHONOGLYPH_MONITORED_QUEUES = ["phonoglyph-health-test", "never-declared"]
    queue = Queue("phonoglyph-health-test", Exchange("phonoglyph-health-test"), "k")
    # Publisher confirms: each publish returns once the broker has queued the message, so the
    # count read next cannot race the deliveries.
    with Connection(rabbitmq_url, transport_options={"confirm_publish": True}) as conn:
        bound = queue(conn.default_channel)
        bound.declare()
        bound.purge()
        producer = conn.Producer()
        for index in range(3):
            producer.publish({"n": index}, exchange=queue.exchange, routing_key="k")
        try:
            result = health.check_queues()
        finally:
            bound.delete()

    assert result.metrics["broker"] == "amqp"
    assert result.metrics["queues"] == {"phonoglyph-health-test": 3, "never-declared": 0}


def test_queue_check_reports_an_unreachable_broker(settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"

    result = health.check_queues()

    assert not result.healthy
    assert "ConnectionError" in result.error


def test_worker_ping_returns_at_once_when_the_broker_is_down(settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    started = time.monotonic()

    result = health.check_workers()

    assert time.monotonic() - started < 2
    assert not result.healthy
    assert result.metrics == {"alive": 0, "workers": []}
    assert "ConnectionRefusedError" in result.error


def test_worker_check_with_no_worker_listening_reports_none_alive(settings, redis_url):
    # A Redis database no worker uses: a ping reaches every worker on its broker.
    settings.CELERY_BROKER_URL = redis_url.rsplit("/", 1)[0] + "/14"

    result = health.check_workers()

    assert not result.healthy
    assert result.error == "no worker answered the ping"


def test_bounded_probe_gives_up_on_a_hanging_call():
    started = time.monotonic()

    with pytest.raises(health.CheckTimeout):
        health.run_bounded(lambda: time.sleep(5), timeout=0.2)

    assert time.monotonic() - started < 1


def test_ledger_check_reports_a_reconciling_ledger():
    result = health.check_ledger()

    assert result.healthy
    assert result.metrics["total_drift"] == 0


def test_stem_separation_reports_its_figures_and_backlog():
    result = health.check_stem_separation()

    assert result.healthy
    assert result.metrics["available"] is True
    assert result.metrics["total_operations"] == 0
    assert result.metrics["p50_seconds"] is None
    assert result.metrics["queued"] == 0
    assert result.metrics["stuck_running"] == 0
