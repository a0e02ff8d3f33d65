"""Write the parser's output for chosen records, to be checked by hand into test fixtures.

usage: python scripts/dump_parsed.py OUT_DIR CODE [CODE ...]
Each OUT_DIR/<code>.json holds the parsed fields as the parser sees them today; a reviewer
corrects every value against the raw record and the official page text, and the test suite
then compares the parser against the corrected file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from knowledge.evaluation.handcheck import parsed_view
from knowledge.ingest.importer import parse_record, read_raw_records
from knowledge.settings import get_settings


def main(out_dir: str, *codes: str) -> None:
    wanted = set(codes)
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    for raw in read_raw_records(get_settings().source_path):
        if raw.get("ma_thu_tuc") not in wanted:
            continue
        procedure = parse_record(raw)
        ordered = parsed_view(procedure)
        (target / f"{procedure.code}.json").write_text(
            json.dumps(ordered, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
