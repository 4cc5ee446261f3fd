"""Tasks run by real worker processes in the correlated-logs and worker Sentry tests."""

from __future__ import annotations

import logging

from celery import shared_task

from telemetry.reporting import capture_processing_error
from telemetry.tracing import stage_spans

logger = logging.getLogger("tests.monitoring.tasks")


@shared_task(name="tests.monitoring.log_context_probe")
def log_context_probe(*, job_id: str) -> None:
    logger.info("probe ran")


class StemModelCrashed(RuntimeError):
    pass


@shared_task(name="tests.monitoring.separate_stems_and_crash")
def separate_stems_and_crash(*, job_id: str) -> None:
    try:
        raise StemModelCrashed("model returned NaN")
    except StemModelCrashed as error:
        capture_processing_error(error, operation="stem_separation.run", job_id=job_id)
        raise


@shared_task(name="tests.monitoring.analyse_with_stage_spans")
def analyse_with_stage_spans(*, path: str, job_id: str) -> None:
    """Run the engine on `path` the way the job runner does, with its stages as spans."""
    from engine.pipeline import analyze

    def progress(stage: str, percent: int) -> None:
        logger.info("stage %s at %s %%", stage, percent)

    with stage_spans(progress) as traced:
        analyze(path, progress=traced)
        traced("storing", 99)
