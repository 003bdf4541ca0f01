"""The one write-ahead journal: versioned JSON lines, one lock, one fsync discipline, one torn-line policy.

Every journal of pkr-pilot (ops ``operations.jsonl``, each disbursement's ``<sha256>.jsonl``, the deploy
journal) is a :class:`Journal` (or a subclass that indexes its own kind of line)::

    {"schema": "pkr-pilot.operations", "v": 1, "time": "2026-12-04T19:58:01.123Z", ...}

The rules, the same for all of them:

* **Versioned lines.** Each line is one JSON object carrying the journal's ``schema`` id and format
  version ``v``; a line of another schema, or of a newer version than this pkr-pilot reads, is an error.
* **One lock.** Writers hold an exclusive ``flock`` on ``<name>.lock`` next to the journal
  (:meth:`Journal.locked`; re-entrant per thread, shared by the threads of one process). ``wait=False``
  refuses at once when another process holds it (one disbursement per file).
* **One fsync discipline.** :meth:`Journal.write` appends its lines with one ``write`` on an
  ``O_APPEND`` descriptor, then ``fsync``; a new file also fsyncs its folder. A caller acts (signs,
  sends) only after ``write`` returned: a line on disk is an intent, never proof that anything happened.
* **One torn-line policy.** A final chunk without a newline is a write cut short by a crash (the action
  after it never ran). It is never indexed. It is *reported*: a :class:`JournalWarning` naming the file
  and the byte offset where the cut line starts (the CLI prints it as ``warning: …``). Before the next
  append cuts it off the journal, its bytes are copied to ``<name>.torn`` (with the offset) and that is
  reported too. Any other unreadable line (bad JSON, not an object, wrong schema) is an error naming
  ``file:line``, on every read.

The journal is intent and cache only: the chain decides what was done (see :mod:`pkr_pilot.disburse`
and :mod:`pkr_pilot.ops.flow`). Losing it, truncating it or restoring an old copy must never repeat
an action.

Reading is incremental: a :class:`Journal` keeps the lines it has parsed and the byte offset after the
last complete line, so a read parses only the bytes appended since (by this process or any other). A
file that was replaced, cut short or rewritten before that offset is indexed again from the start.
Subclasses keep their own index current by overriding :meth:`Journal._index` and
:meth:`Journal._reset_index`.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ._files import fsync_dir
from .errors import JournalError

__all__ = ["Journal", "JournalWarning", "TornTail", "utc_stamp"]


class JournalWarning(UserWarning):
    """A journal needs the operator's attention but nothing was lost (a torn final line)."""


@dataclass(frozen=True)
class TornTail:
    """A final line cut short: ``offset`` is the byte where it starts, ``length`` its size."""

    path: Path
    offset: int
    length: int

    def text(self) -> str:
        return (
            f"{self.path}: the last line (byte offset {self.offset}, {self.length} bytes) was cut short by a crash; "
            "it is ignored (the action it announced never ran)"
        )


