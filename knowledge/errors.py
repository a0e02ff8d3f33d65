"""Domain errors. They become HTTP errors or a fixed Vietnamese reply only at the edge."""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base of every error the knowledge layer raises on purpose."""


class BadRecord(KnowledgeError):
    """A source record failed validation; the build stops and names it."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"record {code}: {reason}")
        self.code = code
        self.reason = reason


class SourceNotFound(KnowledgeError):
    """The configured procedure source file does not exist."""


class IndexNotBuilt(KnowledgeError):
    """No index on disk, or one written by an incompatible build; run `python -m knowledge build`."""


class ProcedureNotFound(KnowledgeError):
    """No procedure with that code in the knowledge base."""

    def __init__(self, code: str) -> None:
        super().__init__(f"no procedure with code {code!r}")
        self.code = code
