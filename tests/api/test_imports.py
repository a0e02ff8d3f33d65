"""How the app's modules import each other: no cycle, counting the imports inside functions too.

An import inside a function hides a cycle from Python until that function runs (the app imported
the Telegram channel, whose polling entry point imported the app back); reading the source finds it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from knowledge.settings import REPOSITORY_ROOT

PACKAGES = ("api", "bot")


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (REPOSITORY_ROOT / package).rglob("*.py"):
            parts = path.relative_to(REPOSITORY_ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports anywhere in its source (``from a import b`` may name module a.b)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as the path that closes it (depth-first search)."""
    found, done, path = [], set(), []

    def visit(module: str) -> None:
        path.append(module)
        for imported in sorted(graph[module]):
            if imported in path:
                found.append([*path[path.index(imported) :], imported])
            elif imported not in done:
                visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module)
    return found


def test_the_app_and_the_bot_import_no_cycle() -> None:
    modules = project_modules()
    graph = {name: imports(name, path, modules) & modules.keys() for name, path in modules.items()}
    assert "api.channels.telegram" in graph["api.app"]  # the reader sees imports inside functions
    assert cycles(graph) == []


def test_the_rasa_launcher_does_not_import_the_api() -> None:
    """bot/server.py trains and starts Rasa; the harness running both for tests lives in tests/live_stack.py."""
    modules = project_modules()
    assert not {name for name in imports("bot.server", modules["bot.server"], modules) if name.startswith("api")}


def test_a_cycle_is_found_through_an_import_inside_a_function() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
