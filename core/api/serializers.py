"""Serializer plumbing shared by the API."""

from __future__ import annotations

from typing import Any


class FieldsBuiltOnceMixin:
    """Build a serializer class's fields once per process rather than for every response.

    DRF builds a ModelSerializer's fields (model introspection, field objects, binding) for
    each serializer it makes, which costs a single-object response about as much CPU as
    reading the object from PostgreSQL. With this mixin first in the bases, `to_representation`
    runs on one instance per class made on first use, so its fields are built once. Only for
    serializers whose output depends on the instance alone (not on `context`); representing
    only reads the fields, so the instance is safely shared by threads.
    """

    def to_representation(self, instance: Any) -> Any:
        cls = type(self)
        prototype = cls.__dict__.get("_fields_prototype")
        if prototype is None:
            prototype = cls()
            cls._fields_prototype = prototype  # type: ignore[attr-defined]  # set on first use
        return super(FieldsBuiltOnceMixin, prototype).to_representation(instance)  # type: ignore[misc]  # the serializer after this mixin
