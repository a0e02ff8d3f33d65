"""Replies in Vietnamese: the part of the procedure that was asked, with its source.

Every sentence comes from a parsed record field or a Hanoi fact; what the source does not say
is said as not stated. A reply fits one chat message (Zalo's 2,000-character limit).
"""

from __future__ import annotations

from knowledge.answer.formatting import (
    CHANNEL_LABELS,
    ONLINE_LEVEL_LABELS,
    channels_summary,
    clip,
    fee_phrase,
    levels_phrase,
    quantity_phrase,
    time_phrase,
)
from knowledge.answer.hanoi import HanoiData
from knowledge.ingest.records import Procedure
from nlu.aspects import Aspect

MAX_REPLY_CHARS = 2000
MAX_DOCUMENTS = 10
MAX_STEPS = 6

ASPECT_TITLES: dict[str, str] = {
    "documents": "Hồ sơ cần chuẩn bị",
    "fee": "Phí, lệ phí",
    "time": "Thời hạn giải quyết",
    "where": "Nơi nộp hồ sơ",
    "online": "Làm trực tuyến",
    "steps": "Các bước thực hiện",
    "legal_basis": "Căn cứ pháp lý",
    "eligibility": "Điều kiện, đối tượng",
    "result": "Kết quả nhận được",
    "general": "Tóm tắt",
}


