"""Logging that never writes a personal number unmasked (access logs carry query strings)."""

from __future__ import annotations

import copy
import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from nlu.pii import mask_pii

# The id of the HTTP request being served (set by the metrics middleware, echoed as X-Request-ID):
# every log line written while serving it carries it, across threads (contextvars are copied).
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")

# LogRecord attributes that are not extra fields of a structured log line.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}


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


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                line[key] = value if isinstance(value, int | float | bool | type(None)) else mask_pii(str(value))
        if record.exc_info:
            line["exception"] = mask_pii(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


class UvicornAccessJsonFormatter(JsonFormatter):
    """Uvicorn's access records as structured fields (client, method, path, status)."""

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            record.__dict__.update(client=client, method=method, path=path, status=status)
        return super().format(record)


def uvicorn_log_config(log_format: str = "json") -> dict:
    """Uvicorn's own logging configuration: masking filter on every handler, JSON lines by default."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_pii"] = {"()": "api.logs.MaskPiiFilter"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("mask_pii")
    if log_format == "json":
        config["formatters"]["default"] = {"()": "api.logs.JsonFormatter"}
        config["formatters"]["access"] = {"()": "api.logs.UvicornAccessJsonFormatter"}
        # the app's own loggers go through the same handler
        config["loggers"][""] = {"handlers": ["default"], "level": "INFO"}
    return config


def configure_logging(level: int = logging.INFO, log_format: str = "json") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(MaskPiiFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
