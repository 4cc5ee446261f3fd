from __future__ import annotations

from django.urls import path

from billing.api import views

urlpatterns = [
    path("credits/", views.CreditBalanceApi.as_view(), name="credit-balance"),
    path("credits/transfers/", views.TransferListApi.as_view(), name="credit-transfer-list"),
    path("usage/", views.UsageApi.as_view(), name="usage"),
]
