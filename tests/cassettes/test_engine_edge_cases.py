"""Edge cases of the cassette engine found by adversarial QA (hand-edited files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ecs_agent.cassette import load_cassette
from pytest_ecs_agent.errors import CassetteFormatError

CASSETTE = """\
version: 1
interactions:
- kind: chat
  provider: openai
  request:
    model: gpt-4o-mini
    messages:
    - role: user
      content: first
  response:
    result:
      message:
        role: assistant
        content: 'echo: first'
"""


@pytest.mark.parametrize(("old", "new", "line", "key"), [
    # a hand edit that pastes a second value under the same key: YAML keeps the last one
    # silently, so the test would replay (or fail to match) something nobody wrote.
    ("        content: 'echo: first'\n",
     "        content: 'echo: first'\n        content: 'changed'\n", 15, "content"),
    ("  provider: openai\n", "  provider: openai\n  provider: claude\n", 5, "provider"),
])
def test_a_duplicated_key_names_the_file_and_line(tmp_path: Path, old: str, new: str,
                                                  line: int, key: str) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(CASSETTE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CassetteFormatError) as info:
        load_cassette(path)
    message = str(info.value)
    assert f"{path}, line {line}:" in message
    assert f"duplicate key {key!r}" in message


def test_the_unedited_cassette_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(CASSETTE, encoding="utf-8")
    assert load_cassette(path).interactions[0].provider == "openai"
