"""Display preferences: the colour theme, kept on the user or, signed out, in a cookie."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Theme, User

THEME_COOKIE = "phonoglyph_theme"
THEME_COOKIE_MAX_AGE = 365 * 24 * 3600


def theme_parse(value: str) -> str:
    """Return `value` if it names a theme, else "system" (follow prefers-color-scheme)."""
    return value if value in Theme.values else Theme.SYSTEM


def user_theme_set(*, user: User, theme: str) -> None:
    """Remember `theme` for `user`; an unknown value means following the system."""
    User.objects.filter(pk=user.pk).update(theme=theme_parse(theme))


def theme_for_request(request: HttpRequest) -> str:
    """The theme to render: the user's choice, else the cookie's, else the system's."""
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated:
        return theme_parse(user.theme)
    return theme_parse(request.COOKIES.get(THEME_COOKIE, ""))


def theme_context(request: HttpRequest) -> dict[str, str]:
    """Template context processor: `theme` is "system", "light" or "dark"."""
    return {"theme": theme_for_request(request)}
