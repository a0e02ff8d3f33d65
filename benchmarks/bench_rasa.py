"""Chat round trip through Rasa with a custom action: p50/p95 over N messages.

Starts the app (serving the custom actions at /rasa/webhook) and a Rasa server on free local
ports, then sends conversations of questions and follow-ups (each one runs a custom action that
calls the answer service) and times:
  * api   — POST /v1/ask: API → Rasa REST channel → NLU + policies → action webhook → answer service
            → back, rebuilt into the API reply and stored (what a widget user waits for);
  * rasa  — POST /webhooks/rest/webhook straight to Rasa (the same path minus the API and store).

    .venv/bin/python benchmarks/bench_rasa.py [--messages 300] [--full]

--full uses the whole knowledge base (built if needed) instead of the 47-record fixture corpus.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from itertools import cycle
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bot import server
from knowledge.settings import REPOSITORY_ROOT

from percentiles import percentile

if TYPE_CHECKING:
    from knowledge.service import AnswerService

# One conversation: a question, then follow-ups; every message runs a custom action.
CONVERSATION = [
    "đăng ký khai sinh cần giấy tờ gì",
    "thế lệ phí bao nhiêu?",
    "nộp ở đâu",
    "mất bao lâu",
    "dang ky tam tru can gi",
    "the nop o dau",
    "cấp lại giấy phép lái xe",
    "lệ phí bao nhiêu vậy",
    "tôi vừa sinh con",
    "số 2",
]


def fixture_service() -> AnswerService:
    from knowledge.answer.hanoi import load_hanoi_data
    from knowledge.ingest.importer import parse_record, read_raw_records
    from knowledge.service import AnswerService

    records = read_raw_records(REPOSITORY_ROOT / "tests" / "data" / "fixture_records.jsonl")
    return AnswerService(
        [parse_record(raw) for raw in records], load_hanoi_data(REPOSITORY_ROOT / "knowledge" / "data" / "hanoi.yaml")
    )


def summary(name: str, timings: list[float]) -> str:
    ms = [value * 1000 for value in timings]
    return (
        f"{name:5s} n={len(ms)}  p50 {percentile(ms, 50):6.1f} ms  p95 {percentile(ms, 95):6.1f} ms  "
        f"mean {statistics.fmean(ms):6.1f} ms  max {max(ms):6.1f} ms"
    )


def run(api_url: str, rasa_url: str, messages: int) -> tuple[list[float], list[float]]:
    api_times, rasa_times = [], []
    texts = cycle(CONVERSATION)
    with httpx.Client(timeout=60) as client:
        for warmup in range(len(CONVERSATION)):  # first calls load lazily (tokenizers, caches)
            client.post(f"{api_url}/v1/ask", json={"question": next(texts), "session_id": f"warm{warmup}"})
        for index in range(messages):
            text = next(texts)
            session = f"bench{index // len(CONVERSATION)}"
            started = time.perf_counter()
            response = client.post(f"{api_url}/v1/ask", json={"question": text, "session_id": session})
            api_times.append(time.perf_counter() - started)
            response.raise_for_status()
            started = time.perf_counter()
            reply = client.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": f"raw:{session}", "message": text})
            rasa_times.append(time.perf_counter() - started)
            reply.raise_for_status()
            assert reply.json(), f"Rasa sent no message for {text!r}"
    return api_times, rasa_times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--full", action="store_true", help="the whole knowledge base instead of the fixture corpus")
    args = parser.parse_args()
    if args.full:
        from knowledge.service import AnswerService

        service = AnswerService.from_settings(progress=True)
    else:
        service = fixture_service()
    sys.path.insert(0, str(REPOSITORY_ROOT))  # the harness lives in tests/, which is not an installed package
    from tests.live_stack import live_stack

    model = server.ensure_model()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work, live_stack(service, model, Path(work)) as stack:
        print(f"stack ready in {time.perf_counter() - started:.1f} s (model {model.name})")
        api_times, rasa_times = run(stack.api_url, stack.rasa_url, args.messages)
    corpus = "full knowledge base" if args.full else "fixture corpus (47 records)"
    print(f"chat round trip through Rasa with a custom action, {corpus}:")
    print(summary("api", api_times))
    print(summary("rasa", rasa_times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
