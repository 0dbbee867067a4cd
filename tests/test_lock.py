"""The Python dependencies are locked: every one pinned with hashes, and installed as locked.

`make run`, `make test` and CI install requirements-dev.lock with
--require-hashes, so two fresh clones get the same bytes. These checks fail
when pyproject.toml gains a dependency the locks lack (run `make lock`), or
when the environment drifted from the lock.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", re.M)


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    pins = {normal(n): v for n, v in PIN.findall(text)}
    # Every pin is followed by its hashes: --require-hashes refuses the file otherwise.
    assert text.count("==") == len(pins) and text.count("--hash=sha256:") >= len(pins)
    return pins


def wanted(*extras: str) -> list[Requirement]:
    lines = [*PROJECT["dependencies"]]
    for extra in extras:
        lines += PROJECT["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", ("postgres",)), ("requirements-dev.lock", ("dev", "postgres"))],
)
def test_every_dependency_is_locked_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pins = locked(lock)
    for requirement in wanted(*extras):
        name = normal(requirement.name)
        assert name in pins, f"{name} is not in {lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def test_the_environment_is_the_lock() -> None:
    for name, version in locked("requirements-dev.lock").items():
        assert metadata.version(name) == version, f"{name}: installed is not the lock's"
