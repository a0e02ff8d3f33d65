"""A terminal chat with the assistant: questions, numbered choices after a clarification,
and follow-up questions about the procedure being discussed ("thế lệ phí bao nhiêu?")."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from knowledge.dialogue import DialogueState, respond
from knowledge.service import AnswerService
from nlu.text import normalize

WELCOME = (
    "Trợ lý thủ tục hành chính Hà Nội — hỏi về hồ sơ, lệ phí, thời hạn, nơi nộp, cách làm trực tuyến.\n"
    "Gõ câu hỏi rồi Enter; Ctrl-D để thoát."
)


def _lines() -> Iterator[str]:
    """Lines from a pipe, or typed at a prompt until Ctrl-D."""
    if not sys.stdin.isatty():
        yield from sys.stdin
        return
    while True:
        try:
            yield input("\nBạn: ")
        except EOFError:
            print()
            return


def run_chat(service: AnswerService) -> int:
    print(WELCOME)
    state = DialogueState()
    for line in _lines():
        if not line.strip():
            continue
        answer, state = respond(service, state, normalize(line))
        print(answer.text)
    return 0
