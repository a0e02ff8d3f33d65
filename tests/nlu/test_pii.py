import pytest

from nlu.pii import contains_pii, mask_pii


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("số CCCD của tôi là 001099012345", "001099012345"),
        ("cmnd 123456789 bị mất", "123456789"),
        ("gọi 0912 345 678 nhé", "0912 345 678"),
        ("sdt 0912.345.678", "0912.345.678"),
        ("+84912345678", "+84912345678"),
        ("email nguyen.van.a@gmail.com", "nguyen.van.a@gmail.com"),
    ],
)
def test_personal_numbers_are_masked(text: str, secret: str) -> None:
    masked = mask_pii(text)
    assert secret not in masked
    assert contains_pii(text)
    assert "*" in masked


def test_ordinary_numbers_are_kept() -> None:
    text = "Lệ phí 50.000 đồng, mã 1.001193, năm 2025, 5 ngày làm việc"
    assert mask_pii(text) == text
    assert not contains_pii(text)


def test_masked_values_keep_their_last_digits() -> None:
    assert mask_pii("001099012345").endswith("45")


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        # an access log line: a space is "+" and "@" is "%40" in a query string, hiding values from the patterns
        ("GET /v1/search?q=goi+0912345678 HTTP/1.1", "GET /v1/search?q=goi+********78 HTTP/1.1"),
        ("/v1/search?q=0912+345+678&limit=5", "/v1/search?q=****+***+*78&limit=5"),
        ("/v1/search?q=%2B84912345678", "/v1/search?q=%2B*********78"),
        ("/v1/search?q=lan.nguyen%40example.com", "/v1/search?q=l***%40example.com"),
        ("/v1/search?q=%C4%91%C4%83ng+k%C3%BD+001203004005", "/v1/search?q=%C4%91%C4%83ng+k%C3%BD+**********05"),
        ("/v1/search?q=khai+sinh&limit=5", "/v1/search?q=khai+sinh&limit=5"),  # nothing personal: as it was
    ],
)
def test_personal_values_in_url_query_strings_are_masked(logged: str, expected: str) -> None:
    assert mask_pii(logged) == expected
