"""The example suite replays offline from its committed cassettes, and re-records them
byte for byte (``examples/record_cassettes.py``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes" / "examples"
_PORT = re.compile(rb"http://127\.0\.0\.1:\d+/")


def _env() -> dict[str, str]:
    """No key, no base URL: replay must need neither."""
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_API_KEY", "_BASE_URL")) and not k.startswith("PYTEST_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.mark.parametrize("replay", ["domain", "wire"])
def test_the_example_suite_replays_offline(replay: str) -> None:
    done = _run(["-m", "pytest", "examples", "-p", "no:cacheprovider", "-p", "no:xdist",
                 f"--llm-replay={replay}", "--llm-block-network"], ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "7 passed" in done.stdout
    assert "0 recorded (0 interactions), 7 replayed" in done.stdout


def test_record_cassettes_rerecords_the_committed_files(tmp_path: Path) -> None:
    # In a copy of the project: the committed cassettes are never touched.
    shutil.copytree(ROOT / "examples", tmp_path / "examples",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    done = _run(["examples/record_cassettes.py", "--port", "0", "-q"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    recorded = tmp_path / "cassettes" / "examples"
    names = sorted(p.relative_to(recorded) for p in recorded.rglob("*.yaml"))
    assert names == sorted(p.relative_to(CASSETTES) for p in CASSETTES.rglob("*.yaml"))
    for name in names:  # identical but for the port the loopback server listened on
        fresh = _PORT.sub(b"http://127.0.0.1:PORT/", (recorded / name).read_bytes())
        committed = _PORT.sub(b"http://127.0.0.1:PORT/", (CASSETTES / name).read_bytes())
        assert fresh == committed, f"{name} differs: run python examples/record_cassettes.py"
