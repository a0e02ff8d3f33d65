"""The Hanoi layer says only what its sources say."""

from __future__ import annotations

import re

import pytest

from knowledge.answer.hanoi import HanoiData
from tests.conftest import SEEDS_DIR, require_shared


def _seed_text(hanoi: HanoiData, source: str) -> str:
    path = require_shared(SEEDS_DIR / hanoi.sources[source].file)
    return re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))


def test_every_seed_source_exists(hanoi: HanoiData) -> None:
    for key, source in hanoi.sources.items():
        assert (SEEDS_DIR / source.file).exists(), f"source {key} points at a missing seed file"


@pytest.mark.parametrize(
    ("fact_id", "phrases"),
    [
        ("hotline", ["19001009"]),
        ("feedback_channels", ["kiemsoatthutuchanhchinh@hanoi.gov.vn", "3.457"]),
        ("city_center_any_branch", ["không phụ thuộc vào địa giới hành chính", "10/8/2025", "01/9/2025"]),
        ("city_center_branches", ["Cầu Giấy", "Tây Hồ", "10 Chi nhánh còn lại", "01/4/2025"]),
        ("online_agents", ["148 mô hình đại lý", "Viettel post"]),
        ("support_points", ["Điểm hỗ trợ Dịch vụ công số"]),
        ("online_share", ["1.885 TTHC", "1.191 TTHC", "318 DVCTT"]),
        ("cashless_payment", ["không dùng tiền mặt khi thực hiện TTHC bằng mã QR động"]),
        (
            "progress_notices",
            ["thông báo tiến độ và kết quả xử lý", "kết quả giải quyết thủ tục hành chính dưới dạng điện tử"],
        ),
    ],
)
def test_facts_are_in_their_cited_seed(hanoi: HanoiData, fact_id: str, phrases: list[str]) -> None:
    fact = hanoi.fact(fact_id)
    seed = _seed_text(hanoi, fact.source)
    for phrase in phrases:
        assert phrase in seed, f"{phrase!r} not in seed {fact.source} cited by {fact_id}"


def test_no_invented_addresses_or_hours(hanoi: HanoiData) -> None:
    texts = " ".join(fact.text for fact in hanoi.facts.values())
    assert not re.search(r"\bsố \d+ (phố|đường)\b", texts)
    assert not re.search(r"\d{1,2}h\d{0,2}|giờ mở cửa", texts)


def test_online_level(hanoi: HanoiData, fixture_procedures) -> None:
    online, source = hanoi.online_level(fixture_procedures["1.001193"])
    assert online == "online" and "Cổng Dịch vụ công quốc gia" in source
    offline = fixture_procedures["1.000178"]  # complaints at the central level: post and in person only
    assert not offline.has_online_channel
    assert hanoi.online_level(offline)[0] == "offline"


def test_fully_online_only_where_a_source_says_so(hanoi: HanoiData, fixture_procedures) -> None:
    procedure = fixture_procedures["1.001193"]
    renamed = procedure.model_copy(update={"name": "Đăng ký xe thực hiện bằng dịch vụ công trực tuyến toàn trình"})
    assert hanoi.online_level(renamed)[0] == "toan_trinh"
    partial = procedure.model_copy(update={"name": "Đổi xe bằng dịch vụ công trực tuyến một phần hoặc toàn trình"})
    assert hanoi.online_level(partial)[0] == "online"
    assert hanoi.toan_trinh_codes == {}  # the seeds give a count, not a list


def test_where_by_level(hanoi: HanoiData, fixture_procedures) -> None:
    commune = fixture_procedures["1.001193"]  # Cấp xã
    assert [f.source for f in hanoi.where_facts(commune)] == ["002"]
