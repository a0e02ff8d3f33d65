"""`python -m knowledge refresh --source PATH`: load newly published procedures without downtime.

Builds from the new file (unchanged records and their vectors are reused, so a refresh costs
what changed), swaps the build atomically, records PATH as the knowledge base's source, and
reports what changed: procedures added, removed, and changed with the fields that changed.
Running API workers watch the ``current`` build and load the new one themselves. A failed build
leaves the previous one serving.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from knowledge.build import build
from knowledge.errors import IndexNotBuilt, SourceNotFound
from knowledge.ingest.records import Procedure
from knowledge.settings import KnowledgeSettings
from knowledge.store import KnowledgeStore

# Bookkeeping fields: they change with the parser or the hash, not with what the procedure says.
IGNORED_FIELDS = {"content_hash", "parse_failures", "parse_notes"}


@dataclass
class RefreshReport:
    source: str
    build: str
    before: int
    after: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        lines = [
            f"source: {self.source}",
            f"procedures: {self.before} -> {self.after}; added {len(self.added)}, removed {len(self.removed)}, "
            f"changed {len(self.changed)}",
        ]
        lines += [f"+ {code}" for code in self.added]
        lines += [f"- {code}" for code in self.removed]
        lines += [f"~ {code}: {', '.join(fields)}" for code, fields in sorted(self.changed.items())]
        lines.append(f"build: {self.build}")
        return lines


def diff_procedures(
    before: list[Procedure], after: list[Procedure]
) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(added codes, removed codes, {code: changed field names}) between two knowledge bases."""
    old = {p.code: p for p in before}
    new = {p.code: p for p in after}
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed: dict[str, list[str]] = {}
    for code in sorted(set(old) & set(new)):
        if old[code].content_hash == new[code].content_hash:
            continue
        old_fields, new_fields = old[code].model_dump(), new[code].model_dump()
        fields = [
            name for name in new_fields if name not in IGNORED_FIELDS and old_fields.get(name) != new_fields[name]
        ]
        changed[code] = fields or ["(source text only)"]
    return added, removed, changed


def refresh(settings: KnowledgeSettings, source: Path, progress: bool = True) -> RefreshReport:
    source = source.resolve()
    if not source.exists():
        raise SourceNotFound(f"no procedure file at {source}")
    store = KnowledgeStore(settings.index_dir)
    try:
        before = store.load_procedures()
    except (IndexNotBuilt, FileNotFoundError):
        before = []
    refreshed = settings.model_copy(update={"source_path": source})
    build_dir, _report, _manifest = build(refreshed, progress=progress)
    after = KnowledgeStore(settings.index_dir).load_procedures()
    added, removed, changed = diff_procedures(before, after)
    report = RefreshReport(str(source), build_dir.name, len(before), len(after), added, removed, changed)
    (build_dir / "refresh_report.json").write_text(
        json.dumps(asdict(report), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    settings.record_source(source)
    return report
