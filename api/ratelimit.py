"""Rate limits: a sliding window of one minute per key (a user, an IP address).

In this process's memory by default; in Redis when ``ASSISTANT_REDIS_URL`` is set, so that every
worker behind a load balancer counts against the same budget. The window is approximated from
the current and the previous fixed window (the weighting Redis' and nginx's limiters use), which
costs two counters per key instead of a log of timestamps.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

WINDOW_SECONDS = 60
log = logging.getLogger("api.ratelimit")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def _estimate(previous: int, current: int, now: float) -> float:
    elapsed_share = (now % WINDOW_SECONDS) / WINDOW_SECONDS
    return previous * (1 - elapsed_share) + current


def _retry_after(previous: int, current: int, limit: int, now: float) -> int:
    """Seconds until the next hit of this key would be allowed, if none comes before it.

    Not simply "until this window ends": the previous window keeps weighing at the start of the next
    one (a client obeying that would be refused again), and it may fade enough within this one.
    """
    elapsed = now % WINDOW_SECONDS
    if previous and current + 1 <= limit:
        # Still in this window: previous * (1 - share) + current + 1 <= limit.
        share = 1 - (limit - current - 1) / previous
        wait = share * WINDOW_SECONDS - elapsed
    else:
        # In the next one, where this window's count becomes the previous: current * (1 - share) + 1 <= limit.
        share = max(0.0, 1 - (limit - 1) / current) if current else 0.0
        wait = WINDOW_SECONDS - elapsed + share * WINDOW_SECONDS
    return max(1, math.ceil(wait))


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int) -> Verdict: ...

    def reset(self) -> None: ...


class MemoryRateLimiter:
    """Counts in this process; refused requests count too, as in Redis."""

    def __init__(self, clock=time.time) -> None:  # noqa: ANN001 - a () -> float
        self._clock = clock
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> Verdict:
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        with self._lock:
            if len(self._counts) > 200_000:  # drop windows that can no longer count
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window - 1}
            previous = self._counts.get((key, window - 1), 0)
            current = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = current
        if _estimate(previous, current, now) > limit:
            return Verdict(False, _retry_after(previous, current, limit, now))
        return Verdict(True)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class RedisRateLimiter:
    """The same window in Redis: INCR of the current window's counter and a read of the previous one,
    in one round trip. Refused requests count too, so a client that keeps hammering stays refused."""

    PREFIX = "tthc:rl:"
    WARN_EVERY_SECONDS = 60.0

    def __init__(self, url: str, clock=time.time) -> None:  # noqa: ANN001
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._errors = (redis.RedisError, OSError)
        self._clock = clock
        # Redis down must not take the assistant down: each worker then counts on its own.
        self._fallback = MemoryRateLimiter(clock)
        self._warned_at = -self.WARN_EVERY_SECONDS
        self.available = True

    def hit(self, key: str, limit: int) -> Verdict:
        try:
            verdict = self._shared_hit(key, limit)
        except self._errors as error:
            self.available = False
            if time.monotonic() - self._warned_at >= self.WARN_EVERY_SECONDS:
                self._warned_at = time.monotonic()
                log.warning("Redis unreachable (%s): rate limits counted per worker", type(error).__name__)
            return self._fallback.hit(key, limit)
        self.available = True
        return verdict

    def _shared_hit(self, key: str, limit: int) -> Verdict:
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        current_key = f"{self.PREFIX}{key}:{window}"
        previous_key = f"{self.PREFIX}{key}:{window - 1}"
        pipe = self._redis.pipeline()
        pipe.get(previous_key)
        pipe.incr(current_key)
        pipe.expire(current_key, 2 * WINDOW_SECONDS)
        previous, current, _ = pipe.execute()
        previous, current = int(previous or 0), int(current)
        if _estimate(previous, current, now) > limit:
            return Verdict(False, _retry_after(previous, current, limit, now))
        return Verdict(True)

    def reset(self) -> None:
        for key in self._redis.scan_iter(f"{self.PREFIX}*"):
            self._redis.delete(key)

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except Exception:  # noqa: BLE001 - reported as a failed check
            return False


def make_rate_limiter(redis_url: str) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
