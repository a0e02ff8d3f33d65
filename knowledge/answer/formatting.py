"""Vietnamese wording of parsed values: fees, times, quantities, channels, levels."""

from __future__ import annotations

from collections.abc import Callable

from knowledge.ingest.records import UNIT_LABELS, Channel, DocumentItem, Fee, ProcessingTime

CHANNEL_LABELS = {"truc_tiep": "nộp trực tiếp", "truc_tuyen": "nộp trực tuyến", "buu_chinh": "qua bưu chính"}
ONLINE_LEVEL_LABELS = {
    "toan_trinh": "làm trực tuyến toàn trình (từ nộp hồ sơ đến nhận kết quả)",
    "online": "có thể nộp hồ sơ trực tuyến (nguồn không nói rõ có toàn trình hay không)",
    "offline": "chưa có hình thức nộp trực tuyến trong dữ liệu của Cổng",
}
NOTE_LIMIT = 280


def money(amount: float, currency: str | None) -> str:
    """50000 → '50.000 đồng' (dot for thousands, as Vietnamese writes it)."""
    if amount == int(amount):
        whole = f"{int(amount):,}".replace(",", ".")
    else:
        whole = f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{whole} USD" if currency == "USD" else f"{whole} đồng"


def clip(text: str, limit: int = NOTE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fee_phrase(fee: Fee, note: str | None) -> str:
    """What the portal says about the fee, never more precise than the source."""
    if fee.kind == "free":
        phrase = "Miễn phí"
        if note and any(char.isdigit() for char in note):
            # "Miễn phí" with amounts in the note: the note decides, so quote it.
            phrase = "Cổng ghi “Miễn phí”"
    elif fee.kind == "unknown":
        phrase = "Cổng không ghi mức phí, lệ phí"
    elif fee.kind == "amount" and fee.amount is not None and not fee.amount_doubtful:
        phrase = money(fee.amount, fee.currency)
    else:
        phrase = f"Cổng ghi “{fee.text}”"
        if fee.amount_doubtful:
            phrase += " (con số này có thể tính theo nghìn đồng — xem ghi chú)"
    if note:
        phrase += f"; ghi chú: {clip(note)}"
    return phrase


def time_phrase(time: ProcessingTime) -> str:
    if not time.stated:
        return "Cổng không ghi thời hạn giải quyết"
    if time.value is None:
        return f"theo Cổng: “{clip(time.text, 160)}”"
    number = f"{time.value:g}".replace(".", ",")
    if time.unit is None:
        return f"{number} (nguồn không ghi đơn vị; Cổng ghi “{time.text}”)"
    return f"{number} {UNIT_LABELS[time.unit]}"


def quantity_phrase(item: DocumentItem) -> str:
    parts = []
    if item.originals:
        parts.append(f"{item.originals} bản chính")
    if item.copies:
        parts.append(f"{item.copies} bản sao")
    return ", ".join(parts)


def channels_summary(channels: list[Channel], phrase: Callable[[Channel], str]) -> list[str]:
    """One line if every channel says the same, else one line per channel."""
    phrases = [phrase(channel) for channel in channels]
    if phrases and all(p == phrases[0] for p in phrases):
        return [phrases[0]]
    return [f"{CHANNEL_LABELS[channel.channel].capitalize()}: {p}" for channel, p in zip(channels, phrases)]


def levels_phrase(levels: list[str]) -> str:
    return ", ".join(level.lower() for level in levels)
