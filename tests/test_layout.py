"""The house rules of quiz/: one folder a feature, shared layers below, no cycles.

    core ← settings ← db ← web ← the features ← the assembly

- `core/` (pure helpers and the quiz model), `settings/`, `db/` (engine,
  models, audit log) and `web/` (the Flask plumbing the features share) are
  layers: a package imports only its own modules and those of layers below.
- The features (`content`, `leads`, `speed`, `notifications`, `funnel`,
  `patient`, `embed`, `staff`, the shell) import the layers freely, but each
  other only through the package itself (`from quiz.content import
  current_bundle`), never a module inside another feature; `patient` and
  `staff` never import each other.
- The assembly (`quiz/__init__.py`, `quiz/stack.py`) may import anything: it
  is where the features are put together.
- Pure modules import no Flask, SQLAlchemy, Werkzeug or Click, and no quiz
  module that is not pure.
- No two modules import each other, directly or around a loop (a package's
  own modules importing its `__init__`, the blueprint pattern, aside), and
  nothing imports the project's code inside a function.

There is no cap on a module's length: a module holds one idea, however long.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

QUIZ = Path(__file__).resolve().parent.parent / "quiz"
LAYERS = {"core": 0, "settings": 1, "db": 2, "web": 3}
FEATURES = {"content", "leads", "speed", "notifications", "funnel", "patient", "embed", "staff",
            "texts", "spas"}  # fmt: skip
ASSEMBLY = {"quiz", "quiz.stack"}
PURE_MODULES = {
    "quiz.content.consent_bump",
    "quiz.content.diff",
    "quiz.content.document",
    "quiz.content.edit",
    "quiz.content.fields",
    "quiz.content.file",
    "quiz.content.locales",
    "quiz.content.medical",
    "quiz.content.principle",
    "quiz.leads.export",
    "quiz.patient.face_map",
    "quiz.speed.figures",
    "quiz.spas.slugs",
    "quiz.texts.keywords",
    "quiz.texts.quiet_hours",
    "quiz.texts.signature",
}
FRAMEWORKS = ("flask", "sqlalchemy", "werkzeug", "click", "itsdangerous", "jinja2", "alembic")


def module_name(path: Path) -> str:
    parts = path.relative_to(QUIZ.parent).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


MODULES = {module_name(p): p for p in sorted(QUIZ.rglob("*.py"))}


def is_pure(module: str) -> bool:
    return module.startswith("quiz.core") or module in PURE_MODULES


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def imports(path: Path) -> list[tuple[int, str, tuple[str, ...], bool]]:
    """(line, module, names, inside a function?) for each import in `path`."""
    found: list[tuple[int, str, tuple[str, ...], bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom):
                module = "." * child.level + (child.module or "")
                names = tuple(a.name for a in child.names)
                found.append((child.lineno, module, names, inside))
            elif isinstance(child, ast.Import):
                found.extend((child.lineno, a.name, (), inside) for a in child.names)
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def targets(module: str, names: tuple[str, ...]) -> set[str]:
    """The quiz modules an import runs: a submodule named in `from pkg import x`, else pkg."""
    found = {f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES}
    if len(found) < len(names) or not names:
        found.add(module)
    return found


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(QUIZ.parent)}:{line}"


def test_every_package_has_a_place() -> None:
    packages = {p.name for p in QUIZ.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS) | FEATURES


def test_quiz_itself_holds_at_most_eight_python_files() -> None:
    assert len(list(QUIZ.glob("*.py"))) <= 8


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers_and_enter_a_feature_through_its_package(module: str) -> None:
    path = MODULES[module]
    own = package_of(module)
    for line, imported, names, in_function in imports(path):
        at = where(path, line)
        assert not imported.startswith("."), f"{at}: use absolute imports (quiz.package.module)"
        if not imported.startswith("quiz"):
            continue
        assert not in_function, f"{at}: imports {imported} inside a function"
        if module in ASSEMBLY:
            continue
        target = package_of(imported)
        if target is None:
            pytest.fail(f"{at}: imports the assembly ({imported})")
        if target == own:
            continue
        if own in LAYERS:
            assert target in LAYERS and LAYERS[target] < LAYERS[own], (
                f"{at}: the {own} layer must not import {imported}"
            )
            continue
        assert {own, target} != {"patient", "staff"}, f"{at}: patient and staff stay apart"
        if target in FEATURES:
            assert imported == f"quiz.{target}", (
                f"{at}: import {target}'s public names from quiz.{target}, not {imported}"
            )
            inner = [n for n in names if f"quiz.{target}.{n}" in MODULES]
            assert not inner, f"{at}: {inner} are modules inside {target}; import its names"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if is_pure(m)))
def test_pure_modules_use_no_framework(module: str) -> None:
    path = MODULES[module]
    for line, imported, names, _ in imports(path):
        top = imported.split(".")[0]
        assert top not in FRAMEWORKS and not top.startswith("flask_"), (
            f"{where(path, line)} imports {imported}"
        )
        if imported.startswith("quiz"):
            impure = [t for t in targets(imported, names) if not is_pure(t) and t != "quiz.core"]
            assert not impure, f"{where(path, line)}: a pure module imports {impure}"


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        edges: set[str] = set()
        for _, imported, names, in_function in imports(path):
            if not imported.startswith("quiz") or in_function:
                continue
            for target in targets(imported, names):
                # A package's module importing its own __init__ (the blueprint, a name
                # defined before the submodules load) is how Flask packages work.
                if target != module and not module.startswith(target + "."):
                    edges.add(target)
        graph[module] = edges
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                loop = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " → ".join(loop))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
