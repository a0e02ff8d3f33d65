"""Read the national procedure file into validated :class:`Procedure` records with a parse report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from knowledge.errors import BadRecord
from knowledge.ingest.parsing.channels import HEADER as CHANNEL_HEADER
from knowledge.ingest.parsing.channels import parse_channels
from knowledge.ingest.parsing.documents import COLUMN_HEADER, parse_documents
from knowledge.ingest.parsing.fields import (
    none_if_empty,
    parse_related,
    parse_results,
    parse_steps,
    raw_section,
    split_top_level_commas,
)
from knowledge.ingest.parsing.legal import HEADER as LEGAL_HEADER
from knowledge.ingest.parsing.legal import parse_legal_basis
from knowledge.ingest.records import Authorities, Procedure
from nlu.text import normalize

_DOCUMENT_NEXT_HEADINGS = ("Căn cứ pháp lýTên văn bản pháp lý", "Căn cứ pháp lýKhông có thông tin")
_NOT_NORMALISED_HERE = frozenset({"raw_text", "cach_thuc_thuc_hien", "trinh_tu_thuc_hien"})
_LEGAL_NEXT_HEADINGS = ("Cơ quan thực hiện", "Yêu cầu, điều kiện thực hiện", "Kết quả xử lý")


@dataclass
class ParseReport:
    """Coverage of each table parser, with the codes that failed it."""

    records: int = 0
    with_documents: int = 0
    documents_recovered_from_page: int = 0
    documents_absent_at_source: int = 0
    channel_rows: int = 0
    channel_rows_with_time: int = 0
    channel_rows_time_as_text: int = 0
    channel_rows_time_unit_unknown: int = 0
    channel_rows_time_not_stated: int = 0
    channel_rows_with_fee: int = 0
    legal_records: int = 0
    legal_records_parsed: int = 0
    legal_entries: int = 0
    failures: dict[str, list[str]] = field(default_factory=lambda: {"documents": [], "channels": [], "legal_basis": []})

    def share(self, part: int, whole: int) -> float:
        return part / whole if whole else 1.0

    def lines(self) -> list[str]:
        return [
            f"records: {self.records}",
            f"records with >= 1 document: {self.with_documents}/{self.records} "
            f"({self.share(self.with_documents, self.records):.1%}; {self.documents_recovered_from_page} recovered from the page text; "
            f"{self.documents_absent_at_source} list none anywhere on their page)",
            f"channel rows with a parsed time: {self.channel_rows_with_time}/{self.channel_rows} "
            f"({self.share(self.channel_rows_with_time, self.channel_rows):.1%}; unit not stated: "
            f"{self.channel_rows_time_unit_unknown}; 'Không có thông tin': {self.channel_rows_time_not_stated}; "
            f"prose kept as text: {self.channel_rows_time_as_text})",
            f"channel rows with a parsed fee: {self.channel_rows_with_fee}/{self.channel_rows} "
            f"({self.share(self.channel_rows_with_fee, self.channel_rows):.1%})",
            f"records whose legal basis parsed: {self.legal_records_parsed}/{self.legal_records} "
            f"({self.share(self.legal_records_parsed, self.legal_records):.1%}; {self.legal_entries} entries)",
            "failures: " + ", ".join(f"{name} {len(codes)}" for name, codes in self.failures.items()),
        ]


def content_hash(raw: dict) -> str:
    canonical = json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_raw_records(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as source:
        for line_number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise BadRecord(f"line {line_number}", f"not JSON: {error}") from error


def parse_record(raw: dict, report: ParseReport | None = None) -> Procedure:
    """Parse one crawled record; raises :class:`BadRecord` naming the code when it is invalid."""
    report = report if report is not None else ParseReport()
    code = str(raw.get("ma_thu_tuc", "")).strip() or "<no code>"
    # The whole-page text is only needed when a field is broken; normalise it on demand.
    text = {
        key: normalize(value) if isinstance(value, str) and key != "raw_text" else value for key, value in raw.items()
    }
    page_text = _PageText(raw.get("raw_text") or "")
    failures = []

    channels_raw = _longer_page_section(
        raw, "cach_thuc_thuc_hien", CHANNEL_HEADER, ("Thành phần hồ sơ",), keep_heading=True
    )
    channels = parse_channels(channels_raw)
    if not channels.ok:
        failures.append("channels")
    steps_raw = _longer_page_section(
        raw, "trinh_tu_thuc_hien", "Trình Tự Thực Hiện", ("Cách Thức Thực Hiện", CHANNEL_HEADER)
    )

    documents_raw = text.get("thanh_phan_ho_so", "")
    documents = parse_documents(documents_raw)
    recovered = False
    if not documents.ok:
        section = raw_section(page_text.value, "Thành phần hồ sơ", _DOCUMENT_NEXT_HEADINGS, COLUMN_HEADER)
        if section:
            retry = parse_documents(section)
            if retry.ok:
                documents, documents_raw, recovered = retry, section, True
    documents_absent = not documents.ok and COLUMN_HEADER not in documents_raw and COLUMN_HEADER not in page_text.value
    if not documents.ok and not documents_absent:
        failures.append("documents")

    legal_raw = text.get("can_cu_phap_ly", "")
    legal = parse_legal_basis(legal_raw)
    if not legal.ok:
        section = raw_section(page_text.value, "Căn cứ pháp lý", _LEGAL_NEXT_HEADINGS, LEGAL_HEADER)
        if section:
            retry = parse_legal_basis(section[section.index(LEGAL_HEADER) :])
            if retry.ok:
                legal, legal_raw = retry, section
    if not legal.ok:
        failures.append("legal_basis")

    try:
        procedure = Procedure(
            code=code,
            name=text.get("ten_thu_tuc", ""),
            url=text.get("detail_url", ""),
            decision=text.get("so_quyet_dinh", ""),
            levels=[level.strip() for level in text.get("cap_thuc_hien", "").split(",") if level.strip()],
            procedure_type=none_if_empty(text.get("loai_thu_tuc")),
            field=none_if_empty(text.get("linh_vuc")),
            applicants=split_top_level_commas(text.get("doi_tuong_thuc_hien", "")),
            authorities=Authorities(
                competent=none_if_empty(text.get("co_quan_co_tham_quyen")),
                implementing=none_if_empty(text.get("co_quan_thuc_hien")),
                delegated=none_if_empty(text.get("co_quan_duoc_uy_quyen")),
                coordinating=none_if_empty(text.get("co_quan_phoi_hop")),
            ),
            receiving_address=none_if_empty(text.get("dia_chi_tiep_nhan")),
            steps=parse_steps(steps_raw),
            steps_text=steps_raw,
            channels=channels.channels,
            channels_raw=channels_raw,
            documents=documents.items,
            documents_raw=documents_raw,
            legal_basis=legal.entries,
            legal_basis_raw=legal_raw,
            results=parse_results(text.get("ket_qua_xu_ly", "")),
            conditions=none_if_empty(text.get("yeu_cau_dieu_kien")),
            related=parse_related(text.get("thu_tuc_lien_quan", "")),
            source_group=none_if_empty(text.get("source_group")),
            content_hash=content_hash(raw),
            parse_failures=failures,
            parse_notes=[
                note
                for note, flag in (("documents_from_page", recovered), ("documents_absent", documents_absent))
                if flag
            ],
        )
    except ValidationError as error:
        raise BadRecord(code, str(error)) from error

    count(report, procedure)
    return procedure


def _longer_page_section(
    raw: dict, field_name: str, heading: str, next_headings: tuple[str, ...], keep_heading: bool = False
) -> str:
    """The field, or the same section of the page text when the crawl cut the field short.

    Some fields stop where their own text quotes another section's title ("(Thành phần hồ
    sơ)", "(Căn cứ pháp lý"); the page text still has the whole section. The page section is
    used only when it starts with the field's text and is longer.
    """
    field_text = (raw.get(field_name) or "").strip()
    page = raw.get("raw_text") or ""
    start = page.find(heading)
    if start < 0 or not field_text:
        return normalize(field_text)
    body_start = start if keep_heading else start + len(heading)
    ends = [position for position in (page.find(h, body_start + len(heading)) for h in next_headings) if position > 0]
    section = page[body_start : min(ends) if ends else len(page)].strip()
    if len(section) > len(field_text) + 10 and section.startswith(field_text[:80]):
        return normalize(section)
    return normalize(field_text)


class _PageText:
    """The record's whole-page text, normalised the first time it is asked for."""

    def __init__(self, raw_text: str) -> None:
        self._raw = raw_text
        self._normalized: str | None = None

    @property
    def value(self) -> str:
        if self._normalized is None:
            self._normalized = normalize(self._raw)
        return self._normalized


def count(report: ParseReport, procedure: Procedure) -> None:
    """Add one parsed record to the report (also used for records reused from the last build)."""
    report.records += 1
    report.documents_absent_at_source += "documents_absent" in procedure.parse_notes
    recovered = "documents_from_page" in procedure.parse_notes
    legal_raw = procedure.legal_basis_raw
    if procedure.documents:
        report.with_documents += 1
        report.documents_recovered_from_page += recovered
    for channel in procedure.channels:
        report.channel_rows += 1
        time = channel.time
        as_text = time.stated and time.value is None
        report.channel_rows_with_time += not as_text
        report.channel_rows_time_as_text += as_text
        report.channel_rows_time_unit_unknown += channel.time.stated and channel.time.unit is None
        report.channel_rows_time_not_stated += not channel.time.stated
        report.channel_rows_with_fee += 1
    if legal_raw.strip() and legal_raw.strip() != "Không có thông tin":
        report.legal_records += 1
        report.legal_records_parsed += "legal_basis" not in procedure.parse_failures
        report.legal_entries += len(procedure.legal_basis)
    for failure in procedure.parse_failures:
        report.failures[failure].append(procedure.code)
