"""Staff view of analysis jobs: filters, timings, and retry / cancel actions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from analysis.errors import AnalysisJobFinished
from analysis.models import AnalysisJob
from analysis.services import analysis_job_cancel, analysis_job_retry
from core.api.exceptions import DomainError
from engine.features import FEATURES


class FeatureFilter(admin.SimpleListFilter):
    title = "feature"
    parameter_name = "feature"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [(name, name) for name in FEATURES]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AnalysisJob]
    ) -> QuerySet[AnalysisJob]:
        value = self.value()
        if value not in FEATURES:
            return queryset
        # features_key is the sorted, comma-joined list: match the name as a whole item.
        return queryset.filter(features_key__regex=rf"(^|,){value}(,|$)")


@admin.register(AnalysisJob)
class AnalysisJobAdmin(admin.ModelAdmin[AnalysisJob]):
    list_display = (
        "id",
        "owner",
        "media",
        "status",
        "stage",
        "progress",
        "error_code",
        "features_key",
        "processing_seconds",
        "attempts",
        "worker_host",
        "queued_at",
    )
    list_filter = ("status", "error_code", FeatureFilter, "engine_version", "is_sample_track")
    search_fields = ("owner__email", "audio_sha256", "=id")
    date_hierarchy = "queued_at"
    raw_id_fields = ("owner", "media", "reused_from")
    readonly_fields = [field.name for field in AnalysisJob._meta.fields]
    actions = ("retry_jobs", "cancel_jobs")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Retry selected failed or cancelled jobs (as new jobs)")
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[AnalysisJob]) -> None:
        started, refused = 0, 0
        for job in queryset.select_related("owner"):
            try:
                analysis_job_retry(job=job)
                started += 1
            except DomainError as refusal:
                refused += 1
                self.message_user(request, f"#{job.pk}: {refusal}", messages.WARNING)
        self.message_user(request, f"Started {started} new job(s); {refused} refused.")

    @admin.action(description="Cancel selected queued or running jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[AnalysisJob]) -> None:
        cancelled = 0
        for job in queryset.select_related("owner"):
            try:
                analysis_job_cancel(user=job.owner, public_id=job.public_id)
                cancelled += 1
            except AnalysisJobFinished:
                continue
        self.message_user(request, f"Cancelled {cancelled} job(s).")
