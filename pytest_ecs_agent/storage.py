"""Safe cassette writes: atomic replacement under an inter-process file lock.

* Atomic: the YAML goes to a temporary file in the cassette's own directory
  (``.<name>.<random>.tmp``: hidden, and never matching ``*.yaml``), is flushed and
  ``fsync``-ed, then ``os.replace``-d over the cassette, and the directory is
  ``fsync``-ed. A crash at any point leaves either the old file or the new one, never a
  half-written cassette; a temporary file left by a killed writer is removed by the next
  write of the same cassette.
* Locked: writers take a ``filelock.FileLock`` (``flock``) named after the cassette's
  absolute path, so two processes on one machine (pytest-xdist workers, parallel jobs on
  a shared checkout) never interleave. Lock files live in the system temporary
  directory (``<tmp>/ecs-agent-locks/<hash>.lock``), never beside the cassettes: the OS
  releases a lock when its holder dies, and the file stays (deleting it would race with
  other writers), so it must not clutter the repository.
* Merging: :func:`update_cassette` takes the lock, re-reads the current file, lets the
  caller merge into it and writes the result, so appending new episodes never loses
  what another process wrote meanwhile.
* Unchanged content is not rewritten (the file's mtime stays).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock

from pytest_ecs_agent.cassette import Cassette, dump_cassette, load_cassette
from pytest_ecs_agent.errors import CassetteNotFoundError, CassetteWriteError
from pytest_ecs_agent.redaction import Redactor

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "LOCK_DIRECTORY",
    "atomic_write_bytes",
    "cassette_lock",
    "lock_path",
    "update_cassette",
    "write_cassette",
]

DEFAULT_LOCK_TIMEOUT = 120.0
"""Seconds to wait for another process's write of the same cassette."""

_CHUNK = 1 << 20


LOCK_DIRECTORY = Path(tempfile.gettempdir()) / "ecs-agent-locks"
"""Where lock files live (one per cassette, named by a hash of its absolute path)."""


def lock_path(path: Path) -> Path:
    """The lock file of the cassette at ``path`` (in :data:`LOCK_DIRECTORY`)."""
    resolved = os.path.realpath(os.fspath(path))
    digest = hashlib.blake2b(resolved.encode("utf-8", "surrogateescape"), digest_size=16)
    return LOCK_DIRECTORY / f"{digest.hexdigest()}.lock"


@contextlib.contextmanager
def cassette_lock(path: Path, *, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the inter-process lock of the cassette at ``path`` for the ``with`` block."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CassetteWriteError(
            f"cannot create the cassette directory {path.parent} ({exc.strerror}); "
            "check the path and its permissions",
            path=path,
        ) from exc
    try:
        if not LOCK_DIRECTORY.is_dir():
            LOCK_DIRECTORY.mkdir(exist_ok=True)
            # shared like /tmp (the umask would narrow mkdir's mode): other users' runs
            # lock their own cassettes here too
            with contextlib.suppress(OSError):
                LOCK_DIRECTORY.chmod(0o1777)
    except OSError as exc:
        raise CassetteWriteError(
            f"cannot create the lock directory {LOCK_DIRECTORY} ({exc.strerror}); "
            "check the temporary directory (TMPDIR) is writable",
            path=path,
        ) from exc
    lock = filelock.FileLock(str(lock_path(path)), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise CassetteWriteError(
            f"another process held the lock {lock_path(path)} of cassette {path} for more "
            f"than {timeout:g} s; is another test run writing it?",
            path=path,
        ) from exc
    except OSError as exc:
        raise CassetteWriteError(
            f"cannot lock cassette {path} through {lock_path(path)} ({exc.strerror}); "
            "check the directory is writable",
            path=path,
        ) from exc
    try:
        yield
    finally:
        lock.release()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably (no lock: see above)."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view[:_CHUNK])
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise CassetteWriteError(
            f"cannot write cassette {path} ({exc.strerror or exc}); check the disk space and "
            "the directory's permissions",
            path=path,
        ) from exc
    _fsync_directory(path.parent)


def write_cassette(
    cassette: Cassette,
    *,
    redactor: Redactor | None = None,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> Cassette:
    """Redact, dump and atomically write ``cassette`` under its lock; return what was
    written (the redacted copy)."""
    with cassette_lock(cassette.path, timeout=timeout):
        return _write_locked(cassette, redactor, Path(cassette.path))


def update_cassette(
    path: Path,
    mutate: Callable[[Cassette | None], Cassette | None],
    *,
    redactor: Redactor | None = None,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> Cassette | None:
    """Read-modify-write the cassette at ``path`` under its lock.

    ``mutate`` gets the cassette as it is on disk now (``None`` when there is none) and
    returns the cassette to write, or ``None`` to leave the file alone. A cassette on
    disk that cannot be read raises :class:`CassetteFormatError` (it is not overwritten:
    someone may be editing it). Returns what was written (redacted), or ``None``.
    """
    path = Path(path)
    with cassette_lock(path, timeout=timeout):
        try:
            current: Cassette | None = load_cassette(path)
        except CassetteNotFoundError:
            current = None
        updated = mutate(current)
        if updated is None:
            return None
        return _write_locked(updated, redactor, path)


def _write_locked(cassette: Cassette, redactor: Redactor | None, path: Path) -> Cassette:
    _remove_stale_temps(path)
    redacted = (redactor if redactor is not None else Redactor()).redact_cassette(cassette)
    redacted.path = path
    try:
        data = dump_cassette(redacted).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CassetteWriteError(
            f"cannot write cassette {path}: a string holds a lone surrogate "
            f"({exc.object[exc.start:exc.end]!r}), which is not valid text; pass real text",
            path=path,
        ) from None
    try:
        unchanged = path.read_bytes() == data
    except OSError:
        unchanged = False
    if not unchanged:
        atomic_write_bytes(path, data)
    return redacted


def _remove_stale_temps(path: Path) -> None:
    # Only called under the cassette's lock: any temp file of it is a dead writer's.
    pattern = os.path.join(glob.escape(str(path.parent)), f".{glob.escape(path.name)}.*.tmp")
    for name in glob.glob(pattern):
        with contextlib.suppress(OSError):
            os.unlink(name)


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
