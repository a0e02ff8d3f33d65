"""Table parsers against values read by hand from the raw fixture records."""

from __future__ import annotations

from knowledge.ingest.parsing.channels import parse_channels
from knowledge.ingest.parsing.documents import parse_documents
from knowledge.ingest.parsing.fields import parse_results, parse_steps, split_top_level_commas
from knowledge.ingest.parsing.legal import parse_legal_basis

HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"


def test_bare_time_glued_to_amount_is_split_by_the_note(fixture_procedures) -> None:
    # "Trực tuyến120 VNĐ(20.000 vnđ /tờ khai)": time 1 (no unit), fee 20 VNĐ (really thousands)
    channel = fixture_procedures["1.000020"].channels[0]
    assert (channel.channel, channel.time.value, channel.time.unit) == ("truc_tuyen", 1.0, None)
    assert (channel.fee.kind, channel.fee.amount, channel.fee.amount_doubtful) == ("amount", 20.0, True)
    assert channel.fee_note == "20.000 vnđ /tờ khai"


def test_bare_time_then_hundred(fixture_procedures) -> None:
    # "Trực tuyến1100 VNĐ(Phí công bố ...: 100.000 đồng/lần ...)": 1 + 100, not 11 + 00 or 110 + 0
    channel = fixture_procedures["2.002009"].channels[0]
    assert channel.time.text == "1"
    assert channel.fee.amount == 100.0
    assert channel.fee_note.startswith("Phí công bố nội dung đăng ký doanh nghiệp: 100.000 đồng/lần")


def test_comma_amount_is_thousands(fixture_procedures) -> None:
    channel = fixture_procedures["1.014984"].channels[0]
    assert channel.time.text == "3 Ngày làm việc" and channel.time.unit == "ngay_lam_viec"
    assert (channel.fee.amount, channel.fee.currency, channel.fee.amount_doubtful) == (150000.0, "VND", False)
    assert channel.description.startswith("Nộp hồ sơ trên cổng Dịch vụ công quốc gia")


def test_usd_amount_is_kept_in_usd(fixture_procedures) -> None:
    first = fixture_procedures["1.003358"].channels[0]
    assert (first.fee.amount, first.fee.currency) == (145.0, "USD")


def test_free_with_a_note_that_names_amounts(fixture_procedures) -> None:
    channel = fixture_procedures["3.000379"].channels[0]
    assert channel.fee.kind == "free"
    assert "50.000.000 đồng" in channel.fee_note
    assert channel.description.startswith("Trong thời hạn 12 ngày làm việc")


def test_prose_time_is_kept_as_text(fixture_procedures) -> None:
    channel = fixture_procedures["1.007689"].channels[0]
    assert channel.time.value is None and channel.time.stated
    assert channel.time.text == "Không phải trả kết quả cho người nộp thuế"
    assert channel.fee.kind == "free"


def test_birth_registration_channels(fixture_procedures) -> None:
    channels = fixture_procedures["1.001193"].channels
    assert [c.channel for c in channels] == ["truc_tuyen", "buu_chinh", "truc_tiep"]
    assert all(c.time.text == "1" and c.time.unit is None and c.fee.kind == "free" for c in channels)


def test_channel_table_variants() -> None:
    parsed = parse_channels(HEADER + "Trực tiếpKhông có thông tinKhông có thông tinTrực tuyến2 Giờ10 USD(10USD/giấy)")
    assert parsed.ok
    first, second = parsed.channels
    assert not first.time.stated and first.fee.kind == "unknown"
    assert (second.time.value, second.time.unit, second.fee.amount, second.fee.currency) == (2.0, "gio", 10.0, "USD")
    assert second.fee_note == "10USD/giấy"
    assert not parse_channels("").ok
    assert not parse_channels(HEADER + "một đoạn văn không có bảng").ok


