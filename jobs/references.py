"""What a person or an integrator reads for a ledger reference: the job's public id.

The credits ledger knows a job by `<kind>:<key>`, the job's internal key (`Job.job_ref`):
reservations in flight and the append-only history are keyed by it, so it never changes.
Pages and the API show `<kind>:<public id>` instead, so that no reference reveals how many
jobs exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from jobs.kinds import job_kinds


def job_refs_public(job_refs: Iterable[str]) -> dict[str, str]:
    """Map each ledger reference to what its owner may read, in one query per job kind.

    A reference to a job of a registered kind becomes `<kind>:<public id>`; any other
    reference (another kind of ledger entry, or a job no longer there) is shown as it is.
    """
    models = {kind.name: kind.model for kind in job_kinds()}
    keys_by_kind: dict[str, dict[int, str]] = defaultdict(dict)
    shown: dict[str, str] = {}
    for job_ref in set(job_refs):
        shown[job_ref] = job_ref
        prefix, _, raw_key = job_ref.partition(":")
        if prefix in models and raw_key.isdigit():
            keys_by_kind[prefix][int(raw_key)] = job_ref
    for prefix, refs in keys_by_kind.items():
        found = models[prefix]._default_manager.filter(pk__in=refs).values_list("pk", "public_id")
        for key, public_id in found:
            shown[refs[key]] = f"{prefix}:{public_id}"
    return shown
