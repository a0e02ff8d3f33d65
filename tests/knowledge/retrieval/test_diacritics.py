import pytest

from knowledge.retrieval.diacritics import DiacriticRestorer


@pytest.fixture(scope="module")
def restorer(fixture_procedures) -> DiacriticRestorer:
    texts = [p.name for p in fixture_procedures.values()] + [p.steps_text for p in fixture_procedures.values()]
    return DiacriticRestorer(texts + ["làm căn cước", "đăng ký khai sinh cho con"] * 3)


def test_restores_known_words_from_context(restorer) -> None:
    assert restorer.restore("dang ky khai sinh") == "đăng ký khai sinh"
    assert restorer.restore("lam can cuoc") == "làm căn cước"


def test_keeps_typed_diacritics_and_unknown_words(restorer) -> None:
    assert restorer.restore("đăng ky cccd") == "đăng ký cccd"
    assert restorer.restore("homestay") == "homestay"
    assert restorer.restore("") == ""


def test_chat_wording_is_restored_as_chat_not_as_administrative_homographs(fixture_procedures) -> None:
    from knowledge.retrieval.candidates import restorer_texts

    # administrative texts alone read "toi muon" as "tối muộn" (tối đa, nộp muộn)
    restorer = DiacriticRestorer(restorer_texts(list(fixture_procedures.values())))
    assert restorer.restore("vo chong toi muon dang ky tam tru") == "vợ chồng tôi muốn đăng ký tạm trú"
