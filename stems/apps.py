from __future__ import annotations

from django.apps import AppConfig


class StemsConfig(AppConfig):
    name = "stems"
    verbose_name = "Stem separation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from stems.kind import stem_separation_kind_register

        stem_separation_kind_register()