def utc_stamp() -> str:
    """Now, in UTC, as ``2026-12-04T19:58:01.123Z`` (the ``time`` of every line)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Journal:
    """An append-only JSON-lines journal with one schema id and version (see the module docstring).

    ``loads`` parses one line (a seam: tests count the lines parsed through it). ``what`` names the
    journal in error messages (``operations journal``).
    """

    def __init__(
        self,
        path: Path,
        *,
        schema: str,
        version: int,
        what: str = "journal",
        loads: Callable[[bytes], Any] = json.loads,
    ) -> None:
        self.path = path
        self.schema = schema
        self.version = version
        self.what = what
        self._loads = loads
        self._guard = threading.RLock()
        #: The torn final line seen by the last read, if any.
        self.torn: TornTail | None = None
        self._reported: set[tuple[str, int]] = set()
        self._reset(None)

    @property
    def truncated_tail(self) -> bool:
        return self.torn is not None

    @property
    def lock_file(self) -> Path:
        return self.path.with_suffix(".lock")

    # -- reading -----------------------------------------------------------------------
    def lines(self) -> list[dict[str, Any]]:
        """Every complete line, oldest first (a torn final line is not one).

        The line objects are shared with the index: read them, do not change them.
        """
        with self._guard:
            self._refresh()
            return list(self._lines)

    def _reset(self, identity: tuple[int, int] | None) -> None:
        self._identity = identity
        #: Bytes of complete (newline-terminated) lines indexed so far.
        self._offset = 0
        #: Lines (blank ones included) indexed so far: error messages number lines from the top.
        self._numbered = 0
        #: The last indexed line with its newline: still there, unchanged, or the file was rewritten.
        self._last_line = b""
        self._lines: list[dict[str, Any]] = []
        self._reset_index()

    def _reset_index(self) -> None:
        """Subclasses: forget the index (the file is read again from the start)."""

    def _index(self, line: dict[str, Any]) -> None:
        """Subclasses: add one complete, checked line to the index."""

    def _check(self, line: dict[str, Any], number: int) -> None:
        """Subclasses: further checks of one line (raise :class:`JournalError` naming ``file:line``)."""

    def _refresh(self) -> None:
        """Index the lines appended since the last read.

        A final chunk without a newline is never indexed: it is a write cut short (``torn``, and reported
        when this process holds the lock, so no writer can be mid-write) or, seen without the lock, a
        line another process is still writing (read again next time, from the same offset).
        """
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            self._reset(None)
            self.torn = None
            return
        with fh:
            st = os.fstat(fh.fileno())
            identity = (st.st_dev, st.st_ino)
            if identity != self._identity or st.st_size < self._offset or not self._unchanged(fh):
                self._reset(identity)
            fh.seek(self._offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        position = 0
        while position < end:
            newline = data.index(b"\n", position)
            chunk = data[position:newline]
            number = self._numbered + 1
            if chunk.strip():
                line = self._parse(chunk, number)
                self._lines.append(line)
                self._index(line)
            self._numbered = number
            position = newline + 1
            self._offset += len(chunk) + 1
            self._last_line = data[newline - len(chunk) : position]
        tail = data[end:]
        self.torn = TornTail(self.path, self._offset, len(tail)) if tail.strip() else None
        if self.torn is not None and self._holding():
            self._report(self.torn, self.torn.text())

    def _unchanged(self, fh: BinaryIO) -> bool:
        """The last indexed line is still right before the offset (the file was not replaced or rewritten).

        Every line carries a millisecond timestamp, so another file cannot pass this by chance (a file
        deleted and re-created may get the same inode number).
        """
        if self._offset == 0:
            return True
        fh.seek(self._offset - len(self._last_line))
        return fh.read(len(self._last_line)) == self._last_line

    def _parse(self, chunk: bytes, number: int) -> dict[str, Any]:
        where = f"{self.path}:{number}"
        hint = f"the {self.what} was edited or damaged; restore it from backup or move it away"
        try:
            line = self._loads(chunk)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise JournalError(f"{where} is not valid JSON", hint=hint) from None
        if not isinstance(line, dict) or line.get("schema") != self.schema:
            raise JournalError(f"{where} is not a {self.what} line (schema {self.schema})", hint=hint)
        version = line.get("v")
        if not isinstance(version, int) or isinstance(version, bool) or version > self.version:
            raise JournalError(
                f"{where} has {self.what} schema v{version}, this pkr-pilot reads up to v{self.version}",
                hint="upgrade pkr-pilot",
            )
        self._check(line, number)
        return line

    def _report(self, torn: TornTail, message: str) -> None:
        key = (message, torn.offset)
        if key in self._reported:
            return
        self._reported.add(key)
        warnings.warn(JournalWarning(message), stacklevel=4)

    # -- writing -----------------------------------------------------------------------
    def write(self, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Append ``entries`` as lines (schema, version and time added) with one write and one fsync.

        Holds the lock while writing. A torn final line is copied to ``<name>.torn`` and cut off first
        (reported). Returns the lines written.
        """
        if not entries:
            return []
        now = utc_stamp()
        lines = [{"schema": self.schema, "v": self.version, "time": now, **entry} for entry in entries]
        encoded = b"".join((json.dumps(line, separators=(",", ":")) + "\n").encode() for line in lines)
        with self.locked():
            new_file = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                self._cut_torn_tail(fd)
                os.write(fd, encoded)
                os.fsync(fd)
            finally:
                os.close(fd)
            if new_file:
                fsync_dir(self.path.parent)
        return lines

    def _cut_torn_tail(self, fd: int) -> None:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        data = os.pread(fd, size, 0)
        keep = data.rfind(b"\n") + 1
        torn = TornTail(self.path, keep, size - keep)
        aside = self.path.with_suffix(".torn")
        record = json.dumps({"file": self.path.name, "offset": keep, "time": utc_stamp(),
                             "bytes": data[keep:].decode("utf-8", "replace")})
        with aside.open("ab") as out:
            out.write(record.encode() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.ftruncate(fd, keep)
        self._report(torn, torn.text())
        self._report(torn, f"{self.path}: the cut line at byte offset {keep} was copied to {aside.name} and removed")

    @contextmanager
    def locked(self, *, wait: bool = True) -> Iterator[None]:
        """Hold the journal's lock (``<name>.lock``): other processes (``flock``) and threads wait.

        Re-entrant per thread. ``wait=False``: another process holding it is an error at once.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _path_lock(self.lock_file).hold(wait=wait, busy=self._busy):
            yield

    def _busy(self) -> JournalError:
        return JournalError(
            f"another process is writing {self.path.name}",
            hint="wait for it to finish, then run again",
        )

    def _holding(self) -> bool:
        return _path_lock(self.lock_file).held_here()


class _PathLock:
    """An exclusive ``flock`` on one lock file, shared by the threads of this process (re-entrant)."""

    def __init__(self, lock_file: Path) -> None:
        self.lock_file = lock_file
        self._rlock = threading.RLock()
        self._depth = 0
        self._owner: int | None = None
        self._fd: int | None = None

    def held_here(self) -> bool:
        return self._depth > 0 and self._owner == threading.get_ident()

    @contextmanager
    def hold(self, *, wait: bool, busy: Callable[[], Exception]) -> Iterator[None]:
        with self._rlock:
            if self._depth == 0:
                fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    raise busy() from None
                self._fd = fd
                self._owner = threading.get_ident()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None
                    self._owner = None


_PATH_LOCKS: dict[Path, _PathLock] = {}
_PATH_LOCKS_GUARD = threading.Lock()


def _path_lock(lock_file: Path) -> _PathLock:
    key = lock_file.resolve()
    with _PATH_LOCKS_GUARD:
        lock = _PATH_LOCKS.get(key)
        if lock is None:
            lock = _PATH_LOCKS[key] = _PathLock(key)
        return lock
