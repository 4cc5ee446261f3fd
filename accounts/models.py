"""Users keyed by email, their plans, and the API keys integrators authenticate with."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Theme(models.TextChoices):
    SYSTEM = "system", "Follow the system"
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"


class Plan(models.Model):
    """What a user may use: API request budgets, concurrent jobs, monthly free credits.

    Edited by staff. A user without a plan is on the plan named `free` (accounts.selectors).
    """

    FREE = "free"

    name = models.SlugField(max_length=40, unique=True)
    requests_per_minute = models.PositiveIntegerField()
    requests_per_day = models.PositiveIntegerField()
    concurrent_jobs = models.PositiveIntegerField()
    # Empty: the deployment's PHONOGLYPH_MONTHLY_FREE_CREDITS.
    monthly_free_credits = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("requests_per_minute", "name")

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    theme = models.CharField(max_length=6, choices=Theme.choices, default=Theme.SYSTEM)
    # Empty until the owner opens the link mailed at sign-up (accounts.confirmation); an empty
    # one cannot log in nor hold credits or API keys. Every other way of making a user (the
    # createuser command, the admin) makes a confirmed one, hence the default.
    email_confirmed_at = models.DateTimeField(null=True, blank=True, default=timezone.now)

    # Empty: the `free` plan.
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("email",)

    def __str__(self) -> str:
        return self.email

    @property
    def is_email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class ApiKey(models.Model):
    """An API key; only its SHA-256 is stored, the key itself is shown once at creation.

    `scopes` lists what the key may do beyond the user's data (see API_KEY_SCOPES). A key
    minted by another key has it as `parent` and is revoked with it.
    """

    class Scope(models.TextChoices):
        API_KEYS = "api_keys", "Create and revoke API keys"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    # What URLs, the API and integrators know the key by; the integer key stays internal
    # so that ids do not reveal how many keys exist.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise the key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
