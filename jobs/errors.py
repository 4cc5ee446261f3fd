"""What a job kind's work raises to end its job, and what the lifecycle raises to its callers."""

from __future__ import annotations


class JobNoLongerRunning(Exception):
    """The job left `running` under this worker (cancelled, or failed by the sweep)."""


class JobRefused(Exception):
    """The work cannot be done for this input; the job fails with `code` and is not retried.

    `report` says whether the failure is worth an error report (a crash in the work) or is a
    property of the input the user can read about (audio that cannot be decoded).
    """

    def __init__(self, *, code: str, message: str, report: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.report = report
