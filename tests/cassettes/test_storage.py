"""Safe writes: atomic replacement, inter-process locking, read-modify-write, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import filelock
import pytest

from pytest_ecs_agent.cassette import Cassette, Interaction, load_cassette, save_cassette
from pytest_ecs_agent.errors import CassetteFormatError, CassetteWriteError
from pytest_ecs_agent.storage import LOCK_DIRECTORY, lock_path, update_cassette, write_cassette


def item(n: int) -> Interaction:
    return Interaction(
        kind="chat", provider="openai",
        request={"model": "m", "messages": [{"role": "user", "content": f"question {n}"}],
                 "tools": None, "stream": False, "response_format": None},
        response={"result": {"message": {"role": "assistant", "content": f"answer {n}"}}},
    )


def run_python(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_save_creates_directories_and_leaves_only_the_cassette(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "c.yaml"
    save_cassette(Cassette(path=path, interactions=[item(1)]))
    assert load_cassette(path).interactions == [item(1)]
    # The lock lives outside the repository, one per cassette, stable for a path.
    assert sorted(p.name for p in path.parent.iterdir()) == ["c.yaml"]
    assert lock_path(path).parent == LOCK_DIRECTORY
    assert lock_path(path).exists()
    assert lock_path(tmp_path / "deep" / ".." / "deep" / "dir" / "c.yaml") == lock_path(path)
    assert lock_path(tmp_path / "other.yaml") != lock_path(path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_the_lock_directory_is_shared_like_tmp(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Created under a restrictive umask, it still lets every user lock their cassettes.
    from pytest_ecs_agent import storage

    monkeypatch.setattr(storage, "LOCK_DIRECTORY", tmp_path / "locks")
    old = os.umask(0o077)
    try:
        save_cassette(Cassette(path=tmp_path / "c.yaml", interactions=[item(1)]))
    finally:
        os.umask(old)
    assert (tmp_path / "locks").stat().st_mode & 0o7777 == 0o1777
    assert storage.lock_path(tmp_path / "c.yaml").parent == tmp_path / "locks"


def test_unchanged_content_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(Cassette(path=path, interactions=[item(1)]))
    os.utime(path, (1_000_000, 1_000_000))
    inode = path.stat().st_ino
    save_cassette(Cassette(path=path, interactions=[item(1)]))
    assert path.stat().st_mtime == 1_000_000
    save_cassette(Cassette(path=path, interactions=[item(2)]))
    assert path.stat().st_ino != inode  # replaced, not rewritten in place
    assert load_cassette(path).interactions == [item(2)]


def test_new_files_get_normal_permissions(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(Cassette(path=path, interactions=[item(1)]))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_update_merges_with_what_is_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    seen: list[Cassette | None] = []

    def append(n: int) -> Callable[[Cassette | None], Cassette]:
        def mutate(current: Cassette | None) -> Cassette:
            seen.append(current)
            base = current or Cassette(path=path)
            base.interactions.append(item(n))
            return base
        return mutate

    update_cassette(path, append(1))
    update_cassette(path, append(2))
    assert seen[0] is None
    assert load_cassette(path).interactions == [item(1), item(2)]
    assert update_cassette(path, lambda current: None) is None
    assert load_cassette(path).interactions == [item(1), item(2)]


def test_update_refuses_to_overwrite_an_unreadable_cassette(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("version: 1\ninteractions: [\n", encoding="utf-8")
    with pytest.raises(CassetteFormatError):
        update_cassette(path, lambda current: Cassette(path=path))
    assert path.read_text(encoding="utf-8") == "version: 1\ninteractions: [\n"


def test_lock_timeout_is_a_clear_write_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with filelock.FileLock(str(lock_path(path))), pytest.raises(CassetteWriteError) as info:
        write_cassette(Cassette(path=path, interactions=[item(1)]), timeout=0.2)
    assert str(lock_path(path)) in str(info.value)
    assert "another process" in str(info.value)
    assert not path.exists()


def test_unwritable_directory_is_a_clear_write_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(CassetteWriteError, match="cannot create the cassette directory"):
        save_cassette(Cassette(path=blocker / "c.yaml", interactions=[item(1)]))


WRITER = """
    import sys
    from pathlib import Path
    from pytest_ecs_agent.cassette import Cassette, Interaction
    from pytest_ecs_agent.storage import update_cassette

    path, worker, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    for n in range(count):
        item = Interaction("chat", "openai", {"model": "m", "messages": [
            {"role": "user", "content": f"{worker}-{n}"}]},
            {"result": {"message": {"role": "assistant", "content": "x" * 2000}}})
        def mutate(current, item=item):
            base = current or Cassette(path=path)
            base.interactions.append(item)
            return base
        update_cassette(path, mutate)
"""


def test_concurrent_processes_never_lose_or_interleave_writes(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    workers = [run_python(WRITER, str(path), f"w{w}", "8") for w in range(4)]
    for worker in workers:
        _, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err.decode()
    contents = [i.request["messages"][0]["content"] for i in load_cassette(path).interactions]
    assert sorted(contents) == sorted(f"w{w}-{n}" for w in range(4) for n in range(8))
    for w in range(4):  # each worker's own appends stay in order
        mine = [c for c in contents if c.startswith(f"w{w}-")]
        assert mine == [f"w{w}-{n}" for n in range(8)]


SLOW_WRITER = """
    import os, sys, time
    from pathlib import Path
    from pytest_ecs_agent import storage
    from pytest_ecs_agent.cassette import Cassette, Interaction, save_cassette

    path, marker = Path(sys.argv[1]), Path(sys.argv[2])
    storage._CHUNK = 4096
    real_write = os.write
    def slow_write(fd, data):
        written = real_write(fd, data)
        marker.touch()
        time.sleep(0.05)
        return written
    os.write = slow_write
    items = [Interaction("chat", "openai", {"model": "m", "messages": []},
                         {"result": {"message": {"role": "assistant", "content": "new " * 500}}})
             for _ in range(200)]
    save_cassette(Cassette(path=path, interactions=items))
"""


def test_a_writer_killed_mid_write_leaves_the_old_cassette_intact(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(Cassette(path=path, interactions=[item(1), item(2)]))
    before = path.read_bytes()
    marker = tmp_path / "writing"
    writer = run_python(SLOW_WRITER, str(path), str(marker))
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():  # wait until it is half-way through the temp file
            assert writer.poll() is None, writer.communicate()[1].decode()
            assert time.monotonic() < deadline, "the writer never started writing"
            time.sleep(0.02)
        time.sleep(0.2)
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.communicate(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    assert load_cassette(path).interactions == [item(1), item(2)]
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1
    assert leftovers[0].startswith(".c.yaml.")  # hidden, never *.yaml
    assert [p.name for p in tmp_path.glob("*.yaml")] == ["c.yaml"]
    # The next write under the lock cleans the dead writer's temporary file.
    save_cassette(Cassette(path=path, interactions=[item(3)]))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert load_cassette(path).interactions == [item(3)]
