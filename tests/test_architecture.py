"""The shape of the code, checked from its imports: the layers of ``knowledge`` and no import cycle.

Every ``import`` statement counts, also those inside functions: an import deferred to run time
hides a cycle from Python until that function runs (the app imported the Telegram channel, whose
polling entry point imported the app back), but reading the source finds it. The code uses
absolute imports only (ruff's isort keeps it so), which is all this reads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("knowledge", "nlu", "api", "bot")

# knowledge's layers, lowest first: a module may import from its own layer and the ones below.
KNOWLEDGE_LAYERS = {
    "foundation": 0,  # knowledge.errors, knowledge.settings
    "ingest": 1,
    "retrieval": 2,
    "answer": 3,
    "evaluation": 4,
    "top": 5,  # the service, build, refresh, store, dialogue and the CLI
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPOSITORY_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path for package in PACKAGES for path in sorted((REPOSITORY_ROOT / package).rglob("*.py"))
    }


def imported(path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The project modules ``path`` imports (``from a.b import c`` counts a.b.c when that is a module)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name in modules:
                yield name


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: set(imported(path, modules)) - {name} for name, path in modules.items()}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "knowledge":
        return None
    if len(parts) > 2 and parts[1] in KNOWLEDGE_LAYERS:
        return KNOWLEDGE_LAYERS[parts[1]]
    if module in ("knowledge.errors", "knowledge.settings"):
        return KNOWLEDGE_LAYERS["foundation"]
    if module == "knowledge" or module.startswith("knowledge.data"):
        return None
    return KNOWLEDGE_LAYERS[parts[1]] if parts[1] in KNOWLEDGE_LAYERS else KNOWLEDGE_LAYERS["top"]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_there_is_no_import_cycle() -> None:
    assert find_cycle(import_graph()) is None


def test_the_knowledge_layers_import_only_downwards() -> None:
    upward = [
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        for target in targets
        if (low := layer_of(source)) is not None and (high := layer_of(target)) is not None and high > low
    ]
    assert upward == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("nlu", ("knowledge", "api", "bot")), ("knowledge", ("api", "bot")), ("bot", ("api",))],
)
def test_lower_packages_do_not_import_higher_ones(package: str, forbidden: tuple[str, ...]) -> None:
    wrong = [
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        if source.split(".")[0] == package
        for target in targets
        if target.split(".")[0] in forbidden
    ]
    assert wrong == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
