"""Errors raised by the cassette toolkit.

Every error carries the cassette ``path`` (or ``None``) and says what was wrong, where,
and what to do::

    CassetteError                      base class; .path
    ├── CassetteFormatError            unreadable file, invalid YAML, wrong shape, hostile tag;
    │   │                              .line (1-based, or None), .field ("interactions[3].response")
    │   └── CassetteVersionError       written by a newer ecs-agent: upgrade ecs-agent
    ├── CassetteNotFoundError          replay needs a cassette that does not exist
    │                                  (also a FileNotFoundError)
    ├── CassetteMismatchError          no recorded request matches the request made
    └── CassetteWriteError             the cassette could not be written (disk, lock, data)

A secret never appears in these messages: the code that raises them scrubs what it
quotes from the cassette or the request.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CassetteError",
    "CassetteFormatError",
    "CassetteMismatchError",
    "CassetteNotFoundError",
    "CassetteVersionError",
    "CassetteWriteError",
]

RERECORD_HINT = (
    "Fix the file by hand, or delete it and record it again "
    "(pytest --llm-record-mode=rewrite)."
)


class CassetteError(Exception):
    """Base class of every cassette error; ``path`` is the cassette concerned, if known."""

    path: Path | None

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class CassetteFormatError(CassetteError):
    """The cassette cannot be read: not UTF-8, invalid YAML, wrong shape, forbidden tag.

    Build it with the bare problem; the message is composed as
    ``<path>, line <n>: <field>: <problem>. <hint>``.
    """

    line: int | None
    field: str | None
    problem: str

    def __init__(
        self,
        problem: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str = RERECORD_HINT,
    ) -> None:
        self.line = line
        self.field = field
        self.problem = problem
        where = str(path) if path is not None else "<cassette>"
        if line is not None:
            where += f", line {line}"
        what = f"{field}: {problem}" if field else problem
        message = f"{where}: {what.rstrip('.')}."
        if hint:
            message += f" {hint}"
        super().__init__(message, path=path)


class CassetteVersionError(CassetteFormatError):
    """The cassette was written with a newer schema version than this code knows."""

    found: int
    supported: int

    def __init__(self, found: int, supported: int, *, path: Path | None = None) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"cassette schema version {found} is newer than the version this ecs-agent "
            f"reads ({supported})",
            path=path,
            field="version",
            hint="upgrade ecs-agent (pip install -U ecs-agent) to replay it.",
        )


class CassetteNotFoundError(CassetteError, FileNotFoundError):
    """A cassette needed for replay does not exist (also a :class:`FileNotFoundError`)."""


class CassetteMismatchError(CassetteError):
    """No recorded interaction matches the request that was made."""


class CassetteWriteError(CassetteError):
    """The cassette could not be written (I/O error, lock timeout, unstorable value)."""
