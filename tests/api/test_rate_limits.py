"""Rate limits: the sliding window in memory and in Redis, and what a client sees through the API.

The Redis tests run against the real server at 127.0.0.1:6379 and fail (never skip) when it is down:
CI runs them with Redis up. Each test counts under its own key prefix and deletes its keys after.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import WINDOW_SECONDS, MemoryRateLimiter, RateLimiter, RedisRateLimiter, Verdict
from knowledge.service import AnswerService
from tests.conftest import make_api_settings

REDIS_URL = "redis://127.0.0.1:6379/0"
# Window-aligned start: tests say "10 s into a window" and mean it.
T0 = 1_700_000_040.0
assert T0 % WINDOW_SECONDS == 0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def hits(limiter: RateLimiter, key: str, limit: int, count: int) -> list[Verdict]:
    return [limiter.hit(key, limit) for _ in range(count)]


MakeLimiter = Callable[[Clock], RedisRateLimiter]

# -- in memory --------------------------------------------------------------------------------


def test_limit_holds_within_a_window() -> None:
    clock = Clock(T0 + 5)
    limiter = MemoryRateLimiter(clock=clock)

    allowed = hits(limiter, "user:a", 5, 5)
    clock.advance(40)  # later, but the same minute
    refused = hits(limiter, "user:a", 5, 3)

    assert all(verdict.allowed for verdict in allowed)
    assert not any(verdict.allowed for verdict in refused)
    assert all(verdict.retry_after >= 1 for verdict in refused)


def test_keys_have_their_own_budgets() -> None:
    limiter = MemoryRateLimiter(clock=Clock())
    hits(limiter, "user:abuser", 3, 10)

    assert limiter.hit("user:other", 3).allowed
    assert limiter.hit("ip:10.0.0.1", 3).allowed


def test_previous_window_weighs_at_the_start_of_the_next() -> None:
    """A burst at the end of one minute still counts a moment later: no double budget at the boundary."""
    clock = Clock(T0 + 59)
    limiter = MemoryRateLimiter(clock=clock)
    assert all(v.allowed for v in hits(limiter, "user:a", 10, 10))

    clock.advance(2)  # 1 s into the next window: the estimate is still ~9.8 + 1

    assert not limiter.hit("user:a", 10).allowed


def test_sliding_estimate_lets_traffic_back_after_a_window() -> None:
    clock = Clock(T0 + 1)
    limiter = MemoryRateLimiter(clock=clock)
    assert all(v.allowed for v in hits(limiter, "user:a", 10, 10))

    clock.now = T0 + WINDOW_SECONDS + 30  # half-way through the next minute the burst weighs 10 * 0.5
    half_way = hits(limiter, "user:a", 10, 6)
    clock.now = T0 + 3 * WINDOW_SECONDS + 1  # after a quiet minute nothing weighs any more
    later = hits(limiter, "user:a", 10, 11)

    assert [v.allowed for v in half_way] == [True] * 5 + [False]
    assert [v.allowed for v in later] == [True] * 10 + [False]


def test_a_client_that_keeps_hammering_stays_refused() -> None:
    """Refused requests count too, so retrying in a tight loop does not wear the limit down."""
    clock = Clock(T0 + 1)
    limiter = MemoryRateLimiter(clock=clock)
    hits(limiter, "user:a", 10, 10)
    for _ in range(WINDOW_SECONDS * 2):
        clock.advance(1)
        hits(limiter, "user:a", 10, 5)  # 5 a second, all refused

    assert not limiter.hit("user:a", 10).allowed


# Histories of (seconds into the first window, number of hits) ending in a refusal: a burst early
# in a window, one just before its end, one just after a boundary, and a client hammering.
HISTORIES = {
    "burst-early": [(2.0, 31)],
    "burst-late": [(50.0, 31)],
    "across-boundary": [(59.5, 30), (60.5, 1)],
    "hammering": [(10.0, 30), (20.0, 40), (45.0, 40)],
    "steady": [(second + 0.5, 1) for second in range(0, 90, 2)] + [(90.5, 20)],
}


def replay(history: list[tuple[float, int]], limit: int) -> tuple[MemoryRateLimiter, Clock, Verdict]:
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)
    verdict = Verdict(True)
    for offset, count in history:
        clock.now = T0 + offset
        verdict = hits(limiter, "user:a", limit, count)[-1]
    return limiter, clock, verdict


@pytest.mark.parametrize("name", HISTORIES)
def test_retry_after_is_when_the_client_is_served_again(name: str) -> None:
    """Coming back after Retry-After works; coming back 2 s earlier does not (the header is tight)."""
    limiter, clock, verdict = replay(HISTORIES[name], limit=30)
    assert not verdict.allowed
    assert 1 <= verdict.retry_after <= 2 * WINDOW_SECONDS

    early, early_clock, _ = replay(HISTORIES[name], limit=30)
    early_clock.advance(verdict.retry_after - 2)
    clock.advance(verdict.retry_after)

    assert limiter.hit("user:a", 30).allowed
    if verdict.retry_after > 2:
        assert not early.hit("user:a", 30).allowed


def test_retry_after_at_the_start_of_a_window_is_seconds_not_a_minute() -> None:
    """Just after a boundary the previous burst fades within seconds; a full minute would be wrong."""
    _, _, verdict = replay(HISTORIES["across-boundary"], limit=30)

    assert not verdict.allowed
    assert verdict.retry_after <= 5


def test_reset_forgets_every_key() -> None:
    limiter = MemoryRateLimiter(clock=Clock())
    hits(limiter, "user:a", 2, 5)
    limiter.reset()

    assert limiter.hit("user:a", 2).allowed


# -- in Redis ---------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A key prefix of this test's own (every RedisRateLimiter made during it uses it); keys deleted after."""
    import redis

    prefix = f"test:rl:{uuid.uuid4().hex}:"
    connection = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}); these tests need it", pytrace=False)
    monkeypatch.setattr(RedisRateLimiter, "PREFIX", prefix)
    yield prefix
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def redis_limiter(redis_prefix: str) -> MakeLimiter:
    def make(clock: Clock) -> RedisRateLimiter:
        return RedisRateLimiter(REDIS_URL, clock=clock)

    return make


