from __future__ import annotations

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("me/", views.MeApi.as_view(), name="me"),
    path("auth/login/", views.LoginApi.as_view(), name="auth-login"),
    path("api-keys/", views.ApiKeyListCreateApi.as_view(), name="api-key-list"),
    path("api-keys/<uuid:api_key_id>/", views.ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
]
