"""Submission channels: channel, processing time, fee, fee note and description.

Source shape (one record)::

    Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến1Miễn phíDịch vụ bưu chính1Miễn phí...

Header, then for each row a channel name, a time ("20 Ngày làm việc", a bare "1", or
"Không có thông tin"), a fee ("Miễn phí", "50,000 Việt Nam Đồng", "150 VNĐ", "10 USD",
"Không có thông tin"), an optional parenthesised note and a free-text description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.ingest.records import Channel, Fee, ProcessingTime

HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
NO_INFO = "Không có thông tin"

CHANNEL_CODES = {
    "Trực tiếp": "truc_tiep",
    "Trực tuyến": "truc_tuyen",
    "Dịch vụ bưu chính": "buu_chinh",
}
UNIT_CODES = {
    "Ngày làm việc": "ngay_lam_viec",
    "Ngày": "ngay",
    "Giờ": "gio",
    "Tháng": "thang",
    "Năm": "nam",
    "Tuần": "tuan",
    "Phút": "phut",
}
_CHANNEL_ALT = "|".join(re.escape(name) for name in CHANNEL_CODES)
_UNIT_ALT = "|".join(re.escape(unit) for unit in sorted(UNIT_CODES, key=len, reverse=True))
_CURRENCY = r"Việt Nam Đồng|VNĐ|VND|Đồng|đồng|USD"

_ROW_START = re.compile(rf"({_CHANNEL_ALT})(?=\d|{NO_INFO})")
_TIME_WITH_UNIT = re.compile(rf"(\d+(?:[.,]\d+)?) ({_UNIT_ALT})")
_BARE_DIGITS = re.compile(r"\d+")
_LOOSE_ROW_START = re.compile(rf"({_CHANNEL_ALT})(?=[A-ZĐÀ-Ỹ\d])")
_AMOUNT_TAIL = re.compile(rf"^([\d,.]*) ?({_CURRENCY})")
_AMOUNT_FULL = re.compile(rf"^(\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.(\d+))? ?({_CURRENCY})")
_LABELLED_FEE = re.compile(rf"^((?:Lệ phí|Phí) ?: ?)(\d{{1,3}}(?:\.\d{{3}})+|\d+)? ?({_CURRENCY})")
_PERCENT = re.compile(r"^\d+(?:[.,]\d+)? ?%")
_CURRENCY_CODES = {"USD": "USD"}
_FEE_ANYWHERE = re.compile(rf"Miễn phí|{NO_INFO}|(?<![\d,.])\d{{1,3}}(?:,\d{{3}})+ ?(?:{_CURRENCY})")


@dataclass(frozen=True)
class ChannelParse:
    channels: list[Channel]
    ok: bool
    reason: str = ""


def parse_channels(text: str) -> ChannelParse:
    """Split the flattened channel table into rows; ``ok`` is False when the shape is not recognised."""
    if not text or text.strip() == NO_INFO:
        return ChannelParse([], False, "empty")
    body = text[len(HEADER) :] if text.startswith(HEADER) else text
    strict = _parse_strict(body)
    if strict.ok:
        return strict
    loose = _parse_loose(body)
    return loose if loose.ok else strict


def _parse_strict(body: str) -> ChannelParse:
    """Rows whose time cell is a number or "Không có thông tin" — all but a few dozen records."""
    starts = [m.start() for m in _ROW_START.finditer(body)]
    if not starts:
        return ChannelParse([], False, "no channel row")
    if body[: starts[0]].strip():
        return ChannelParse([], False, "text before the first row")
    raw_rows = [body[a:b] for a, b in zip(starts, starts[1:] + [len(body)])]
    unit_times = _times_with_units(raw_rows)
    channels: list[Channel] = []
    for raw_row in raw_rows:
        channel_name = _ROW_START.match(raw_row).group(1)
        parsed = _parse_row(channel_name, raw_row[len(channel_name) :], unit_times)
        if parsed is None:
            return ChannelParse(channels, False, f"unrecognised row: {raw_row[:60]!r}")
        channels.append(parsed)
    return ChannelParse(channels, True)


def _parse_loose(body: str) -> ChannelParse:
    """Rows whose time cell is prose ("Không quy định", "Không phải trả kết quả ...").

    A row starts at a channel name followed by a capital letter; its time is the text up to
    the first fee cell. The time is kept as text with no number.
    """
    starts = [m.start() for m in _LOOSE_ROW_START.finditer(body)]
    if not starts or starts[0] != 0:
        return ChannelParse([], False, "no channel row")
    channels = []
    for a, b in zip(starts, starts[1:] + [len(body)]):
        raw_row = body[a:b]
        channel_name = _LOOSE_ROW_START.match(raw_row).group(1)
        rest = raw_row[len(channel_name) :]
        fee_at = _FEE_ANYWHERE.search(rest)
        if fee_at is None:
            return ChannelParse(channels, False, f"no fee cell: {raw_row[:60]!r}")
        fee, after_fee = _parse_fee_head(rest[fee_at.start() :])
        if fee is None:
            return ChannelParse(channels, False, f"unrecognised fee: {raw_row[:60]!r}")
        note, description = _split_note(after_fee)
        time_text = rest[: fee_at.start()].strip()
        channels.append(
            Channel(
                channel=CHANNEL_CODES[channel_name],
                channel_label=channel_name,
                time=ProcessingTime(text=time_text, value=None, unit=None, stated=bool(time_text)),
                fee=fee,
                fee_note=note,
                description=description.strip() or None,
            )
        )
    return ChannelParse(channels, True)


def _times_with_units(raw_rows: list[str]) -> set[str]:
    """Times written with a unit elsewhere in the record: evidence for splitting bare digits."""
    found = set()
    for raw_row in raw_rows:
        for name in CHANNEL_CODES:
            if raw_row.startswith(name):
                match = _TIME_WITH_UNIT.match(raw_row[len(name) :])
                if match:
                    found.add(match.group(1))
    return found


def _parse_row(channel_name: str, rest: str, unit_times: set[str]) -> Channel | None:
    if rest.startswith(NO_INFO):
        time = ProcessingTime(text=NO_INFO, value=None, unit=None, stated=False)
        after_time = rest[len(NO_INFO) :]
    else:
        with_unit = _TIME_WITH_UNIT.match(rest)
        if with_unit:
            time = ProcessingTime(
                text=with_unit.group(0),
                value=_to_float(with_unit.group(1)),
                unit=UNIT_CODES[with_unit.group(2)],
                stated=True,
            )
            after_time = rest[with_unit.end() :]
        else:
            split = _split_bare_time(rest, unit_times)
            if split is None:
                return None
            time_digits, after_time = split
            time = ProcessingTime(text=time_digits, value=float(time_digits), unit=None, stated=True)
    fee, after_fee = _parse_fee_head(after_time)
    if fee is None:
        return None
    note, description = _split_note(after_fee)
    if fee.currency == "VND" and fee.amount_doubtful and note and "USD" in note and "đồng" not in note.lower():
        # "145 VNĐ" with the note "145 USD/thẻ" (and USD in the other rows): the note is right
        fee = fee.model_copy(update={"currency": "USD", "amount_doubtful": False})
    return Channel(
        channel=CHANNEL_CODES[channel_name],
        channel_label=channel_name,
        time=time,
        fee=fee,
        fee_note=note,
        description=description.strip() or None,
    )


def _split_bare_time(rest: str, unit_times: set[str]) -> tuple[str, str] | None:
    """Separate a unit-less time from what follows it.

    "1Miễn phí" is easy; "120,000 VNĐ" is time 1 + fee 20,000 and "1100 VNĐ(Phí ...: 100.000
    đồng" is time 1 + fee 100. Candidates must leave a well-formed amount; we prefer a time
    that other rows of the record state with a unit, then an amount whose digits open the
    note, then the shortest time (bare times are overwhelmingly single days).
    """
    digits = _BARE_DIGITS.match(rest)
    if not digits:
        return None
    run = digits.group(0)
    after_run = rest[len(run) :]
    if not after_run[:1].isdigit() and not after_run.startswith(",") and not _AMOUNT_TAIL.match(after_run):
        return run, after_run
    candidates = []
    for cut in range(1, len(run) + 1):
        time_digits, fee_text = run[:cut], rest[cut:]
        amount = _AMOUNT_FULL.match(fee_text)
        if amount and (not amount.group(1).startswith("0") or amount.group(1) == "0"):
            candidates.append((time_digits, fee_text, amount))
    if not candidates:
        return None
    note_digits = _first_number_in_note(rest)

    def preference(candidate: tuple[str, str, re.Match[str]]) -> tuple[int, int, int]:
        time_digits, _, amount = candidate
        amount_digits = amount.group(1).replace(",", "")
        agrees_with_rows = time_digits in unit_times
        agrees_with_note = bool(note_digits) and note_digits.startswith(amount_digits)
        return (not agrees_with_rows, not agrees_with_note, len(time_digits))

    best = min(candidates, key=preference)
    return best[0], best[1]


def _first_number_in_note(rest: str) -> str:
    paren = rest.find("(")
    if paren < 0:
        return ""
    match = re.search(r"\d[\d.,]*", rest[paren : paren + 200])
    return re.sub(r"[.,]", "", match.group(0)) if match else ""


def _parse_fee_head(text: str) -> tuple[Fee | None, str]:
    if text.startswith("Miễn phí"):
        return Fee(kind="free", text="Miễn phí"), text[len("Miễn phí") :]
    if text.startswith(NO_INFO):
        return Fee(kind="unknown", text=NO_INFO), text[len(NO_INFO) :]
    if not text.strip():
        return Fee(kind="unknown", text=""), ""
    amount = _AMOUNT_FULL.match(text)
    if amount:
        return _amount_fee(amount.group(0), amount.group(1).replace(",", ""), amount.group(2), amount.group(3)), text[
            amount.end() :
        ]
    labelled = _LABELLED_FEE.match(text)
    if labelled:
        if labelled.group(2) is None:
            return Fee(kind="text", text=labelled.group(0).strip()), text[labelled.end() :]
        return _amount_fee(labelled.group(0), labelled.group(2).replace(".", ""), None, labelled.group(3)), text[
            labelled.end() :
        ]
    percent = _PERCENT.match(text)
    if percent:
        return Fee(kind="text", text=percent.group(0)), text[percent.end() :]
    return None, text


def _amount_fee(written: str, integer_digits: str, decimals: str | None, currency: str) -> Fee:
    amount = float(f"{integer_digits}.{decimals}" if decimals else integer_digits)
    code = _CURRENCY_CODES.get(currency, "VND")
    # The portal often stores fees in thousands ("150 VNĐ" with the note "150.000 đồng/lần");
    # a VND amount under 1,000 is flagged so replies quote the source instead of the number.
    doubtful = code == "VND" and 0 < amount < 1000
    return Fee(kind="amount", text=written.strip(), amount=amount, currency=code, amount_doubtful=doubtful)


def _split_note(text: str) -> tuple[str | None, str]:
    """A parenthesised note right after the fee (balanced, possibly nested)."""
    if not text.startswith("("):
        return None, text
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                inner = text[1:index].strip()
                return inner or None, text[index + 1 :]
    return text[1:].strip() or None, ""


def _to_float(number: str) -> float:
    return float(number.replace(",", "."))
