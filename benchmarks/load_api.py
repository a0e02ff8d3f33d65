"""Load test of the HTTP API on loopback: many concurrent citizens asking and searching.

usage: python benchmarks/load_api.py [--clients 50] [--seconds 60] [--think 0] [--url URL [--pid PID]]

Without ``--url`` it starts the real server (``python -m api serve`` on a free port, the full knowledge
base from the user's cache, built first if missing, which can take minutes), waits for /health/ready
and stops it at the end. The server's conversation store goes to a temporary SQLite file (thousands
of test turns do not belong in the user's store) and any ``ASSISTANT_RATE_LIMIT_*`` variable is
dropped, so the limits are the defaults: 429s are reported as errors, never avoided.

Each client has its own session id and alternates POST /v1/ask (dev-set questions, a third typed
without diacritics) and GET /v1/search (a prefix of a question, as search-as-you-type sends), waiting
about ``--think`` seconds between requests (0: as fast as the server answers). Printed per route and
overall: requests, errors (non-2xx, 429 included, and exceptions), throughput, latency percentiles of
the served (2xx) requests, each client's request rate; then the server's peak RSS (VmHWM). The exit
status is 1 if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from percentiles import percentile

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
DEV_SET = Path("../shared/eval/dev.jsonl")  # relative to the repository root: the shared data beside it
ROUTES = ("POST /v1/ask", "GET /v1/search")


@dataclass
class RouteStats:
    latencies_ms: list[float] = field(default_factory=list)  # served (2xx) requests only
    statuses: Counter = field(default_factory=Counter)
    exceptions: Counter = field(default_factory=Counter)
    per_client: Counter = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.exceptions.values())

    @property
    def errors(self) -> int:
        return self.requests - len(self.latencies_ms)

    def merge(self, other: RouteStats) -> None:
        self.latencies_ms += other.latencies_ms
        self.statuses.update(other.statuses)
        self.exceptions.update(other.exceptions)
        self.per_client.update(other.per_client)


def without_diacritics(text: str) -> str:
    """What a citizen types on a keyboard without Vietnamese input: no tone marks, đ as d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def load_questions() -> list[str]:
    path = REPOSITORY_ROOT / DEV_SET
    questions = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    # Every third one without diacritics: a sizeable share of real messages are typed that way.
    return [without_diacritics(q) if i % 3 == 2 else q for i, q in enumerate(questions)]


