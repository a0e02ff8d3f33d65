"""A terminal chat with the assistant: questions, numbered choices after a clarification,
and follow-up questions about the procedure being discussed ("thế lệ phí bao nhiêu?")."""

from __future__ import annotations

import sys

from knowledge.service import AnswerService
from nlu.aspects import cued_aspects

WELCOME = (
    "Trợ lý thủ tục hành chính Hà Nội — hỏi về hồ sơ, lệ phí, thời hạn, nơi nộp, cách làm trực tuyến.\n"
    "Gõ câu hỏi rồi Enter; Ctrl-D để thoát."
)


def _lines():  # noqa: ANN202 - a generator of typed lines
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
    current_code: str | None = None
    options: list[str] = []
    for line in _lines():
        text = line.strip()
        if not text:
            continue
        if options and text.isdigit() and 1 <= int(text) <= len(options):
            current_code, options = options[int(text) - 1], []
            print(service.answer_about(current_code, "general").text)
            continue
        aspects = cued_aspects(text)
        if current_code and aspects and len(text.split()) <= 6:
            # A short follow-up ("nộp ở đâu?") is about the procedure already under discussion.
            print(service.answer_about(current_code, aspects[0]).text)
            continue
        answer = service.ask(text)
        options = [option.code for option in answer.options]
        current_code = answer.procedure.code if answer.procedure else current_code
        print(answer.text)
    return 0
