"""The parser against 47 records checked by hand (tests/data/handchecked, REVIEW.md).

Field-level precision is reported by `python -m knowledge parse-check`; this keeps it from
falling and pins the fields that must be exactly right for every checked record.
"""

from __future__ import annotations

import json

from knowledge.evaluation.handcheck import compare, parsed_view
from tests.conftest import HANDCHECKED_DIR

# The known remaining differences (REVIEW.md explains each); a new one fails the test.
KNOWN_DIFFERENCES = {
    ("channels", "3.000382"),  # a stray copy of the postal row pasted into the online row's description
    ("conditions", "1.009537"),  # the crawled field holds the tail of the documents table
    ("documents", "1.000028"),  # "theo mẫu quy địnhbáo cáo....docx": no boundary between name and file
    ("documents", "1.003338"),  # group headers inside items
    ("legal_basis", "1.000852"),
    ("legal_basis", "1.001521"),
    ("legal_basis", "1.002636"),
    ("legal_basis", "1.004194"),
    ("legal_basis", "1.008312"),
    ("legal_basis", "1.009537"),
    ("legal_basis", "1.010026"),
}


def test_field_level_precision(fixture_procedures) -> None:
    comparison = compare(fixture_procedures, HANDCHECKED_DIR)
    assert comparison.checked == 47 * 17
    assert comparison.precision >= 0.98, "\n".join(comparison.lines())
    found = {(key, code) for key, codes in comparison.wrong.items() for code in codes}
    assert found <= KNOWN_DIFFERENCES, f"new parser differences: {sorted(found - KNOWN_DIFFERENCES)}"


def test_required_documents_match_exactly_where_checked(fixture_procedures) -> None:
    for path in sorted(HANDCHECKED_DIR.glob("*.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        if ("documents", expected["code"]) in KNOWN_DIFFERENCES:
            continue
        actual = parsed_view(fixture_procedures[expected["code"]])
        assert actual["documents"] == expected["documents"], expected["code"]
        assert actual["channels"] == expected["channels"] or ("channels", expected["code"]) in KNOWN_DIFFERENCES
