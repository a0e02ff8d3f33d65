"""The section of a reply for each aspect: plain functions of a record and the Hanoi layer.

Each is registered for its aspect in :mod:`knowledge.answer.aspects`. Every line comes from a
parsed record field or a Hanoi fact; what the source does not say is said as not stated.
"""

from __future__ import annotations

from knowledge.answer.formatting import (
    CHANNEL_LABELS,
    ONLINE_LEVEL_LABELS,
    channels_summary,
    clip,
    fee_phrase,
    quantity_phrase,
    time_phrase,
)
from knowledge.answer.hanoi import HanoiData
from knowledge.ingest.records import Procedure

MAX_DOCUMENTS = 10
MAX_STEPS = 6


def documents(hanoi: HanoiData, p: Procedure) -> list[str]:
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


def fee(hanoi: HanoiData, p: Procedure) -> list[str]:
    if not p.channels:
        return [f"Cổng ghi: “{clip(p.channels_raw, 400)}”"] if p.channels_raw else ["Cổng không ghi phí, lệ phí."]
    return channels_summary(p.channels, lambda c: fee_phrase(c.fee, c.fee_note))


def time(hanoi: HanoiData, p: Procedure) -> list[str]:
    if not p.channels:
        return [f"Cổng ghi: “{clip(p.channels_raw, 400)}”"] if p.channels_raw else ["Cổng không ghi thời hạn."]
    lines = channels_summary(p.channels, lambda c: time_phrase(c.time))
    described = next((c.description for c in p.channels if c.description and "ngày" in c.description.lower()), None)
    if described:
        lines.append(f"Mô tả trên Cổng: “{clip(described, 240)}”")
    return lines


def where(hanoi: HanoiData, p: Procedure) -> list[str]:
    lines = []
    for fact in hanoi.where_facts(p):
        lines.append(f"• {fact.text} {hanoi.citation(fact)}")
    authority = p.authorities.implementing or p.authorities.competent
    if authority:
        lines.append(f"• Cơ quan thực hiện theo Cổng: {clip(authority, 200)}.")
    if p.receiving_address:
        lines.append(f"• Địa chỉ tiếp nhận ghi trên Cổng: {clip(p.receiving_address, 200)}.")
    level, _ = hanoi.online_level(p)
    if level != "offline":
        lines.append("• Có thể nộp trực tuyến qua Cổng Dịch vụ công quốc gia.")
    if not lines:
        lines.append("Nguồn chưa ghi nơi tiếp nhận cho thủ tục này.")
    return lines


def online(hanoi: HanoiData, p: Procedure) -> list[str]:
    level, source = hanoi.online_level(p)
    lines = [f"Thủ tục này {ONLINE_LEVEL_LABELS[level]} (theo {source})."]
    offered = [CHANNEL_LABELS[c] for c in dict.fromkeys(ch.channel for ch in p.channels)]
    if offered:
        lines.append("Hình thức nộp: " + ", ".join(offered) + ".")
    if level != "offline":
        portals = ", ".join(portal.name for portal in hanoi.portals)
        lines.append(f"Nộp trực tuyến qua: {portals} — đăng nhập bằng tài khoản định danh điện tử VNeID.")
        lines.append("Nếu bạn làm lần đầu, mình có thể hướng dẫn từng bước.")
    return lines


def steps(hanoi: HanoiData, p: Procedure) -> list[str]:
    if not p.steps:
        return ["Cổng không ghi trình tự thực hiện."]
    lines = [f"• {clip(step, 260)}" for step in p.steps[:MAX_STEPS]]
    if len(p.steps) > MAX_STEPS:
        lines.append(f"… và {len(p.steps) - MAX_STEPS} bước nữa (xem đầy đủ tại đường dẫn bên dưới).")
    return lines


def legal_basis(hanoi: HanoiData, p: Procedure) -> list[str]:
    if not p.legal_basis:
        return ["Cổng không ghi căn cứ pháp lý cho thủ tục này."]
    lines = []
    for entry in p.legal_basis[:8]:
        title = clip(entry.title, 200)
        lines.append(f"• {title}" + (f" ({entry.number})" if entry.number and entry.number not in title else ""))
    if len(p.legal_basis) > 8:
        lines.append(f"… và {len(p.legal_basis) - 8} văn bản khác.")
    return lines


def eligibility(hanoi: HanoiData, p: Procedure) -> list[str]:
    lines = []
    if p.applicants:
        lines.append("Đối tượng thực hiện: " + ", ".join(p.applicants) + ".")
    if p.conditions:
        lines.append(f"Yêu cầu, điều kiện theo Cổng: {clip(p.conditions, 700)}")
    else:
        lines.append("Cổng không nêu yêu cầu, điều kiện riêng cho thủ tục này.")
    return lines


def result(hanoi: HanoiData, p: Procedure) -> list[str]:
    if not p.results:
        return ["Cổng không ghi kết quả thực hiện."]
    return [f"• {clip(result.name, 240)}" for result in p.results]


def general(hanoi: HanoiData, p: Procedure) -> list[str]:
    level, _ = hanoi.online_level(p)
    lines = []
    if p.field:
        lines.append(f"Lĩnh vực: {p.field}.")
    if p.channels:
        lines.append("Thời hạn: " + "; ".join(channels_summary(p.channels, lambda c: time_phrase(c.time))) + ".")
        lines.append("Phí, lệ phí: " + "; ".join(channels_summary(p.channels, lambda c: fee_phrase(c.fee, None))) + ".")
    lines.append(f"Trực tuyến: {ONLINE_LEVEL_LABELS[level]}.")
    if p.documents:
        lines.append(f"Hồ sơ: {len(p.required_documents)} loại giấy tờ.")
    lines.append(
        "Bạn muốn biết thêm gì: hồ sơ, lệ phí, thời hạn, nơi nộp, cách làm trực tuyến, các bước hay căn cứ pháp lý?"
    )
    return lines
