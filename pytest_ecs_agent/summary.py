"""The end-of-run summary of cassette use.

Each test with a cassette puts one plain-data record in its teardown report's
``user_properties`` (under :data:`PROPERTY`); records travel from pytest-xdist workers
to the controller with the report, and :class:`CassetteSummary` gathers them in
``pytest_runtest_logreport`` wherever the reports end up. The terminal section says how
many cassettes were recorded and replayed, which interactions were left unused (a sign
the test changed since it was recorded) and which files this run wrote; with ``-v`` it
lists every test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["MAX_LISTED", "PROPERTY", "CassetteRecord", "CassetteSummary", "record_from_stats"]

PROPERTY = "llm_cassette"
#: Files listed under "written:" without -v.
MAX_LISTED = 20


class _Writer(Protocol):
    def write_sep(self, sep: str, title: str | None = None, **markup: bool) -> None: ...
    def write_line(self, line: str, **markup: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class CassetteRecord:
    """What one test did with its cassette (plain data: it crosses process boundaries)."""

    nodeid: str
    path: str
    record_mode: str
    recorded: int
    replayed: int
    unused: int
    written: bool
    #: Interactions loaded from the file and the positions served (see :func:`_unused`).
    loaded: int = 0
    used: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"nodeid": self.nodeid, "path": self.path, "record_mode": self.record_mode,
                "recorded": self.recorded, "replayed": self.replayed, "unused": self.unused,
                "written": self.written, "loaded": self.loaded, "used": _ranges(self.used)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CassetteRecord:
        return cls(nodeid=str(data["nodeid"]), path=str(data["path"]),
                   record_mode=str(data["record_mode"]), recorded=int(data["recorded"]),
                   replayed=int(data["replayed"]), unused=int(data["unused"]),
                   written=bool(data["written"]), loaded=int(data.get("loaded", 0)),
                   used=_positions(data.get("used", "")))


def _ranges(positions: tuple[int, ...]) -> str:
    """Sorted ``positions`` as compact text, ``"0-41,43"`` (it travels in every report)."""
    parts: list[str] = []
    start = previous = None
    for position in sorted(set(positions)):
        if previous is not None and position == previous + 1:
            previous = position
            continue
        if start is not None:
            parts.append(f"{start}" if start == previous else f"{start}-{previous}")
        start = previous = position
    if start is not None:
        parts.append(f"{start}" if start == previous else f"{start}-{previous}")
    return ",".join(parts)


def _positions(text: object) -> tuple[int, ...]:
    """The positions written by :func:`_ranges` (anything unreadable counts as none)."""
    out: list[int] = []
    try:
        for part in str(text).split(","):
            if part:
                first, _, last = part.partition("-")
                out.extend(range(int(first), int(last or first) + 1))
    except ValueError:
        return ()
    return tuple(out)


def _count(value: object) -> int:
    """A stats field as a count (engines may keep a number or a list of items)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return len(value)  # type: ignore[arg-type]
    except TypeError:
        return 0


def record_from_stats(nodeid: str, path: str, record_mode: str, stats: object) -> CassetteRecord:
    """Build a record from a session's ``stats`` (``SessionStats``) or ``None``."""
    return CassetteRecord(
        nodeid=nodeid,
        path=path,
        record_mode=record_mode,
        recorded=_count(getattr(stats, "recorded", 0)),
        replayed=_count(getattr(stats, "replayed", 0)),
        unused=_count(getattr(stats, "unused", 0)),
        written=bool(getattr(stats, "written", False)),
        loaded=_count(getattr(stats, "loaded", 0)),
        used=tuple(int(i) for i in getattr(stats, "used", ())),
    )


def _unused(records: list[CassetteRecord]) -> int:
    """Interactions of one cassette that none of ``records`` (its tests in this run) used.

    Tests may share a cassette and each use only its own part of it, so an interaction is
    unused only when no test served it. A test's recordings are appended after what it
    loaded, so they count as used too (a later test sharing the file loads them).
    """
    if len(records) == 1:
        return records[0].unused
    used: set[int] = set()
    for record in records:
        used.update(record.used)
        used.update(range(record.loaded, record.loaded + record.recorded))
    size = max(record.loaded for record in records)
    return sum(1 for position in range(size) if position not in used)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


@dataclass
class CassetteSummary:
    """Collects :class:`CassetteRecord` s during the run and writes the terminal section."""

    records: list[CassetteRecord] = field(default_factory=list)

    def add_report(self, when: str, user_properties: list[tuple[str, object]]) -> None:
        """Take the record out of a report's ``user_properties`` (teardown reports only)."""
        if when != "teardown":
            return
        for name, value in user_properties:
            if name == PROPERTY and isinstance(value, dict):
                self.records.append(CassetteRecord.from_dict(value))

    def lines(self, verbose: bool) -> list[str]:
        """The lines of the summary section (empty when no test used a cassette)."""
        if not self.records:
            return []
        records = sorted(self.records, key=lambda r: r.nodeid)
        recorded = [r for r in records if r.recorded]
        replayed = [r for r in records if r.replayed]
        by_path: dict[str, list[CassetteRecord]] = {}
        for record in records:
            by_path.setdefault(record.path, []).append(record)
        unused = [(path, count, group) for path, group in by_path.items()
                  if (count := _unused(group))]
        written = sorted({r.path for r in records if r.written})
        n_recorded = _plural(sum(r.recorded for r in records), "interaction")
        n_replayed = _plural(sum(r.replayed for r in records), "interaction")
        lines = [
            f"{_plural(len(records), 'test')} with a cassette: "
            f"{len(recorded)} recorded ({n_recorded}), {len(replayed)} replayed ({n_replayed}), "
            f"{_plural(len(written), 'file')} written",
        ]
        if unused:
            lines.append(
                f"{_plural(sum(count for _, count, _ in unused), 'interaction')} left unused "
                f"in {_plural(len(unused), 'cassette')} (the tests no longer make these calls, or "
                "did not all run; to drop them, re-record every test of the cassette with "
                "--llm-record-mode=rewrite):")
            lines.extend(f"  {path}: {count} unused ({', '.join(r.nodeid for r in group)})"
                         for path, count, group in unused)
        if written:
            shown = written if verbose else written[:MAX_LISTED]
            lines.append("written:")
            lines.extend(f"  {path}" for path in shown)
            if len(shown) < len(written):
                lines.append(f"  ... and {len(written) - len(shown)} more (-v lists them all)")
        if verbose:
            lines.append("per test:")
            lines.extend(
                f"  {r.nodeid}: {r.path} [{r.record_mode}] recorded {r.recorded}, "
                f"replayed {r.replayed}, unused {r.unused}" + (", written" if r.written else "")
                for r in records)
        return lines

    def write(self, writer: _Writer, verbose: bool) -> None:
        """Write the section to the terminal reporter."""
        lines = self.lines(verbose)
        if not lines:
            return
        writer.write_sep("-", "llm cassettes")
        for line in lines:
            writer.write_line(line)
