"""Reads for accounts, scoped to the caller."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiKey, User


def api_key_list_for_user(*, user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).select_related("parent").order_by("-created_at")


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()