def test_redis_limit_holds_within_a_window(redis_limiter: MakeLimiter) -> None:
    limiter = redis_limiter(Clock(T0 + 5))

    verdicts = hits(limiter, "user:a", 5, 8)

    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 3
    assert limiter.hit("user:b", 5).allowed


@pytest.mark.parametrize("name", HISTORIES)
def test_redis_and_memory_limiters_agree_hit_by_hit(redis_limiter: MakeLimiter, name: str) -> None:
    """The same history gives the same verdicts and Retry-After in Redis as in memory."""
    clock = Clock()
    in_redis, in_memory = redis_limiter(clock), MemoryRateLimiter(clock=clock)
    history = [*HISTORIES[name], (HISTORIES[name][-1][0] + 30, 5), (HISTORIES[name][-1][0] + 95, 12)]
    for offset, count in history:
        clock.now = T0 + offset

        assert hits(in_redis, "user:a", 30, count) == hits(in_memory, "user:a", 30, count)


def test_two_workers_share_one_budget(redis_limiter: MakeLimiter) -> None:
    """Two limiter instances (two processes behind a load balancer) count against one budget."""
    clock = Clock(T0 + 10)
    first, second = redis_limiter(clock), redis_limiter(clock)

    verdicts = [(first if i % 2 else second).hit("user:a", 6) for i in range(10)]

    assert [v.allowed for v in verdicts] == [True] * 6 + [False] * 4
    assert not first.hit("user:a", 6).allowed
    assert not second.hit("user:a", 6).allowed


def test_redis_counters_expire(redis_limiter: MakeLimiter, redis_prefix: str) -> None:
    """Every counter carries a TTL of at most two windows, so Redis does not fill up with old keys."""
    import redis

    limiter = redis_limiter(Clock(T0 + 10))
    hits(limiter, "user:a", 5, 3)
    hits(limiter, "ip:10.0.0.1", 5, 3)

    connection = redis.Redis.from_url(REDIS_URL)
    ttls = [connection.ttl(key) for key in connection.scan_iter(f"{redis_prefix}*")]
    assert len(ttls) == 2
    assert all(0 < ttl <= 2 * WINDOW_SECONDS for ttl in ttls)


def test_redis_reset_forgets_its_keys(redis_limiter: MakeLimiter) -> None:
    limiter = redis_limiter(Clock(T0 + 10))
    hits(limiter, "user:a", 2, 5)
    limiter.reset()

    assert limiter.hit("user:a", 2).allowed


