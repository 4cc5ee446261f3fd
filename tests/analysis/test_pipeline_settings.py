from __future__ import annotations

import subprocess
import sys

from django.conf import settings

from analysis.services import analysis_time_limits
from analysis.tasks import analysis_job_run
from phonoglyph.celery import app


def test_analysis_tasks_go_to_the_analysis_queue_and_ack_late() -> None:
    assert app.amqp.router.route({}, "analysis.tasks.analysis_job_run")["queue"].name == "analysis"
    task = analysis_job_run
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_the_sweep_is_scheduled_by_beat() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["analysis-jobs-sweep"]
    assert entry["task"] == "analysis.tasks.analysis_jobs_sweep"
    assert "billing-release-stale-reservations" in settings.CELERY_BEAT_SCHEDULE


def test_time_limits_grow_with_the_audio_duration() -> None:
    short, long = analysis_time_limits(audio_seconds=10), analysis_time_limits(audio_seconds=1800)
    assert short.soft < long.soft
    assert short.hard > short.soft
    assert long.hard <= settings.ANALYSIS_LONGEST_HARD_TIME_LIMIT


def test_redis_visibility_timeout_exceeds_the_longest_hard_time_limit() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], "
        "s.ANALYSIS_LONGEST_HARD_TIME_LIMIT)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "REDIS_URL": "redis://127.0.0.1:6379/4",
    }
    run = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    visibility, longest = map(int, run.stdout.split()[-2:])
    assert visibility > longest