# -- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, workdir: Path) -> tuple[subprocess.Popen, Path]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_RATE_LIMIT_")}
    env["ASSISTANT_DATABASE_URL"] = f"sqlite:///{workdir / 'load.sqlite3'}"
    log_path = workdir / "server.log"
    command = [sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning"]  # an access log line per request would cost the server CPU
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPOSITORY_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, log_path


def wait_ready(url: str, process: subprocess.Popen | None, log_path: Path | None, timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process is not None and process.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:] if log_path else ""
            raise SystemExit(f"the server exited with status {process.returncode} before it was ready:\n{tail}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=5).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"{url} was not ready after {timeout:.0f} s")


def refusals_by_limit(url: str) -> dict[str, float]:
    """The server's own count of 429s per limit (ip, user, search), read from /metrics."""
    try:
        text = httpx.get(f"{url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return {}
    counts = {}
    for line in text.splitlines():
        if line.startswith("tthc_rate_limited_total{"):
            labels, value = line.rsplit(" ", 1)
            counts[labels.split('scope="', 1)[1].split('"', 1)[0]] = float(value)
    return counts


def memory_kib(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# -- the clients ------------------------------------------------------------------------------


async def citizen(
    number: int, url: str, run_id: str, questions: list[str], deadline: float, think: float
) -> dict[str, RouteStats]:
    """One client: its own connection and session, ask and search in turn until the deadline."""
    rng = random.Random(number)
    stats = {route: RouteStats() for route in ROUTES}
    session_id = f"load-{run_id}-{number}"
    ask_turn = number % 2 == 0  # half the clients start with a search: both routes busy from the start
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        # People do not all press Enter in the same second: stagger the starts and vary the pauses.
        await asyncio.sleep(rng.uniform(0, think))
        while time.perf_counter() < deadline:
            question = rng.choice(questions)
            if ask_turn:
                route = ROUTES[0]
                request = client.post("/v1/ask", json={"question": question, "session_id": session_id})
            else:
                route = ROUTES[1]
                typed = question[: rng.randint(min(12, len(question)), min(len(question), 500))]
                request = client.get("/v1/search", params={"q": typed, "top_k": 10})
            ask_turn = not ask_turn
            started = time.perf_counter()
            try:
                response = await request
            except httpx.HTTPError as error:
                stats[route].exceptions[type(error).__name__] += 1
            else:
                stats[route].statuses[response.status_code] += 1
                if response.is_success:
                    stats[route].latencies_ms.append((time.perf_counter() - started) * 1000)
            stats[route].per_client[number] += 1
            if think:
                # not past the deadline: a trailing pause would dilute the throughput figure
                await asyncio.sleep(min(rng.uniform(0.5, 1.5) * think, max(0.0, deadline - time.perf_counter())))
    return stats


async def run_load(url: str, clients: int, seconds: float, think: float) -> tuple[dict[str, RouteStats], float]:
    questions = load_questions()
    run_id = f"{int(time.time()) % 1_000_000}"
    started = time.perf_counter()
    deadline = started + seconds
    results = await asyncio.gather(
        *(citizen(number, url, run_id, questions, deadline, think) for number in range(clients))
    )
    elapsed = time.perf_counter() - started
    totals = {route: RouteStats() for route in ROUTES}
    for result in results:
        for route, stats in result.items():
            totals[route].merge(stats)
    return totals, elapsed


# -- the report -------------------------------------------------------------------------------


def report(totals: dict[str, RouteStats], elapsed: float, clients: int) -> None:
    overall = RouteStats()
    for stats in totals.values():
        overall.merge(stats)
    header = (
        f"{'route':<16}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'req/min per client (mean / max)':>34}"
    )
    print(header)
    print("-" * len(header))
    for name, stats in [*totals.items(), ("overall", overall)]:
        minutes = elapsed / 60
        per_client = [stats.per_client[number] / minutes for number in range(clients)]
        print(
            f"{name:<16}{stats.requests:>9}{stats.errors:>8}{stats.requests / elapsed:>8.1f}"
            f"{percentile(stats.latencies_ms, 50):>9.0f}{percentile(stats.latencies_ms, 95):>9.0f}"
            f"{percentile(stats.latencies_ms, 99):>9.0f}"
            f"{sum(per_client) / clients:>23.1f} / {max(per_client):>7.1f}"
        )
    for name, stats in [*totals.items(), ("overall", overall)]:
        failed = {str(code): count for code, count in sorted(stats.statuses.items()) if code >= 300}
        failed.update(stats.exceptions)
        if failed:
            print(f"errors {name}: {', '.join(f'{kind}: {count}' for kind, count in failed.items())}")
    print("latencies are of the served (2xx) requests; throughput counts every request")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0, help="seconds each client waits between requests")
    parser.add_argument("--url", default=None, help="a running server (default: start one on a free port)")
    parser.add_argument("--pid", type=int, default=None, help="with --url: the server's pid, for its peak RSS")
    parser.add_argument("--startup-timeout", type=float, default=1800, help="seconds to wait for /health/ready")
    args = parser.parse_args()

    process = None
    with tempfile.TemporaryDirectory(prefix="tthc-load-") as workdir:
        log_path = None
        if args.url:
            url, pid = args.url.rstrip("/"), args.pid
        else:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            process, log_path = start_server(port, Path(workdir))
            pid = process.pid
            print(f"starting the server (pid {pid}) at {url}; log: {log_path}", flush=True)
        try:
            ready_after = wait_ready(url, process, log_path, args.startup_timeout)
            rss_ready = memory_kib(pid, "VmRSS") if pid else None
            print(f"ready after {ready_after:.1f} s", flush=True)
            print(
                f"{args.clients} clients for {args.seconds:.0f} s, think time {args.think:g} s, "
                "default rate limits of the server",
                flush=True,
            )
            totals, elapsed = asyncio.run(run_load(url, args.clients, args.seconds, args.think))
            peak = memory_kib(pid, "VmHWM") if pid else None
            refusals = refusals_by_limit(url)
        finally:
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

    print(f"ran {elapsed:.1f} s")
    report(totals, elapsed, args.clients)
    if refusals:
        print("429s by limit (server metrics): " + ", ".join(f"{scope}: {n:.0f}" for scope, n in refusals.items()))
    if peak is not None:
        print(f"server peak RSS (VmHWM): {peak / 1024:.0f} MiB (RSS when ready: {(rss_ready or 0) / 1024:.0f} MiB)")
    else:
        print("server peak RSS: unknown (give --pid with --url)")
    errors = sum(stats.errors for stats in totals.values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
