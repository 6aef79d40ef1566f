"""The package map the README draws is the one the code follows.

Every import of a textcart module counts: at the top of a file, inside a function, and a
re-export in an `__init__.py`; only imports under `if TYPE_CHECKING:` (never run) do not.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "textcart"

# Which parts of textcart may import which: the README's "Architecture" section in code.
# A part may import itself and anything listed for it; nothing else.
MAY_IMPORT: dict[str, set[str]] = {
    "settings": set(),
    "vocabulary": set(),
    "paths": set(),
    "progress": set(),
    "storefolder": {"vocabulary", "paths"},
    "rules": {"vocabulary", "prompts"},
    "prompts": {"vocabulary", "paths"},
    "tools": {"vocabulary", "rules", "paths"},
    "deciders": {"vocabulary", "rules", "prompts", "tools", "paths"},
    "answers": {"vocabulary", "rules", "tools"},
    "demo_store": {"vocabulary", "tools", "storefolder", "paths"},
    "graph": {
        "vocabulary", "rules", "prompts", "tools", "deciders", "answers", "demo_store", "paths",
        "storefolder",
    },
    "persistence": {"paths"},
    "agent": {"vocabulary", "tools", "graph", "persistence", "paths"},
    "server": {"vocabulary", "rules", "tools", "graph", "persistence", "paths"},
    "conversations": {"vocabulary", "tools", "demo_store", "graph", "agent"},
    "shopper_cli": {"tools", "agent", "paths"},
    "handoff_cli": {"tools", "agent", "paths"},
    "store_cli": {"prompts", "storefolder"},
    "model_check": {"graph", "tools"},
    "catalog_cli": {"demo_store", "graph", "paths", "progress", "storefolder", "tools"},
    "evaluation": {
        "vocabulary", "rules", "prompts", "tools", "deciders", "answers", "demo_store", "graph",
        "agent", "conversations", "paths", "progress", "persistence",
    },
    "simulation": {
        "vocabulary", "rules", "prompts", "tools", "deciders", "demo_store", "graph", "agent",
        "persistence", "conversations", "evaluation", "paths", "progress", "model_check",
    },
}  # fmt: skip
# The process's settings, like the environment they are read from, sit below every part.
for _part in MAY_IMPORT:
    if _part not in ("settings", "vocabulary", "progress"):
        MAY_IMPORT[_part].add("settings")
# The command line is the top: it may import every other part.
MAY_IMPORT["cli"] = set(MAY_IMPORT)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE_ROOT.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _known(name: str) -> str:
    """The textcart module an import names (`from a.b import c` may name a.b.c or a.b)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str, source: str | None = None) -> set[str]:
    """The textcart modules `module` imports when it runs, anywhere in the file."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    source = path.read_text() if source is None else source
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit_statement(other)
            else:
                visit_statement(child)

    def visit_statement(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(_known(a.name) for a in node.names if a.name.startswith("textcart"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.startswith("textcart"):
                found.update(_known(f"{source}.{a.name}") for a in node.names)
        else:
            visit(node)

    visit(ast.parse(source))
    found.discard(module)
    return found


IMPORTS = {module: _imports(module) for module in MODULES}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_the_reader_sees_imports_inside_functions_and_skips_type_checking() -> None:
    # The reader is what the other tests stand on: it must see what runs, and only that.
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import labels\n"
        "if TYPE_CHECKING:\n    from textcart.graph.state import TurnState\n"
        "else:\n    import textcart.rules.needs\n"
        "def f():\n    from textcart.tools.sms import Sender\n"
    )
    assert _imports("textcart.vocabulary.records", source) == {
        "textcart.vocabulary.labels",
        "textcart.rules.needs",
        "textcart.tools.sms",
    }
    assert "textcart.graph.services" in IMPORTS["textcart.graph.nodes.common"]
    assert "textcart.tools.sms" in IMPORTS["textcart.graph.services"]
    function_level = [
        m for m, path in MODULES.items() for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("textcart")
                for n in ast.walk(node))
    ]  # fmt: skip
    assert function_level, "no module imports inside a function: the reader is not tested"
    for module in function_level:
        tree = ast.parse(MODULES[module].read_text())
        inner = {
            _known(f"{n.module}.{a.name}")
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            for n in ast.walk(f)
            if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("textcart")
            for a in n.names
        }
        assert inner - {module} <= IMPORTS[module]


def test_no_module_imports_itself_back() -> None:
    assert _cycles(IMPORTS) == []


def test_no_part_imports_itself_back() -> None:
    parts: dict[str, set[str]] = defaultdict(set)
    for module, imported in IMPORTS.items():
        parts[_part(module)].update(_part(m) for m in imported if _part(m) != _part(module))
    assert _cycles(parts) == []


def test_every_part_imports_only_what_the_map_allows() -> None:
    unlisted = {_part(m) for m in MODULES if _part(m)} - set(MAY_IMPORT)
    assert not unlisted, f"parts missing from the map (and the README): {sorted(unlisted)}"
    wrong = sorted(
        f"{module} imports {imported}"
        for module, targets in IMPORTS.items()
        for imported in targets
        if _part(module) and _part(imported) != _part(module)
        if _part(imported) not in MAY_IMPORT[_part(module)]
    )
    assert wrong == []


def test_the_vocabulary_imports_nothing_else_from_textcart() -> None:
    outside = {
        imported
        for module, targets in IMPORTS.items()
        if _part(module) == "vocabulary"
        for imported in targets
        if _part(imported) != "vocabulary"
    }
    assert outside == set()


@pytest.mark.parametrize("part", ["vocabulary", "rules", "prompts", "tools", "deciders", "answers"])
def test_each_lower_part_imports_alone(part: str) -> None:
    # A fresh interpreter per part: an import order that only works after another part
    # was loaded first would pass inside one pytest process.
    program = (
        f"import importlib, pkgutil, textcart.{part} as p\n"
        "for m in pkgutil.iter_modules(p.__path__):\n"
        "    importlib.import_module(f'{p.__name__}.{m.name}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PACKAGE_ROOT.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
