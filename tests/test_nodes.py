"""Two app nodes behind one nginx upstream on PostgreSQL and Redis; one dies mid-load.

bench/nodes.py's run, short: every acknowledged callback is stored once with
its outbox rows, the survivor keeps acknowledging, and a publish made while
one node is dead reaches the survivor. The figures are the bench's job.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from tests.support.database import POSTGRES_ADMIN_URL, postgres_admin, postgres_missing_message
from tests.support.environment import unavailable

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.database  # its own database, not the suite's


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("bench_nodes", ROOT / "bench" / "nodes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_nodes"] = module
    spec.loader.exec_module(module)
    return module


def test_a_node_killed_mid_load_loses_nothing_and_a_publish_reaches_the_survivor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        unavailable("nginx is not installed: apt-get install -y nginx (Debian's package)")
    admin = postgres_admin()
    if admin is None:
        unavailable(postgres_missing_message())
    admin.close()
    nodes = _bench()
    code = nodes.main(["--seconds", "8", "--kill-after", "30", "--patients", "16",  # type: ignore[attr-defined]
                       "--postgres", POSTGRES_ADMIN_URL])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "lost 0, doubled 0, without their outbox rows 0" in out
    assert "publish reached the survivor" in out and "NOT within" not in out
