import unicodedata

import pytest

from nlu.text import fold, folded_syllables, has_diacritics, normalize, syllables


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (unicodedata.normalize("NFD", "Đăng ký khai sinh"), "Đăng ký khai sinh"),
        ("Hoà Bình", "Hòa Bình"),
        ("thuỷ sản", "thủy sản"),
        ("khoẻ mạnh", "khỏe mạnh"),
        ("xoá đăng ký", "xóa đăng ký"),
        ("hoặc", "hoặc"),  # a breve under the tone: not an old-style pair
        ("quý", "quý"),  # "qu" + "y": the tone stays
        ("  cấp\u200b  lại\t thẻ ", "cấp lại thẻ"),
        ("dòng 1\r\n dòng 2", "dòng 1\ndòng 2"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
    assert unicodedata.is_normalized("NFC", normalize(raw))


def test_old_and_new_tone_placement_are_one_word() -> None:
    assert normalize("hoà giải") == normalize("hòa giải")
    assert syllables("Thuỷ lợi") == syllables("thủy lợi")


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Đăng ký kết hôn", "dang ky ket hon"), ("CĂN CƯỚC", "can cuoc"), ("lltp", "lltp"), ("Phường", "phuong")],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_has_diacritics() -> None:
    assert has_diacritics("đăng ký")
    assert has_diacritics("Đ")
    assert not has_diacritics("dang ky")


def test_syllables_split_on_punctuation_and_keep_numbers() -> None:
    assert syllables("Cấp lại GPLX, hạng A1?") == ["cấp", "lại", "gplx", "hạng", "a1"]
    assert folded_syllables("Sổ đỏ!") == ["so", "do"]