# -- through the API --------------------------------------------------------------------------

QUESTION = "Lệ phí đăng ký khai sinh là bao nhiêu?"


def ask(client: TestClient, session_id: str) -> httpx.Response:
    return client.post("/v1/ask", json={"question": QUESTION, "session_id": session_id, "channel": "web"})


def assert_refused_politely(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert response.json() == {"detail": "Bạn gửi quá nhiều yêu cầu, vui lòng thử lại sau ít phút."}
    assert 1 <= int(response.headers["retry-after"]) <= 2 * WINDOW_SECONDS


def test_abusive_session_is_refused_while_others_are_served(tmp_path: Path, fixture_service: AnswerService) -> None:
    """Default limits, in memory: the 31st question of one session in a minute gets 429; others get answers."""
    settings = make_api_settings(tmp_path)
    limit = settings.rate_limit_user_per_minute
    limiter = MemoryRateLimiter(clock=Clock(T0 + 10))  # frozen: the whole test is within one minute
    with TestClient(create_app(settings, service=fixture_service, limiter=limiter)) as client:
        abuser = [ask(client, "abuser").status_code for _ in range(limit)]
        refused = [ask(client, "abuser") for _ in range(5)]
        others = [ask(client, f"citizen-{n}") for n in range(5)]

    assert abuser == [200] * limit
    for response in refused:
        assert_refused_politely(response)
    assert [response.status_code for response in others] == [200] * 5
    assert all(response.json()["reply"] for response in others)


def test_the_same_session_id_on_another_channel_is_another_user(tmp_path: Path, fixture_service: AnswerService) -> None:
    limiter = MemoryRateLimiter(clock=Clock(T0 + 10))
    settings = make_api_settings(tmp_path, rate_limit_user_per_minute=3)
    with TestClient(create_app(settings, service=fixture_service, limiter=limiter)) as client:
        [ask(client, "s-1") for _ in range(4)]
        other_channel = client.post("/v1/ask", json={"question": QUESTION, "session_id": "s-1", "channel": "api"})

    assert other_channel.status_code == 200


def test_two_apps_sharing_redis_see_one_budget(
    tmp_path: Path, fixture_service: AnswerService, redis_prefix: str
) -> None:
    """Two app instances configured with one Redis: the abuser's requests, split between them, share a
    budget; other sessions are still answered by both."""
    settings = make_api_settings(tmp_path, redis_url=REDIS_URL)
    limit = settings.rate_limit_user_per_minute
    abuser = f"abuser-{uuid.uuid4().hex[:8]}"
    first_app = create_app(settings, service=fixture_service)
    second_app = create_app(settings, service=fixture_service)
    with TestClient(first_app) as first, TestClient(second_app) as second:
        # Real clock: the first `limit` hits are served whatever the window (the estimate never exceeds
        # the hits made); a refusal must follow within a few more.
        served = [ask(first if n % 2 else second, abuser).status_code for n in range(limit)]
        after = [ask(first if n % 2 else second, abuser) for n in range(6)]
        others = [ask(client, f"citizen-{uuid.uuid4().hex[:8]}") for client in (first, second)]

    assert served == [200] * limit
    assert_refused_politely(after[-1])
    assert sum(response.status_code == 429 for response in after) >= 4
    assert [response.status_code for response in others] == [200, 200]


def test_redis_down_falls_back_to_per_worker_limits() -> None:
    from api.ratelimit import RedisRateLimiter

    limiter = RedisRateLimiter("redis://127.0.0.1:9/0")  # nothing listens there
    verdicts = [limiter.hit("user:web:down", 3).allowed for _ in range(5)]
    assert verdicts == [True, True, True, False, False] and limiter.available is False


def test_the_api_keeps_answering_when_redis_is_down(tmp_path, fixture_service) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import make_api_settings

    settings = make_api_settings(tmp_path, redis_url="redis://127.0.0.1:9/0")
    with TestClient(create_app(settings, service=fixture_service)) as client:
        body = client.post("/v1/ask", json={"question": "đăng ký khai sinh ở đâu", "session_id": "r"})
        assert body.status_code == 200 and body.json()["procedure"]["code"] == "1.001193"
        ready = client.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["checks"]["rate_limits"].startswith("redis unreachable")
