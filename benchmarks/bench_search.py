"""Search benchmark: latency percentiles, throughput, build time, load time and peak RSS.

usage: python benchmarks/bench_search.py [--queries N] [--source PATH]
Queries are the dev questions plus variants (folded, truncated, lower-cased) cycled to N; the
figures are printed, not asserted (timed tests are flaky on shared machines).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY_ROOT))

from knowledge.build import build  # noqa: E402
from knowledge.service import AnswerService  # noqa: E402
from knowledge.settings import KnowledgeSettings  # noqa: E402
from nlu.text import fold  # noqa: E402


def _queries(count: int) -> list[str]:
    dev = REPOSITORY_ROOT.parent / "shared" / "eval" / "dev.jsonl"
    base = [json.loads(line)["question"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    variants = base + [fold(q) for q in base] + [q[:40] for q in base] + [q.lower() for q in base]
    return [variants[i % len(variants)] for i in range(count)]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--source", type=Path, default=KnowledgeSettings().source_path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir:
        settings = KnowledgeSettings(source_path=args.source, data_dir=Path(data_dir))
        started = time.perf_counter()
        _, _, manifest = build(settings, progress=False)
        build_seconds = time.perf_counter() - started
        started = time.perf_counter()
        service = AnswerService.from_settings(settings, progress=False)
        load_seconds = time.perf_counter() - started

        queries = _queries(args.queries)
        service.search(queries[0])  # warm caches the way a running server would be
        latencies = []
        started = time.perf_counter()
        for query in queries:
            began = time.perf_counter()
            service.search(query)
            latencies.append((time.perf_counter() - began) * 1000)
        total = time.perf_counter() - started
        long_query = "đăng ký khai sinh cho con " * 400
        began = time.perf_counter()
        service.ask(long_query)
        long_ms = (time.perf_counter() - began) * 1000

    print(f"procedures: {manifest.records}; queries: {len(queries)} (dev questions, folded, cut, lower-cased)")
    print(f"build (parse + write): {build_seconds:.1f} s; load (read + BM25 index): {load_seconds:.1f} s")
    print(
        f"search latency ms: p50 {statistics.median(latencies):.1f}  p95 {_percentile(latencies, 0.95):.1f}  "
        f"p99 {_percentile(latencies, 0.99):.1f}  max {max(latencies):.1f}"
    )
    print(f"throughput: {len(queries) / total:.0f} queries/s on one core")
    print(f"10,000-character message answered in {long_ms:.0f} ms")
    print(f"peak RSS: {_peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
