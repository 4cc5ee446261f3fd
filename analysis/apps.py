from __future__ import annotations

from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analysis.cache import result_cache_connect
        from analysis.follow_up import analysis_follow_up_register
        from analysis.kind import analysis_kind_register

        analysis_kind_register()
        analysis_follow_up_register()
        result_cache_connect()
