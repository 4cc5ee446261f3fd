"""The webhook pages of the account: endpoints, their secrets, test events, the delivery log."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.api.authentication import request_user
from webhooks.forms import WebhookEndpointForm
from webhooks.selectors import (
    webhook_delivery_get_for_user,
    webhook_delivery_list_for_endpoint,
    webhook_endpoint_get_for_user,
    webhook_endpoint_list_for_user,
)
from webhooks.services import (
    WebhookUrlRefused,
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)


@login_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = WebhookEndpointForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                endpoint = webhook_endpoint_create(
                    owner=user,
                    url=form.cleaned_data["url"],
                    events=list(form.cleaned_data["events"]),
                    description=form.cleaned_data["description"],
                )
            except WebhookUrlRefused as refused:
                form.add_error("url", refused.detail)
            else:
                # The secret is rendered once, in this response, and never shown again.
                return render(
                    request,
                    "webhooks/secret.html",
                    {"endpoint": endpoint, "secret": endpoint.secret},
                    status=201,
                )
        status = 422 if form.errors else 400
    return render(
        request,
        "webhooks/endpoint_list.html",
        {"form": form, "endpoints": webhook_endpoint_list_for_user(user=user)},
        status=status,
    )


@login_required
def endpoint_detail(request: HttpRequest, endpoint_id: UUID) -> HttpResponse:
    endpoint = webhook_endpoint_get_for_user(user=request_user(request), public_id=endpoint_id)
    deliveries = webhook_delivery_list_for_endpoint(endpoint=endpoint)[:50]
    return render(
        request, "webhooks/endpoint_detail.html", {"endpoint": endpoint, "deliveries": deliveries}
    )


@login_required
@require_POST
def endpoint_action(request: HttpRequest, endpoint_id: UUID, action: str) -> HttpResponse:
    endpoint = webhook_endpoint_get_for_user(user=request_user(request), public_id=endpoint_id)
    if action == "rotate":
        endpoint = webhook_endpoint_rotate_secret(endpoint=endpoint)
        return render(
            request, "webhooks/secret.html", {"endpoint": endpoint, "secret": endpoint.secret}
        )
    if action == "test":
        webhook_endpoint_send_test(endpoint=endpoint)
        messages.success(request, "A test event is on its way.")
    elif action == "enable":
        webhook_endpoint_update(endpoint=endpoint, enabled=True)
        messages.success(request, "The endpoint is enabled again.")
    elif action == "disable":
        webhook_endpoint_update(endpoint=endpoint, enabled=False)
        messages.success(request, "The endpoint is disabled.")
    elif action == "delete":
        webhook_endpoint_delete(endpoint=endpoint)
        messages.success(request, "The endpoint is deleted.")
        return redirect("webhooks:endpoint-list")
    else:
        raise Http404("No such action.")
    return redirect("webhooks:endpoint-detail", endpoint_id=endpoint_id)


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, endpoint_id: UUID, delivery_id: UUID) -> HttpResponse:
    delivery = webhook_delivery_get_for_user(
        user=request_user(request), endpoint_public_id=endpoint_id, public_id=delivery_id
    )
    webhook_delivery_redeliver(delivery=delivery)
    messages.success(request, f"Message {delivery.message_id} will be sent again.")
    return redirect("webhooks:endpoint-detail", endpoint_id=endpoint_id)
