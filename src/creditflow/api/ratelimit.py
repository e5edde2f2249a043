"""Token-bucket rate limiting per authenticated subject on the submission endpoints.

Why per subject and only on submissions: creating applications, uploading documents and
submitting start workflows, write blobs and call the NLP service, so one client (a script
with a stolen or a buggy token) could flood the worker and the officer queues. Reads are
cheap and stay unlimited. The key is the *verified* JWT subject, never an unverified claim
(anyone could then drain a victim's bucket with forged tokens) and never the client address
(applicants behind one NAT would share a bucket).

Why in-process: one API process is what `creditflow up` runs. Behind several API replicas
each replica would keep its own buckets, so the effective limit becomes N times the
configured one; production with replicas should keep the buckets in a shared store (Redis
with a Lua token-bucket script, or the gateway's limiter) behind the same `RateLimiter.hit`
interface.

Each subject has one bucket per endpoint group (create, documents, submit), all sized in
"applications": with the defaults an applicant may create 60 applications at once and 120
a minute after that, upload 4 documents per application and submit each of them.

Configuration: environment `CREDITFLOW_RATE_LIMIT_PER_MINUTE` (default 120),
`CREDITFLOW_RATE_LIMIT_BURST` (default 60), `CREDITFLOW_RATE_LIMIT_ENABLED` (default true),
or at run time by replacing `app.state.rate_limiter` with another `RateLimiter`.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RateLimitSettings(BaseSettings):
    """Limits read from the environment (prefix CREDITFLOW_RATE_LIMIT_)."""

    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_RATE_LIMIT_", extra="ignore")

    enabled: bool = True
    # Sustained rate: tokens added per minute. Generous by default: the end-to-end tests
    # create ~50 applications in a burst and an applicant never needs more than a handful.
    per_minute: float = Field(120.0, gt=0)
    # Bucket size: how many requests may arrive at once after a quiet period.
    burst: int = Field(60, ge=1)
    # Buckets kept in memory; the least recently used is forgotten (a forgotten bucket is a
    # full bucket, so eviction can only make the limiter more lenient, never stricter).
    max_subjects: int = Field(10_000, ge=1)


@dataclass(frozen=True)
class Decision:
    """Outcome of one `hit`: allowed or not, and how long to wait before the next token."""

    allowed: bool
    retry_after_seconds: float
    remaining: int


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by subject. Thread-safe; time comes from an injectable clock."""

    def __init__(
        self,
        per_minute: float = 120.0,
        burst: int = 60,
        *,
        max_subjects: int = 10_000,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or burst < 1 or max_subjects < 1:
            raise ValueError("per_minute must be > 0, burst and max_subjects >= 1")
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = burst
        self.max_subjects = max_subjects
        self.enabled = enabled
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: RateLimitSettings | None = None) -> "RateLimiter":
        s = settings or RateLimitSettings()
        return cls(s.per_minute, s.burst, max_subjects=s.max_subjects, enabled=s.enabled)

    def hit(self, subject: str, cost: float = 1.0) -> Decision:
        """Take `cost` tokens from the subject's bucket if it has them."""
        if not self.enabled:
            return Decision(True, 0.0, self.burst)
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(subject)
            if bucket is None:
                bucket = _Bucket(tokens=float(self.burst), updated=now)
                self._buckets[subject] = bucket
                while len(self._buckets) > self.max_subjects:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(subject)
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
                bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return Decision(True, 0.0, int(bucket.tokens))
            wait = (cost - bucket.tokens) / self.rate
            return Decision(False, wait, 0)

    def reset(self, subject: str | None = None) -> None:
        """Forget one subject's bucket, or all of them."""
        with self._lock:
            if subject is None:
                self._buckets.clear()
            else:
                self._buckets.pop(subject, None)


def retry_after_header(seconds: float) -> str:
    """RFC 9110 Retry-After as whole seconds, never 0 (a client would retry at once)."""
    return str(max(1, math.ceil(seconds)))


# Documents an application normally needs (3 required + 1 spare): the upload bucket holds
# that many uploads per application-sized token, so "N applications per minute" stays true
# for an applicant who creates, uploads and submits each one.
DOCUMENTS_PER_APPLICATION = 4


@dataclass(frozen=True)
class LimitedRoute:
    method: str
    pattern: re.Pattern[str]
    group: str  # each group has its own bucket per subject
    cost: float  # tokens one request takes


# The submission endpoints. Paths are matched on the raw request path, before routing, so
# the limiter answers without touching the database.
LIMITED_ROUTES: tuple[LimitedRoute, ...] = (
    LimitedRoute("POST", re.compile(r"^/v1/applications/?$"), "create", 1.0),
    LimitedRoute("POST", re.compile(r"^/v1/applications/[^/]+/documents/?$"), "documents",
                 1.0 / DOCUMENTS_PER_APPLICATION),
    LimitedRoute("POST", re.compile(r"^/v1/applications/[^/]+/submit/?$"), "submit", 1.0),
)


def limited_route(method: str, path: str) -> LimitedRoute | None:
    """The rate-limited route a request belongs to, if any."""
    for route in LIMITED_ROUTES:
        if method == route.method and route.pattern.match(path):
            return route
    return None


def is_limited(method: str, path: str) -> bool:
    return limited_route(method, path) is not None
