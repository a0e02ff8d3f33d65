"""The aspect registry: every part of a procedure a user can ask about, declared once.

An entry says what the aspect is called (``title``, on the card and in replies), the button
that asks for it after an answer (``button``, None when it is not offered), and the function
that writes its section. Its position in :data:`ASPECT_REGISTRY` is its place on the hotline
card. The words that ask for it are in :mod:`nlu.aspects` (``STRONG_CUES``/``WEAK_CUES``), the
language layer, which the retrieval side reads too; a test keeps the two lists in step.

Adding an aspect: its id in ``nlu.aspects.Aspect``/``ASPECTS`` with its cue phrases, a section
function in :mod:`knowledge.answer.sections`, and an entry here. The API's schemas, the card,
the replies and the widget's buttons (served by the API) follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from knowledge.answer import sections
from knowledge.answer.hanoi import HanoiData
from knowledge.ingest.records import Procedure
from nlu.aspects import Aspect

SectionWriter = Callable[[HanoiData, Procedure], list[str]]


@dataclass(frozen=True)
class AspectSpec:
    id: Aspect
    title: str
    compose: SectionWriter
    button: str | None = None


class AspectRegistry:
    """The aspects in card order, looked up by id."""

    def __init__(self, specs: list[AspectSpec]) -> None:
        self._specs = {spec.id: spec for spec in specs}
        if len(self._specs) != len(specs):
            raise ValueError("an aspect is declared twice")

    def __getitem__(self, aspect: Aspect) -> AspectSpec:
        return self._specs[aspect]

    def __iter__(self) -> Iterator[AspectSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    @property
    def card_order(self) -> tuple[Aspect, ...]:
        return tuple(self._specs)

    @property
    def buttons(self) -> list[AspectSpec]:
        """The aspects offered as follow-up buttons after an answer, in card order."""
        return [spec for spec in self if spec.button]


# The hotline card: overview first, then what callers ask most.
ASPECT_REGISTRY = AspectRegistry(
    [
        AspectSpec("general", "Tóm tắt", sections.general),
        AspectSpec("documents", "Hồ sơ cần chuẩn bị", sections.documents, button="Hồ sơ"),
        AspectSpec("fee", "Phí, lệ phí", sections.fee, button="Lệ phí"),
        AspectSpec("time", "Thời hạn giải quyết", sections.time, button="Thời hạn"),
        AspectSpec("where", "Nơi nộp hồ sơ", sections.where, button="Nơi nộp"),
        AspectSpec("online", "Làm trực tuyến", sections.online, button="Hướng dẫn nộp trực tuyến"),
        AspectSpec("steps", "Các bước thực hiện", sections.steps),
        AspectSpec("eligibility", "Điều kiện, đối tượng", sections.eligibility),
        AspectSpec("result", "Kết quả nhận được", sections.result),
        AspectSpec("legal_basis", "Căn cứ pháp lý", sections.legal_basis),
    ]
)
