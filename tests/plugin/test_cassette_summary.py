"""The terminal summary built from report user properties."""

from __future__ import annotations

from types import SimpleNamespace

from pytest_ecs_agent.summary import (
    MAX_LISTED,
    PROPERTY,
    CassetteRecord,
    CassetteSummary,
    record_from_stats,
)


def _record(nodeid: str, **values: object) -> CassetteRecord:
    data: dict[str, object] = dict(nodeid=nodeid, path=f"cassettes/{nodeid}.yaml",
                                   record_mode="none", recorded=0, replayed=0, unused=0,
                                   written=False)
    data.update(values)
    return CassetteRecord.from_dict(data)


def test_summary_counts_recorded_replayed_unused_and_written() -> None:
    summary = CassetteSummary()
    records = [_record("a", replayed=2), _record("b", recorded=3, written=True),
               _record("c", replayed=1, unused=2)]
    for record in records:
        summary.add_report("call", [(PROPERTY, record.to_dict())])  # ignored: not teardown
        summary.add_report("teardown", [("other", 1), (PROPERTY, record.to_dict())])
    lines = summary.lines(verbose=False)
    assert lines[0] == ("3 tests with a cassette: 1 recorded (3 interactions), "
                        "2 replayed (3 interactions), 1 file written")
    assert "2 interactions left unused in 1 cassette" in lines[1]
    assert "  cassettes/c.yaml: 2 unused (c)" in lines
    assert lines[-2:] == ["written:", "  cassettes/b.yaml"]
    verbose = summary.lines(verbose=True)
    assert "  a: cassettes/a.yaml [none] recorded 0, replayed 2, unused 0" in verbose


def test_empty_summary_writes_nothing() -> None:
    assert CassetteSummary().lines(verbose=True) == []


def test_record_from_stats_accepts_counts_or_lists() -> None:
    stats = SimpleNamespace(recorded=2, replayed=[1, 2, 3], unused=(), written=True)
    record = record_from_stats("n", "p.yaml", "once", stats)
    assert (record.recorded, record.replayed, record.unused, record.written) == (2, 3, 0, True)
    assert record_from_stats("n", "p.yaml", "none", None).replayed == 0


def test_long_lists_of_written_files_are_cut_without_verbose() -> None:
    summary = CassetteSummary()
    for i in range(MAX_LISTED + 5):
        record = _record(f"t{i:02d}", recorded=1, written=True)
        summary.add_report("teardown", [(PROPERTY, record.to_dict())])
    short = summary.lines(verbose=False)
    assert short[-1] == "  ... and 5 more (-v lists them all)"
    assert len([line for line in short if line.startswith("  cassettes/")]) == MAX_LISTED
    assert "  cassettes/t24.yaml" in summary.lines(verbose=True)
