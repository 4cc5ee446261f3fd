"""The staff member acting on the ops console, typed without naming the accounts app."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request


def staff_member(request: HttpRequest | Request) -> AbstractBaseUser:
    """Return the signed-in user behind `request`.

    The admin site and the API's StaffOnly permission refuse non-staff before a view runs;
    this narrows the type, and raises PermissionDenied should an anonymous request get here.
    """
    user = request.user
    if not isinstance(user, AbstractBaseUser):
        raise PermissionDenied
    return user
