"""Replies in Vietnamese: the part of the procedure that was asked, with its source.

Every sentence comes from a parsed record field or a Hanoi fact; what the source does not say
is said as not stated. A reply fits one chat message (Zalo's 2,000-character limit).
"""

from __future__ import annotations

from knowledge.answer.aspects import ASPECT_REGISTRY
from knowledge.answer.formatting import (
    ONLINE_LEVEL_LABELS,
    channels_summary,
    fee_phrase,
    levels_phrase,
    time_phrase,
)
from knowledge.answer.hanoi import HanoiData
from knowledge.ingest.records import Procedure
from nlu.aspects import Aspect

MAX_REPLY_CHARS = 2000


class ReplyComposer:
    """Builds the reply text for one procedure and one aspect."""

    def __init__(self, hanoi: HanoiData) -> None:
        self.hanoi = hanoi

    # -- whole replies -------------------------------------------------------------------

    def answer(self, procedure: Procedure, aspect: Aspect) -> str:
        header = f"{procedure.name} (mã {procedure.code}, {levels_phrase(procedure.levels)})"
        body = self.section(procedure, aspect)
        footer = self.citation(procedure)
        reply = "\n".join([header, f"{ASPECT_REGISTRY[aspect].title}:", *body, footer])
        return _fit(reply, footer)

    def short_answer(self, procedure: Procedure) -> str:
        """A few lines an agent can read out on the phone or paste into a message."""
        level, _ = self.hanoi.online_level(procedure)
        lines = [f"{procedure.name} (mã {procedure.code})."]
        if procedure.documents:
            lines.append(f"Hồ sơ: {len(procedure.required_documents)} loại giấy tờ (danh sách tại đường dẫn).")
        if procedure.channels:
            times = "; ".join(channels_summary(procedure.channels, lambda c: time_phrase(c.time)))
            fees = "; ".join(channels_summary(procedure.channels, lambda c: fee_phrase(c.fee, None)))
            lines.append(f"Thời hạn: {times}.")
            lines.append(f"Phí, lệ phí: {fees}.")
        lines.append(f"Trực tuyến: {ONLINE_LEVEL_LABELS[level]}.")
        lines.append(f"Chi tiết: {procedure.url}")
        return "\n".join(lines)

    def citation(self, procedure: Procedure) -> str:
        source = self.hanoi.national_source
        return f"Nguồn: {source.name}, {procedure.decision}, dữ liệu thu thập {source.collected} — {procedure.url}"

    def clarify(self, options: list[Procedure]) -> str:
        lines = ["Có mấy thủ tục gần giống nhau, bạn cần thủ tục nào? Trả lời bằng số thứ tự:"]
        lines += [f"{index}. {p.name} (mã {p.code})" for index, p in enumerate(options, start=1)]
        return "\n".join(lines)

    def abstain(self, reason_subject: str | None = None) -> str:
        lines = ["Xin lỗi, mình chưa tìm thấy thủ tục phù hợp với câu hỏi này trong cơ sở dữ liệu thủ tục hành chính."]
        if reason_subject:
            lines.append(f"Cơ sở dữ liệu hiện chưa có thủ tục thuộc lĩnh vực {reason_subject}.")
        lines.append(self.help_line())
        return "\n".join(lines)

    def help_line(self) -> str:
        hotline = self.hanoi.fact("hotline")
        portal = self.hanoi.national_source
        return (
            f"Bạn có thể gọi tổng đài {self.hanoi.hotline} {self.hanoi.citation(hotline)} "
            f"hoặc tra cứu trên {portal.name} ({portal.url})."
        )

    # -- sections --------------------------------------------------------------------------

    def section(self, procedure: Procedure, aspect: Aspect) -> list[str]:
        return ASPECT_REGISTRY[aspect].compose(self.hanoi, procedure)


def _fit(reply: str, footer: str) -> str:
    """Cut a long reply at a line break, keeping the citation."""
    if len(reply) <= MAX_REPLY_CHARS:
        return reply
    budget = MAX_REPLY_CHARS - len(footer) - 60
    kept, used = [], 0
    for line in reply[: -len(footer)].rstrip("\n").split("\n"):
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    kept.append("… (còn tiếp, xem đầy đủ tại đường dẫn bên dưới)")
    kept.append(footer)
    return "\n".join(kept)
