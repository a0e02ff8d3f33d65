"""Property-based fuzz of the OpenAPI document: every documented operation, valid and invalid inputs.

Schemathesis generates requests from the schema the app publishes (positive and negative cases) and
checks that none gets a 5xx and that every response is one the document promises: a documented
status code, a body matching its schema, a rejection of invalid input. The plain tests below pin
what the fuzz found, so a regression shows up with a readable failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import ApiSettings
from knowledge.service import AnswerService
from tests.conftest import make_api_settings

EXAMPLES_PER_OPERATION = 200
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
NOT_UTF8 = b'{"session_id": "\xff\xfe"}'

# The document is generated without starting an app (no knowledge base, no store); the requests go
# to the fixture's app below. (schemathesis' lazy ``from_fixture`` loader fails under pytest 9.)
schema = schemathesis.openapi.from_dict(create_app(ApiSettings(database_url="sqlite://")).openapi())


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory, fixture_service: AnswerService) -> FastAPI:
    """One app for the whole fuzz: the fixture corpus, a fresh SQLite store, limits out of the way."""
    # A 429 is documented, but the fuzz would spend its examples on it instead of on the routes.
    api_settings = make_api_settings(
        tmp_path_factory.mktemp("fuzz"),
        rate_limit_user_per_minute=1_000_000,
        rate_limit_ip_per_minute=1_000_000,
        rate_limit_search_per_minute=1_000_000,
    )
    return create_app(api_settings, service=fixture_service)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, fuzzed_app: FastAPI) -> None:
    """No input, valid or not, makes the API fail or answer outside its document."""
    case.call_and_validate(app=fuzzed_app, checks=CHECKS)


# -- what the fuzz found ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/ask", "/v1/feedback"])
def test_body_that_is_not_utf8_is_a_documented_400(client: TestClient, path: str) -> None:
    """A body that is not UTF-8 JSON gets 400 with a ``detail``, and the document says so (it did not)."""
    response = client.post(path, content=NOT_UTF8, headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    documented = client.get("/openapi.json").json()["paths"][path]["post"]["responses"]
    assert "400" in documented


def test_oversized_feedback_is_a_documented_413(tmp_path: Path, fixture_service: AnswerService) -> None:
    """The body limit holds on every route; the feedback route now documents its 413 too."""
    app = create_app(make_api_settings(tmp_path, max_body_bytes=1000), service=fixture_service)
    with TestClient(app) as client:
        response = client.post("/v1/feedback", json={"answer_id": "0" * 32, "useful": False, "comment": "x" * 1500})
        documented = client.get("/openapi.json").json()["paths"]["/v1/feedback"]["post"]["responses"]

    assert response.status_code == 413
    assert response.json() == {"detail": "Nội dung gửi lên quá lớn."}
    assert "413" in documented
