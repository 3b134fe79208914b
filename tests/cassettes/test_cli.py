"""The ``ecs-cassette`` command line: show and check."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pytest_ecs_agent.cassette import Cassette, Interaction, save_cassette
from pytest_ecs_agent.cli import main

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"


def _chat(content: str = "Capital of France?") -> Interaction:
    return Interaction(
        kind="chat",
        provider="openai",
        request={
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": content}],
            "tools": None,
            "stream": False,
            "response_format": None,
        },
        response={
            "result": {
                "message": {"role": "assistant", "content": "Paris."},
                "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13},
            }
        },
    )


def _embed() -> Interaction:
    return Interaction(
        kind="embed",
        provider="openai-embedding",
        request={"model": "text-embedding-3-small", "input": ["a", "b"]},
        response={"vectors": [[0.5, 0.5], [1.0, 0.0]]},
    )


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_show_lists_every_interaction(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(Cassette(path=path, interactions=[_chat(), _embed()]))
    status, text = _run("show", str(path))
    assert status == 0
    assert "2 interaction(s)" in text
    assert "[0] chat openai gpt-4o-mini 'Capital of France?' -> 'Paris.'" in text
    assert "[1] embed openai-embedding text-embedding-3-small (2 input(s))" in text
    assert "2 vector(s) of dimension 2" in text


def test_check_passes_clean_cassettes(tmp_path: Path) -> None:
    save_cassette(Cassette(path=tmp_path / "a" / "one.yaml", interactions=[_chat()]))
    save_cassette(Cassette(path=tmp_path / "two.yaml", interactions=[_embed()]))
    status, text = _run("check", str(tmp_path))
    assert status == 0, text
    assert "2 cassette(s) checked, 0 with problems" in text


def test_check_fails_on_a_leaked_key(tmp_path: Path) -> None:
    path = tmp_path / "leak.yaml"
    save_cassette(Cassette(path=path, interactions=[_chat()]))
    # Simulate a hand-edited cassette: a key pasted in after recording.
    text = path.read_text(encoding="utf-8").replace("Capital of France?", KEY)
    path.write_text(text, encoding="utf-8")
    status, out = _run("check", str(path))
    assert status == 1
    assert "credential-shaped" in out
    assert KEY not in out


def test_check_fails_on_a_broken_cassette(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ninteractions:\n- kind: chat\n", encoding="utf-8")
    status, out = _run("check", str(path))
    assert status == 1
    assert "FAIL" in out and "broken.yaml" in out


def test_check_with_nothing_to_check_is_an_error(tmp_path: Path) -> None:
    status, out = _run("check", str(tmp_path))
    assert status == 1
    assert "no *.yaml cassette found" in out


def test_console_script_is_installed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(Cassette(path=path, interactions=[_chat()]))
    # Installed beside the interpreter (the venv's bin), whether or not the venv is on PATH.
    exe = shutil.which("ecs-cassette", path=os.path.dirname(sys.executable))
    assert exe is not None, f"the ecs-cassette console script is not beside {sys.executable}"
    done = subprocess.run([exe, "check", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 cassette(s) checked, 0 with problems" in done.stdout
