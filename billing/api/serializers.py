from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from billing.models import AccountKind, Feature, Transfer
from jobs.references import job_refs_public

MAX_USAGE_RANGE_DAYS = 366
DEFAULT_USAGE_RANGE_DAYS = 30


class CreditBalanceSerializer(serializers.Serializer[dict[str, int]]):
    available = serializers.IntegerField(help_text="Credits that can be spent now.")
    reserved = serializers.IntegerField(help_text="Credits held by jobs still running.")
    posted = serializers.IntegerField(help_text="Available plus reserved.")


class TransferSerializer(serializers.ModelSerializer[Transfer]):
    direction = serializers.SerializerMethodField(
        help_text="`credit` adds to your account, `debit` takes from it."
    )
    job_ref = serializers.SerializerMethodField(
        help_text="The job it was for, as `<kind>:<id>` (e.g. `analysis:<the analysis id>`)."
    )

    class Meta:
        model = Transfer
        fields = (
            "id",
            "kind",
            "direction",
            "amount",
            "feature",
            "job_ref",
            "memo",
            "pending",
            "expires_at",
            "created_at",
        )
        read_only_fields = fields

    def get_job_ref(self, transfer: Transfer) -> str:
        if not transfer.job_ref:
            return ""
        public_refs: dict[str, str] = self.context.get("public_refs") or job_refs_public(
            [transfer.job_ref]
        )
        return public_refs.get(transfer.job_ref, transfer.job_ref)

    def get_direction(self, transfer: Transfer) -> str:
        return "debit" if transfer.debit_account.kind == AccountKind.USER else "credit"


class UsageQuerySerializer(serializers.Serializer[None]):
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD&feature=...`: at most a year, both days included."""

    feature = serializers.ChoiceField(choices=Feature.choices, required=False)

    def to_internal_value(self, data: Any) -> Any:
        values = super().to_internal_value(data)
        today = timezone.now().date()
        parse = serializers.DateField()
        errors: dict[str, list[str]] = {}
        for name, default in (
            ("from", today - timedelta(days=DEFAULT_USAGE_RANGE_DAYS - 1)),
            ("to", today),
        ):
            raw = data.get(name)
            if raw in (None, ""):
                values[name] = default
                continue
            try:
                values[name] = parse.to_internal_value(raw)
            except serializers.ValidationError as error:
                errors[name] = [str(message) for message in error.detail]
        if errors:
            raise serializers.ValidationError(errors)
        return values

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": ["Must not be after `to`."]})
        if (attrs["to"] - attrs["from"]).days >= MAX_USAGE_RANGE_DAYS:
            raise serializers.ValidationError(
                {"to": [f"The range may span at most {MAX_USAGE_RANGE_DAYS} days."]}
            )
        return attrs


class UsageDaySerializer(serializers.Serializer[None]):
    day = serializers.DateField()
    feature = serializers.CharField()
    unit = serializers.CharField()
    quantity = serializers.IntegerField()
    credits = serializers.IntegerField()
    uses = serializers.IntegerField()


class UsageReportSerializer(serializers.Serializer[dict[str, Any]]):
    """The range answered and its days; `from` is a Python keyword, hence get_fields."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        fields["results"] = UsageDaySerializer(many=True)
        return fields