class ReplyComposer:
    """Builds the reply text for one procedure and one aspect."""

    def __init__(self, hanoi: HanoiData) -> None:
        self.hanoi = hanoi

    # -- whole replies -------------------------------------------------------------------

    def answer(self, procedure: Procedure, aspect: Aspect) -> str:
        header = f"{procedure.name} (mã {procedure.code}, {levels_phrase(procedure.levels)})"
        body = self.section(procedure, aspect)
        footer = self.citation(procedure)
        reply = "\n".join([header, f"{ASPECT_TITLES[aspect]}:", *body, footer])
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
        return getattr(self, f"_{aspect}")(procedure)

    def _documents(self, p: Procedure) -> list[str]:
        if not p.documents:
            if p.documents_raw.strip(" -"):
                return [f"Cổng ghi: “{clip(p.documents_raw, 600)}”"]
            return ["Cổng không liệt kê thành phần hồ sơ cho thủ tục này."]
        lines: list[str] = []
        groups = list(dict.fromkeys(item.group for item in p.documents))
        shown = 0
        for group in groups:
            items = [item for item in p.documents if item.group == group and item.required]
            if not items:
                continue
            if len(groups) > 1 and group:
                lines.append(f"[{clip(group, 120)}]")
            for item in items:
                if shown == MAX_DOCUMENTS:
                    break
                quantity = quantity_phrase(item)
                lines.append(f"• {clip(item.name, 220)}" + (f" — {quantity}" if quantity else ""))
                shown += 1
        remaining = len(p.required_documents) - shown
        if remaining > 0:
            lines.append(f"… và {remaining} giấy tờ khác (xem đầy đủ tại đường dẫn bên dưới).")
        optional = len(p.documents) - len(p.required_documents)
        if optional:
            lines.append(f"({optional} giấy tờ được Cổng ghi số lượng 0 — không phải nộp trong trường hợp đó.)")
        return lines

    def _fee(self, p: Procedure) -> list[str]:
        if not p.channels:
            return [f"Cổng ghi: “{clip(p.channels_raw, 400)}”"] if p.channels_raw else ["Cổng không ghi phí, lệ phí."]
        return channels_summary(p.channels, lambda c: fee_phrase(c.fee, c.fee_note))

    def _time(self, p: Procedure) -> list[str]:
        if not p.channels:
            return [f"Cổng ghi: “{clip(p.channels_raw, 400)}”"] if p.channels_raw else ["Cổng không ghi thời hạn."]
        lines = channels_summary(p.channels, lambda c: time_phrase(c.time))
        described = next((c.description for c in p.channels if c.description and "ngày" in c.description.lower()), None)
        if described:
            lines.append(f"Mô tả trên Cổng: “{clip(described, 240)}”")
        return lines

    def _where(self, p: Procedure) -> list[str]:
        lines = []
        for fact in self.hanoi.where_facts(p):
            lines.append(f"• {fact.text} {self.hanoi.citation(fact)}")
        authority = p.authorities.implementing or p.authorities.competent
        if authority:
            lines.append(f"• Cơ quan thực hiện theo Cổng: {clip(authority, 200)}.")
        if p.receiving_address:
            lines.append(f"• Địa chỉ tiếp nhận ghi trên Cổng: {clip(p.receiving_address, 200)}.")
        level, _ = self.hanoi.online_level(p)
        if level != "offline":
            lines.append("• Có thể nộp trực tuyến qua Cổng Dịch vụ công quốc gia.")
        if not lines:
            lines.append("Nguồn chưa ghi nơi tiếp nhận cho thủ tục này.")
        return lines

    def _online(self, p: Procedure) -> list[str]:
        level, source = self.hanoi.online_level(p)
        lines = [f"Thủ tục này {ONLINE_LEVEL_LABELS[level]} (theo {source})."]
        offered = [CHANNEL_LABELS[c] for c in dict.fromkeys(ch.channel for ch in p.channels)]
        if offered:
            lines.append("Hình thức nộp: " + ", ".join(offered) + ".")
        if level != "offline":
            portals = ", ".join(portal.name for portal in self.hanoi.portals)
            lines.append(f"Nộp trực tuyến qua: {portals} — đăng nhập bằng tài khoản định danh điện tử VNeID.")
            lines.append("Nếu bạn làm lần đầu, mình có thể hướng dẫn từng bước.")
        return lines

    def _steps(self, p: Procedure) -> list[str]:
        if not p.steps:
            return ["Cổng không ghi trình tự thực hiện."]
        lines = [f"• {clip(step, 260)}" for step in p.steps[:MAX_STEPS]]
        if len(p.steps) > MAX_STEPS:
            lines.append(f"… và {len(p.steps) - MAX_STEPS} bước nữa (xem đầy đủ tại đường dẫn bên dưới).")
        return lines

    def _legal_basis(self, p: Procedure) -> list[str]:
        if not p.legal_basis:
            return ["Cổng không ghi căn cứ pháp lý cho thủ tục này."]
        lines = []
        for entry in p.legal_basis[:8]:
            title = clip(entry.title, 200)
            lines.append(f"• {title}" + (f" ({entry.number})" if entry.number and entry.number not in title else ""))
        if len(p.legal_basis) > 8:
            lines.append(f"… và {len(p.legal_basis) - 8} văn bản khác.")
        return lines

    def _eligibility(self, p: Procedure) -> list[str]:
        lines = []
        if p.applicants:
            lines.append("Đối tượng thực hiện: " + ", ".join(p.applicants) + ".")
        if p.conditions:
            lines.append(f"Yêu cầu, điều kiện theo Cổng: {clip(p.conditions, 700)}")
        else:
            lines.append("Cổng không nêu yêu cầu, điều kiện riêng cho thủ tục này.")
        return lines

    def _result(self, p: Procedure) -> list[str]:
        if not p.results:
            return ["Cổng không ghi kết quả thực hiện."]
        return [f"• {clip(result.name, 240)}" for result in p.results]

    def _general(self, p: Procedure) -> list[str]:
        level, _ = self.hanoi.online_level(p)
        lines = []
        if p.field:
            lines.append(f"Lĩnh vực: {p.field}.")
        if p.channels:
            lines.append("Thời hạn: " + "; ".join(channels_summary(p.channels, lambda c: time_phrase(c.time))) + ".")
            lines.append(
                "Phí, lệ phí: " + "; ".join(channels_summary(p.channels, lambda c: fee_phrase(c.fee, None))) + "."
            )
        lines.append(f"Trực tuyến: {ONLINE_LEVEL_LABELS[level]}.")
        if p.documents:
            lines.append(f"Hồ sơ: {len(p.required_documents)} loại giấy tờ.")
        lines.append(
            "Bạn muốn biết thêm gì: hồ sơ, lệ phí, thời hạn, nơi nộp, cách làm trực tuyến, các bước hay căn cứ pháp lý?"
        )
        return lines


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
