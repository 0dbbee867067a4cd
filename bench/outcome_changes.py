"""Which answer combinations get another outcome than at an earlier commit.

Walks all 1,524 combinations (4 concerns × 127 area sets × 3 goals) through
the working tree's scoring and content and through REV's (its `quiz/` package
unpacked with `git archive` into a temporary folder, run in a subprocess), and
prints how many outcomes changed, by old → new, with a few examples.

    .venv/bin/python bench/outcome_changes.py [--against REV] [--examples 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The last commit before the site rule (issue 21).
DEFAULT_REV = "4a360f7"


OUTCOMES_SCRIPT = """
import json
from itertools import combinations
try:  # the layout since issue 22: the quiz model and scoring in quiz.core
    from quiz.content.document import read_document
    from quiz.content.file import DEFAULT_CONTENT
    from quiz.content.locales import parse_document
    from quiz.core.scoring import Answers, score
    content = parse_document(read_document(DEFAULT_CONTENT))["en"]
except ImportError:  # earlier commits: quiz.domain
    from quiz.domain.content_file import load_content
    from quiz.domain.scoring import Answers, score
    content = load_content()
areas = content.question("area").option_ids
sets = [c for n in range(1, len(areas) + 1) for c in combinations(areas, n)]
print(json.dumps({
    f"{c}|{'+'.join(a)}|{g}": score(content, Answers(c, a, g)).outcome
    for c in content.question("concern").option_ids for a in sets
    for g in content.question("goal").option_ids
}))
"""


def outcomes_at(rev: str | None, folder: Path) -> dict[str, str]:
    """Every answer set's outcome with REV's quiz package (None: the working tree)."""
    root = ROOT
    if rev is not None:
        archive = subprocess.run(
            ["git", "archive", rev, "quiz"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        root = folder
    done = subprocess.run(
        [sys.executable, "-c", OUTCOMES_SCRIPT],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=DEFAULT_REV, help="the earlier commit")
    parser.add_argument("--examples", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        then = outcomes_at(args.against, Path(tmp))
    now = outcomes_at(None, ROOT)
    changed: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], tuple[int, str]] = {}
    total = len(now)
    for key, new in now.items():
        old = then.get(key, "?")
        if old != new:
            kind = (old, new)
            changed[kind] += 1
            concern, areas, goal = key.split("|")
            size = areas.count("+") + 1
            example = f"{concern} + {areas.replace('+', ', ')} + {goal}: {old} → {new}"
            if kind not in examples or size < examples[kind][0]:  # the simplest case first
                examples[kind] = (size, example)
    print(f"{sum(changed.values())} of {total} combinations changed outcome", end=" ")
    print(f"(against {args.against[:12]})")
    for (old, new), count in sorted(changed.items()):
        print(f"  {old} → {new}: {count}")
    print("the simplest example of each change:")
    for _, line in sorted(examples.values())[: args.examples]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
