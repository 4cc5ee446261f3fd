"""Every /api/v1/ request spends from its caller's plan; over budget is 429 with Retry-After."""

from __future__ import annotations

import threading

import pytest

from accounts.models import Plan
from accounts.selectors import plan_for_user
from core.ratelimit import Policy, rate_limit_consume
from tests.analysis.conftest import give_credits
from tests.analysis.factories import MediaFileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["local", "redis"])
def limiter_backend(request, settings):
    """Both counters: in-process (no Redis, the embedded default) and Redis."""
    if request.param == "redis":
        settings.REDIS_URL = request.getfixturevalue("redis_url")
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()
    else:
        settings.REDIS_URL = ""
    return request.param


def _plan(user, **limits):
    defaults = {"requests_per_minute": 60, "requests_per_day": 1000, "concurrent_jobs": 2}
    plan = Plan.objects.create(name=f"plan-{user.pk}", **{**defaults, **limits})
    user.plan = plan
    user.save(update_fields=["plan"])
    return plan


def _remaining(response):
    fields = dict(item.strip().split(";", 1) for item in response["RateLimit"].split(","))
    return {
        name.strip('"'): int(params.split(";")[0].removeprefix("r="))
        for name, params in fields.items()
    }


def test_every_user_is_on_the_free_plan_unless_staff_choose_another(user, settings):
    settings.PHONOGLYPH_FREE_REQUESTS_PER_MINUTE = None
    settings.PHONOGLYPH_FREE_REQUESTS_PER_DAY = None
    free = plan_for_user(user=user)
    assert (free.name, free.requests_per_minute, free.requests_per_day) == ("free", 60, 1000)
    user.plan = Plan.objects.get(name="pro")
    pro = plan_for_user(user=user)
    assert (pro.name, pro.requests_per_minute, pro.requests_per_day) == ("pro", 600, 50000)


def test_settings_override_the_free_plans_budgets(user, settings):
    settings.PHONOGLYPH_FREE_REQUESTS_PER_MINUTE = 7
    settings.PHONOGLYPH_FREE_REQUESTS_PER_DAY = 70
    free = plan_for_user(user=user)
    assert (free.requests_per_minute, free.requests_per_day) == (7, 70)


def test_responses_carry_the_policy_and_what_remains(api_client, user, limiter_backend):
    _plan(user, requests_per_minute=60, requests_per_day=1000)
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response["RateLimit-Policy"] == '"minute";q=60;w=60, "day";q=1000;w=86400'
    assert _remaining(response) == {"minute": 59, "day": 999}
    assert response["RateLimit"].startswith('"minute";r=59;t=')


def test_reads_writes_and_job_starts_cost_differently(api_client, user, limiter_backend):
    _plan(user, requests_per_minute=100, requests_per_day=1000)
    assert _remaining(api_client.get("/api/v1/me/"))["minute"] == 99
    write = api_client.post("/api/v1/api-keys/", {"name": "ci"}, format="json")
    assert _remaining(write)["minute"] == 94
    give_credits(user)
    media = MediaFileFactory.create(owner=user)
    start = api_client.post("/api/v1/analyses/", {"media": str(media.public_id)}, format="json")
    assert start.status_code == 202
    assert _remaining(start)["minute"] == 84


def test_over_budget_is_429_problem_json_with_retry_after_and_the_policy(
    api_client, user, limiter_backend
):
    _plan(user, requests_per_minute=3, requests_per_day=1000)
    for _ in range(3):
        assert api_client.get("/api/v1/me/").status_code == 200
    refused = api_client.get("/api/v1/me/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["policy"] == {"name": "minute", "quota": 3, "window": 60}
    # One unit comes back every 20 s.
    assert 1 <= int(refused["Retry-After"]) <= 20
    assert body["retry_after"] == int(refused["Retry-After"])
    assert _remaining(refused)["minute"] == 0


def test_the_daily_budget_is_a_policy_of_its_own(api_client, user, limiter_backend):
    _plan(user, requests_per_minute=100, requests_per_day=2)
    api_client.get("/api/v1/me/")
    api_client.get("/api/v1/me/")
    refused = api_client.get("/api/v1/me/")
    assert refused.status_code == 429
    assert refused.json()["policy"]["name"] == "day"
    assert int(refused["Retry-After"]) > 60


def test_a_write_that_does_not_fit_is_refused_while_a_read_still_fits(
    api_client, user, limiter_backend
):
    _plan(user, requests_per_minute=7)
    assert api_client.post("/api/v1/api-keys/", {"name": "a"}, format="json").status_code == 201
    assert api_client.post("/api/v1/api-keys/", {"name": "b"}, format="json").status_code == 429
    assert api_client.get("/api/v1/me/").status_code == 200


def test_concurrent_clients_never_exceed_the_budget(limiter_backend):
    policies = (Policy("minute", 50, 60), Policy("day", 1000, 86400))
    allowed: list[bool] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(25):
            decision = rate_limit_consume(subject="race", policies=policies, cost=1)
            with lock:
                allowed.append(decision.allowed)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 200
    assert allowed.count(True) == 50


def test_too_many_concurrent_jobs_is_429_too_many_jobs(api_client, user, settings):
    settings.PHONOGLYPH_FREE_CONCURRENT_JOBS = None
    _plan(user, concurrent_jobs=1, requests_per_minute=1000)
    give_credits(user)
    media = MediaFileFactory.create(owner=user)
    first = api_client.post("/api/v1/analyses/", {"media": str(media.public_id)}, format="json")
    assert first.status_code == 202
    second = api_client.post(
        "/api/v1/analyses/", {"media": str(media.public_id), "features": ["tempo"]}, format="json"
    )
    assert second.status_code == 429
    assert second["Content-Type"] == "application/problem+json"
    assert second.json()["code"] == "too_many_jobs"
    api_client.post(f"/api/v1/analyses/{first.json()['id']}/cancel/")
    third = api_client.post(
        "/api/v1/analyses/", {"media": str(media.public_id), "features": ["tempo"]}, format="json"
    )
    assert third.status_code == 202
