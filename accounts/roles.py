"""Admin roles: the read-mostly Staff group that `createuser --staff` joins, and superusers."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from accounts.models import User

STAFF_GROUP_NAME = "Staff"
# Besides viewing every model, staff handle alerts from Pipeline health: acknowledging and
# resolving an alert are changes to it. Named by label so accounts imports no other app.
STAFF_EXTRA_PERMISSIONS = (("monitoring", "change_alert"),)


def staff_group_ensure() -> Group:
    """Create or update the Staff group: view every model, act on alerts.

    Idempotent; run again after a migration adds models, it grants the view permissions of the
    new ones too. Permissions exist only after `migrate` has run (Django creates them then).
    """
    extra = Q()
    for app_label, codename in STAFF_EXTRA_PERMISSIONS:
        extra |= Q(content_type__app_label=app_label, codename=codename)
    permissions = Permission.objects.filter(Q(codename__startswith="view_") | extra)
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=STAFF_GROUP_NAME)
        group.permissions.set(permissions)
    return group


def user_role_grant(*, user: User, staff: bool = False, superuser: bool = False) -> User:
    """Give `user` the admin: `staff` joins the Staff group, `superuser` may do everything."""
    if not (staff or superuser):
        return user
    with transaction.atomic():
        user.is_staff = True
        user.is_superuser = superuser
        user.save(update_fields=["is_staff", "is_superuser"])
        if staff and not superuser:
            user.groups.add(staff_group_ensure())
    return user
