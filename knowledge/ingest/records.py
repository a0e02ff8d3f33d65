"""Validated procedure records: what the assistant knows about one administrative procedure.

Every structured field keeps the raw text it was parsed from, so that a reply can quote the
source whenever a parser could not read it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ChannelCode = Literal["truc_tiep", "truc_tuyen", "buu_chinh"]
TimeUnit = Literal["ngay_lam_viec", "ngay", "gio", "thang", "nam", "tuan", "phut"]
OnlineLevel = Literal["toan_trinh", "online", "offline"]

UNIT_LABELS: dict[str, str] = {
    "ngay_lam_viec": "ngày làm việc",
    "ngay": "ngày",
    "gio": "giờ",
    "thang": "tháng",
    "nam": "năm",
    "tuan": "tuần",
    "phut": "phút",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProcessingTime(_Frozen):
    """Processing time of one channel; ``unit`` is None when the source gives a bare number."""

    text: str
    value: float | None = None
    unit: TimeUnit | None = None
    stated: bool = True


class Fee(_Frozen):
    """Fee of one channel as the portal states it."""

    kind: Literal["free", "amount", "unknown", "text"]
    text: str
    amount: float | None = None
    currency: Literal["VND", "USD"] | None = None
    # True for VND amounts under 1,000, which the portal usually stores in thousands.
    amount_doubtful: bool = False


class Channel(_Frozen):
    channel: ChannelCode
    channel_label: str
    time: ProcessingTime
    fee: Fee
    fee_note: str | None = None
    description: str | None = None


class DocumentItem(_Frozen):
    """One required document; ``originals``/``copies`` are None when the source gives no count."""

    name: str
    form: str | None = None
    originals: int | None = None
    copies: int | None = None
    quantity_text: str = ""
    group: str | None = None

    @property
    def required(self) -> bool:
        """False only when the source lists zero of every kind ("0 bản chính")."""
        counts = [c for c in (self.originals, self.copies) if c is not None]
        return not counts or any(counts)


class LegalBasis(_Frozen):
    title: str
    number: str | None = None


class ResultDocument(_Frozen):
    name: str
    code: str | None = None
    description: str | None = None


class Authorities(_Frozen):
    competent: str | None = None
    implementing: str | None = None
    delegated: str | None = None
    coordinating: str | None = None


class Procedure(_Frozen):
    """One administrative procedure from the National Public Service Portal."""

    code: str = Field(pattern=r"^\d\.\d{6}$")
    name: str = Field(min_length=3)
    url: str = Field(pattern=r"^https://")
    decision: str
    levels: list[str]
    procedure_type: str | None = None
    field: str | None = None
    applicants: list[str] = []
    authorities: Authorities
    receiving_address: str | None = None
    steps: list[str] = []
    steps_text: str = ""
    channels: list[Channel] = []
    channels_raw: str = ""
    documents: list[DocumentItem] = []
    documents_raw: str = ""
    legal_basis: list[LegalBasis] = []
    legal_basis_raw: str = ""
    results: list[ResultDocument] = []
    conditions: str | None = None
    related: list[str] = []
    source_group: str | None = None
    content_hash: str
    parse_failures: list[str] = []
    # how the parse went where it matters for the report: "documents_from_page", "documents_absent"
    parse_notes: list[str] = []

    @field_validator("levels")
    @classmethod
    def _levels_known(cls, levels: list[str]) -> list[str]:
        known = {"Cấp bộ", "Cấp tỉnh", "Cấp xã", "Cơ quan khác"}
        unknown = [level for level in levels if level not in known]
        if unknown or not levels:
            raise ValueError(f"unknown level(s) {unknown or levels}")
        return levels

    @property
    def has_online_channel(self) -> bool:
        return any(channel.channel == "truc_tuyen" for channel in self.channels)

    @property
    def required_documents(self) -> list[DocumentItem]:
        return [item for item in self.documents if item.required]