def test_documents_with_groups_forms_and_quantities(fixture_procedures) -> None:
    documents = fixture_procedures["1.011325"].documents
    assert documents[0].group.startswith("(1) Thành phần hồ sơ cấp Giấy phép nhập khẩu")
    application = documents[2]
    assert application.name.startswith("Đơn đề nghị cấp giấy phép nhập khẩu, xuất khẩu của doanh nghiệp theo Mẫu số 01")
    assert application.form == "Mẫu số 01.docx"
    assert (application.originals, application.copies) == (1, None)
    # "0 bản chính" alone: listed but not required in that case
    assert documents[0].originals == 0 and not documents[0].required
    # "0 bản chính,1 bản sao": one copy is required
    assert (documents[1].originals, documents[1].copies, documents[1].required) == (0, 1, True)
    assert documents[-1].group.startswith("(2) Thành phần hồ sơ cấp lại")


def test_documents_recovered_from_the_page_and_put_in_order(fixture_procedures) -> None:
    # the crawled field holds the steps; the page text holds the table, items shuffled 8, 4, 3 ...
    procedure = fixture_procedures["1.001521"]
    assert "documents" not in procedure.parse_failures
    assert [d.name.split(".")[0] for d in procedure.documents] == [str(n) for n in range(1, 9)]
    assert procedure.documents[0].group.startswith("Trường hợp không quy định là bản chính")


def test_document_year_is_not_read_as_a_quantity() -> None:
    parsed = parse_documents(
        "--Tên giấy tờMẫu đơn, tờ khaiSố lượngĐơn theo Thông tư 02/2026/TT-BNNMT ngày 01/01/20261 bản chính,1 bản sao"
    )
    assert parsed.ok
    item = parsed.items[0]
    assert item.name.endswith("ngày 01/01/2026")
    assert (item.originals, item.copies) == (1, 1)


def test_legal_basis_pairs(fixture_procedures) -> None:
    entries = fixture_procedures["1.011325"].legal_basis
    assert [e.number for e in entries] == [
        "101/2020/TT-BTC",
        "105/2021/NĐ-CP",
        "13/2022/TT-BNNPTNT",
        "12/2020/TT-BNNPTNT",
    ]
    assert entries[1].title == "Nghị định 105/2021/NĐ-CP"


def test_legal_basis_number_column_with_words(fixture_procedures) -> None:
    entries = fixture_procedures["1.004694"].legal_basis
    assert entries[0].title == "Luật sửa đổi, bổ sung một số điều của 15 luật trong lĩnh vực nông nghiệp và môi trường"
    assert entries[0].number == "Luật số 146/2025/QH15"
    assert (entries[1].title, entries[1].number) == ("Thông tư", "02/2026/TT-BNNMT")


def test_legal_basis_slash_and_ttg_suffixes(fixture_procedures) -> None:
    numbers = [e.number for e in fixture_procedures["1.003220"].legal_basis]
    assert "290/2005/QĐ-TTg" in numbers
    assert "191/2005/TTLT/BQP-BLĐTBXH-BTC" in numbers
    glued = parse_legal_basis(
        "Tên văn bản pháp lýMã văn bảnLuật 49/2019/QH1449/2019/QH14Quyết định số 09/2023/QĐ-TTg09/2023/QĐ-TTg"
    )
    assert glued.ok
    assert [(e.title, e.number) for e in glued.entries] == [
        ("Luật 49/2019/QH14", "49/2019/QH14"),
        ("Quyết định số 09/2023/QĐ-TTg", "09/2023/QĐ-TTg"),
    ]
    assert parse_legal_basis("Không có thông tin").entries == []


def test_results_drop_the_portal_widget() -> None:
    results = parse_results(
        "Giấy phép nhập khẩuMã: KQ.G10.000272Từ khóaKhông có thông tinMô tảKhông có thông tin"
        "Chọn cơ quan thực hiệnTỉnh/ Thành phốBộ ngành-- Chọn Tỉnh/ Thành phố --Nộp hồ sơ"
    )
    assert [(r.name, r.code, r.description) for r in results] == [("Giấy phép nhập khẩu", "KQ.G10.000272", None)]


def test_steps_and_lists() -> None:
    assert parse_steps("Bước 1: Nộp hồ sơ.\nBước 2: Nhận kết quả.") == ["Bước 1: Nộp hồ sơ.", "Bước 2: Nhận kết quả."]
    assert split_top_level_commas("Tổ chức (không bao gồm doanh nghiệp, HTX), Công dân Việt Nam") == [
        "Tổ chức (không bao gồm doanh nghiệp, HTX)",
        "Công dân Việt Nam",
    ]
