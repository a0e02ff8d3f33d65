"""Personal numbers never reach the logs unmasked, the access log of the server included."""

from __future__ import annotations

import json
import logging
import logging.config

from api.logs import MaskPiiFilter, uvicorn_log_config


def test_filter_masks_the_formatted_message(caplog) -> None:
    logger = logging.getLogger("tests.pii")
    logger.addFilter(MaskPiiFilter())
    with caplog.at_level(logging.INFO, logger="tests.pii"):
        logger.info("question from %s: %s", "0912345678", "CCCD 001203004005")
    assert "0912345678" not in caplog.text and "001203004005" not in caplog.text
    assert "********78" in caplog.text


def test_uvicorn_access_log_is_masked(capsys) -> None:
    logging.config.dictConfig(uvicorn_log_config())
    access = logging.getLogger("uvicorn.access")
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/v1/search?q=cccd+001203004005", "1.1", 200)
    written = capsys.readouterr()
    assert "001203004005" not in written.out + written.err
    assert "**********05" in written.out + written.err


def test_access_log_lines_are_json_fields(capsys) -> None:
    logging.config.dictConfig(uvicorn_log_config("json"))
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/v1/search?q=0912345678", "1.1", 200
    )
    written = capsys.readouterr()
    line = json.loads((written.out + written.err).strip().splitlines()[-1])
    assert line["logger"] == "uvicorn.access" and line["status"] == 200 and line["method"] == "GET"
    assert line["path"] == "/v1/search?q=********78"
