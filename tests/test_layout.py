"""The house rules of quiz/: packages by concern, dependencies pointing one way.

domain ← settings ← storage ← notifications, funnel ← leads ← web ← patient, embed, staff

A package may import its own modules and those of packages to its left, never
one to its right; patient and staff never import each other. Modules stay
under 300 lines, quiz/ itself holds at most 8 Python files, and no module
imports the project's own code inside a function (a sign that a piece sits in
the wrong package), except a package's __init__.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

QUIZ = Path(__file__).resolve().parent.parent / "quiz"
RANK = {
    "domain": 0,
    "settings": 1,
    "storage": 2,
    "notifications": 3,
    "funnel": 3,
    "leads": 4,
    "web": 5,
    "patient": 6,
    "embed": 6,
    "staff": 6,
}
MODULES = sorted(p for p in QUIZ.rglob("*.py"))


def package_of(module: str) -> str | None:
    """The first-level package of a `quiz.…` module name, or None for quiz itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "quiz" else None


def project_imports(path: Path) -> list[tuple[ast.stmt, str, bool]]:
    """(node, quiz module, inside a function?) for every import of the project's own code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[ast.stmt, str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                if child.module == "quiz":
                    found.extend((child, f"quiz.{a.name}", inside) for a in child.names)
                elif child.module.startswith("quiz."):
                    found.append((child, child.module, inside))
            elif isinstance(child, ast.Import):
                found.extend(
                    (child, a.name, inside) for a in child.names if a.name.startswith("quiz")
                )
            elif isinstance(child, ast.ImportFrom) and child.level:
                found.append((child, "relative", inside))
            visit(child, inside)

    visit(tree, False)
    return found


def name(path: Path) -> str:
    return str(path.relative_to(QUIZ.parent))


def test_every_package_has_a_place_in_the_order() -> None:
    packages = {p.name for p in QUIZ.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(RANK)


def test_quiz_itself_holds_at_most_eight_python_files() -> None:
    assert len(list(QUIZ.glob("*.py"))) <= 8


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_no_module_is_over_300_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 300


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_imports_point_down_and_sit_at_the_top(path: Path) -> None:
    parts = path.relative_to(QUIZ.parent).with_suffix("").parts
    own = package_of(".".join(p for p in parts if p != "__init__"))
    for node, module, in_function in project_imports(path):
        where = f"{name(path)}:{node.lineno}"
        assert module != "relative", f"{where}: use absolute imports (quiz.package.module)"
        if in_function:
            assert path.name == "__init__.py", f"{where}: imports {module} inside a function"
        target = package_of(module)
        if own is None or target is None or target == own:
            continue
        assert RANK[target] < RANK[own], (
            f"{where}: {own} (rank {RANK[own]}) must not import {target} (rank {RANK[target]})"
        )


def test_the_domain_uses_neither_flask_nor_sqlalchemy() -> None:
    for path in (QUIZ / "domain").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for imported in names:
                top = imported.split(".")[0]
                assert top not in ("flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug"), (
                    f"{name(path)}:{node.lineno} imports {imported}"
                )
