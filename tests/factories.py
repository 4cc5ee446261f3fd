# factory_boy declarations (Sequence, SubFactory, ...) are untyped functions.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

from typing import Any

from factory.declarations import Sequence
from factory.django import DjangoModelFactory

from accounts.models import User

DEFAULT_PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    email = Sequence(lambda n: f"user{n}@example.com")

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        password = kwargs.pop("password", DEFAULT_PASSWORD)
        return User.objects.create_user(password=password, **kwargs)
