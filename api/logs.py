"""Logging that never writes a personal number unmasked (access logs carry query strings)."""

from __future__ import annotations

import copy
import logging

from nlu.pii import mask_pii


class MaskPiiFilter(logging.Filter):
    """Masks CCCD/CMND, phone numbers and e-mails in the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Arguments are masked one by one, keeping their shape: uvicorn's access formatter
        # unpacks record.args itself instead of using the formatted message.
        if isinstance(record.msg, str):
            record.msg = mask_pii(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_pii(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: mask_pii(v) if isinstance(v, str) else v for key, v in record.args.items()}
        return True


def uvicorn_log_config() -> dict:
    """Uvicorn's own logging configuration with the masking filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_pii"] = {"()": "api.logs.MaskPiiFilter"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("mask_pii")
    return config


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(MaskPiiFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
