"""Which answer combinations get another outcome than at an earlier commit.

Walks all 1,524 combinations (4 concerns × 127 area sets × 3 goals) through
today's scoring and through the scoring and content file of REV (read with
`git show`, imported from a temporary folder), and prints how many outcomes
changed, by old → new, with a few examples.

    .venv/bin/python bench/outcome_changes.py [--against REV] [--examples 4]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
from collections import Counter
from itertools import combinations
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The commit before the result issue changed the scoring.
DEFAULT_REV = "fcb11990f34bde7b6241156686012f535cd3b3b6"


def git_show(rev: str, path: str) -> str:
    return subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def old_modules(rev: str, folder: Path) -> tuple[ModuleType, ModuleType, Path]:
    """REV's content and scoring modules as the package `quiz_then`, and its content file."""
    package = folder / "quiz_then"
    (package / "content").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("content.py", "scoring.py"):
        (package / name).write_text(git_show(rev, f"quiz/{name}"))
    toml = package / "content" / "quiz.toml"
    toml.write_text(git_show(rev, "quiz/content/quiz.toml"))
    sys.path.insert(0, str(folder))
    content = importlib.import_module("quiz_then.content")
    scoring = importlib.import_module("quiz_then.scoring")
    return content, scoring, toml


def combos(area_ids: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [c for n in range(1, len(area_ids) + 1) for c in combinations(area_ids, n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=DEFAULT_REV, help="the earlier commit")
    parser.add_argument("--examples", type=int, default=4)
    args = parser.parse_args()

    from quiz.domain.content_file import load_content
    from quiz.domain.scoring import Answers, score

    now = load_content()
    with tempfile.TemporaryDirectory() as tmp:
        old_content_mod, old_scoring, toml = old_modules(args.against, Path(tmp))
        then = old_content_mod.load_content(toml)
        concerns = now.question("concern").option_ids
        areas = now.question("area").option_ids
        goals = now.question("goal").option_ids
        changed: Counter[tuple[str, str]] = Counter()
        examples: dict[tuple[str, str], tuple[int, str]] = {}
        total = 0
        for concern in concerns:
            for area_set in combos(areas):
                for goal in goals:
                    total += 1
                    new = score(now, Answers(concern, area_set, goal)).outcome
                    old = old_scoring.score(then, old_scoring.Answers(concern, area_set, goal))
                    if old.outcome != new:
                        changed[(old.outcome, new)] += 1
                        # The simplest case of each kind of change first.
                        kind = (old.outcome, new)
                        example = (
                            f"{concern} + {', '.join(area_set)} + {goal}: {old.outcome} → {new}"
                        )
                        if kind not in examples or len(area_set) < examples[kind][0]:
                            examples[kind] = (len(area_set), example)
    print(f"{sum(changed.values())} of {total} combinations changed outcome", end=" ")
    print(f"(against {args.against[:12]})")
    for (old, new), count in sorted(changed.items()):
        print(f"  {old} → {new}: {count}")
    print("the simplest example of each change:")
    for _, line in sorted(examples.values())[: args.examples]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
