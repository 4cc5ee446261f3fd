"""Count requests against budgets atomically: a token bucket (GCRA) per key and window.

Each policy allows `quota` cost units per `window` seconds, refilled continuously, with
bursts up to the whole quota. One call checks every policy of a caller and spends `cost` on
all of them or on none, so the minute and the day budgets never disagree.

With REDIS_URL the state lives in Redis and one Lua script does the check and the spend, so
any number of processes sharing the Redis never let through more than the budget. Without
it (the embedded single-process setup) it lives in this process under a lock: exact within
that process, which is all there is.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# A rate-limit check must not hold a request for long when Redis stops answering.
REDIS_TIMEOUT_SECONDS = 1.0
REDIS_RETRY_SECONDS = 5.0

# KEYS: one per policy. ARGV: cost, then quota and window (seconds) per policy.
# The theoretical arrival time (TAT) of a key is when its bucket would be full again;
# spending `cost` moves it by cost * window / quota, refused past now + window.
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = tonumber(ARGV[1])
local after = {}
local violated = 0
local retry = 0
for i = 1, #KEYS do
  local quota = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local new_tat = tat + cost * window / quota
  if new_tat - now > window then
    if new_tat - now - window > retry then
      violated = i
      retry = new_tat - now - window
    end
    after[i] = tat
  else
    after[i] = new_tat
  end
end
if violated == 0 then
  for i = 1, #KEYS do
    redis.call('SET', KEYS[i], tostring(after[i]), 'PX', math.ceil((after[i] - now) * 1000) + 1000)
  end
end
local out = {violated, tostring(retry)}
for i = 1, #KEYS do
  out[#out + 1] = tostring(after[i] - now)
end
return out
"""


@dataclass(frozen=True)
class Policy:
    name: str
    quota: int
    window: int


@dataclass(frozen=True)
class PolicyState:
    policy: Policy
    remaining: int
    # Seconds until the bucket is full again.
    reset: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    states: tuple[PolicyState, ...]
    violated: Policy | None
    # Seconds to wait before the same request would be allowed (0 when allowed).
    retry_after: int


def _state(policy: Policy, backlog: float) -> PolicyState:
    """A policy's remaining units and reset time, given the seconds its TAT is ahead of now."""
    interval = policy.window / policy.quota
    # Redis's clock is epoch seconds in a double: its sub-microsecond rounding must not turn
    # a whole unit into 0.9999999.
    remaining = max(0, math.floor((policy.window - backlog) / interval + 1e-6))
    return PolicyState(policy=policy, remaining=remaining, reset=max(0, math.ceil(backlog)))


def _decision(
    policies: tuple[Policy, ...], violated: int, retry: float, backlogs: list[float]
) -> Decision:
    return Decision(
        allowed=violated == 0,
        states=tuple(_state(p, b) for p, b in zip(policies, backlogs, strict=True)),
        violated=policies[violated - 1] if violated else None,
        retry_after=max(1, math.ceil(retry)) if violated else 0,
    )


@cache
def _redis_script(url: str) -> Any:
    import redis

    return redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    ).register_script(_LUA)


_lock = threading.Lock()
_local: dict[str, float] = {}
# Until this monotonic time Redis is taken as down and each process counts on its own.
_redis_down_until = 0.0


def rate_limit_reset_local() -> None:
    """Forget the in-process counts and any Redis outage (tests; Redis counts expire)."""
    global _redis_down_until
    with _lock:
        _local.clear()
        _redis_down_until = 0.0


def _consume_local(keys: list[str], policies: tuple[Policy, ...], cost: int) -> Decision:
    with _lock:
        now = time.monotonic()
        after: list[float] = []
        violated, retry = 0, 0.0
        for index, (key, policy) in enumerate(zip(keys, policies, strict=True), start=1):
            tat = max(_local.get(key, 0.0), now)
            new_tat = tat + cost * policy.window / policy.quota
            if new_tat - now > policy.window:
                if new_tat - now - policy.window > retry:
                    violated, retry = index, new_tat - now - policy.window
                after.append(tat)
            else:
                after.append(new_tat)
        if violated == 0:
            _local.update(zip(keys, after, strict=True))
        return _decision(policies, violated, retry, [moment - now for moment in after])


def rate_limit_consume(*, subject: str, policies: tuple[Policy, ...], cost: int) -> Decision:
    """Spend `cost` units of `subject` on every policy, or none when any would go over.

    When Redis is configured but unreachable, each process counts on its own for
    REDIS_RETRY_SECONDS before trying Redis again: the limits stay bounded (by the number of
    processes) and the API keeps answering rather than failing every request.
    """
    global _redis_down_until
    keys = [f"ratelimit:{subject}:{policy.name}" for policy in policies]
    if not settings.REDIS_URL or time.monotonic() < _redis_down_until:
        return _consume_local(keys, policies, cost)
    import redis

    args: list[int] = [cost]
    for policy in policies:
        args += [policy.quota, policy.window]
    try:
        result = _redis_script(settings.REDIS_URL)(keys=keys, args=args)
    except redis.RedisError as error:
        logger.warning("rate limits counted in-process: Redis is unreachable (%s)", error)
        _redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        return _consume_local(keys, policies, cost)
    violated, retry = int(result[0]), float(result[1])
    return _decision(policies, violated, retry, [float(value) for value in result[2:]])


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    """The `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers)."""
    return {
        "RateLimit-Policy": ", ".join(
            f'"{state.policy.name}";q={state.policy.quota};w={state.policy.window}'
            for state in decision.states
        ),
        "RateLimit": ", ".join(
            f'"{state.policy.name}";r={state.remaining};t={state.reset}'
            for state in decision.states
        ),
    }
