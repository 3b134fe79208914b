"""Where a test's cassette lives.

The default is ``<cassette dir>/<test module path relative to rootdir, without .py>/
<test name>.yaml``, where the test name includes the enclosing classes
(``TestWeather.test_paris``) and the parametrize id (``test_city[paris]``). Characters
that are unsafe in a file name on any common OS are replaced by ``_``; when that (or
truncating a very long name) changed the name, a short hash of the original is appended
so two tests never share a cassette by accident.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "CASSETTE_SUFFIX",
    "MAX_NAME_LENGTH",
    "default_cassette_path",
    "display_path",
    "explicit_cassette_path",
    "safe_name",
]

CASSETTE_SUFFIX = ".yaml"
#: Longest file stem kept before truncating (file systems allow 255 bytes per name).
MAX_NAME_LENGTH = 120

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]=+,@]")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def safe_name(name: str) -> str:
    """``name`` made safe as a file stem (deterministic, collision-resistant)."""
    cleaned = _UNSAFE.sub("_", name).strip(". ")
    if not cleaned:
        cleaned = "test"
    if cleaned == name and len(cleaned.encode("utf-8")) <= MAX_NAME_LENGTH:
        return cleaned
    return f"{cleaned[:MAX_NAME_LENGTH]}-{_digest(name)}"


def default_cassette_path(
    cassette_dir: Path, rootdir: Path, module_path: Path, names: Sequence[str]
) -> Path:
    """The default cassette of a test.

    ``names`` are the enclosing class names followed by the test's own name (with its
    parametrize id). A module outside ``rootdir`` is placed by its file name alone.
    """
    try:
        relative = module_path.resolve().relative_to(rootdir.resolve())
    except ValueError:
        relative = Path(module_path.name)
    module_dir = relative.with_suffix("") if relative.suffix == ".py" else relative
    return cassette_dir / module_dir / (safe_name(".".join(names)) + CASSETTE_SUFFIX)


def explicit_cassette_path(cassette_dir: Path, name: str) -> Path:
    """The cassette named by a marker: relative to ``cassette_dir``; ``.yaml`` added if missing."""
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = path.with_name(path.name + CASSETTE_SUFFIX)
    if not path.is_absolute():
        path = cassette_dir / path
    return path


def display_path(path: Path | str, rootdir: Path) -> str:
    """``path`` relative to ``rootdir`` when it is inside it (for messages)."""
    try:
        return str(Path(path).relative_to(rootdir))
    except ValueError:
        return str(path)
