"""The operations journal: ``deployments/<network>/operations.jsonl``.

One JSON object per line, one or more lines per privileged operation, appended with ``fsync``::

    {"schema": "pkr-pilot.operations", "v": 1, "status": "sending",   "op": {...}, "tx": {...}}
    {"schema": "pkr-pilot.operations", "v": 1, "status": "sent",      "op": {...}, "tx": {...}}
    {"schema": "pkr-pilot.operations", "v": 1, "status": "confirmed", "op": {...}, "tx_hash": ..., "block": ...}

Statuses, in the order an operation goes through them:

``sending``   written after the transaction is signed and *before* the node sees it, with its hash,
              nonce and the complete signed fields (so ``--replace`` can resend it with higher fees);
``sent``      the node accepted it;
``confirmed`` mined with status 1 and the network's confirmations (``supply_after`` read at its block);
``failed``    mined with status 0 (decoded error in ``error``) or refused by the node: nothing happened;
``dropped``   the node forgot it and its nonce was never used by it: nothing happened.

An operation is identified by ``(scope, key)``: the idempotency key (the ``ref`` by default) within a
scope (the action, except that every way of minting shares the scope ``mint``). ``fingerprint`` is a
hash of what the operation does (contract, function, arguments): the same key with another fingerprint
is refused. A final line cut short by a crash is ignored (and set aside to ``operations.torn`` by the next
append); any other unreadable line is an error. Writers are serialised with an exclusive ``flock``
on ``operations.lock`` next to the journal, held from the idempotency re-check to the ``sent`` line.

A :class:`Journal` reads incrementally: it indexes the lines it has parsed by ``(scope, key)`` and
remembers the byte offset after the last complete line, so a lookup parses only the lines appended
since (by any process: a re-check under the lock sees every line written before it took the lock).
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import DeploymentError

__all__ = [
    "JOURNAL_FILE",
    "JOURNAL_SCHEMA",
    "JOURNAL_SCHEMA_VERSION",
    "Journal",
    "OperationState",
]

JOURNAL_SCHEMA = "pkr-pilot.operations"
JOURNAL_SCHEMA_VERSION = 1
JOURNAL_FILE = "operations.jsonl"
LOCK_FILE = "operations.lock"

STATUSES = ("sending", "sent", "confirmed", "failed", "dropped")
_FINAL_NOTHING_HAPPENED = ("failed", "dropped")


@dataclass
class OperationState:
    """What the journal knows about one ``(scope, key)``: the latest attempt wins."""

    scope: str
    key: str
    #: ``new`` (never seen), ``inflight`` (signed, outcome unknown), ``confirmed``, or ``retryable``
    #: (every attempt so far failed or was dropped: nothing happened on chain).
    status: str = "new"
    fingerprint: str | None = None
    #: The ``op`` object of the latest line (action, args, ref …).
    op: Mapping[str, Any] | None = None
    #: Signed transactions of the attempt in flight, oldest first: each the line's ``tx`` object.
    inflight: list[Mapping[str, Any]] = field(default_factory=list)
    #: The ``confirmed`` line, once there is one.
    confirmed: Mapping[str, Any] | None = None
    #: Attempts that failed or were dropped (nothing happened on chain).
    attempts: int = 0


class Journal:
    """Append-only JSON-lines journal of privileged operations on one network.

    Reading is incremental: the object keeps an index of the lines it has parsed (every line, and the
    state of each ``(scope, key)``) and the byte offset after the last complete line; each read parses
    only the bytes appended since, by this process or any other. A file that was replaced, cut short
    or rewritten before that offset is indexed again from the start. ``loads`` parses one line (a seam:
    tests count the lines parsed through it).
    """

    def __init__(self, path: Path, *, loads: Callable[[bytes], Any] = json.loads) -> None:
        self.path = path
        self.truncated_tail = False
        self._loads = loads
        self._guard = threading.RLock()
        self._reset(None)

    @classmethod
    def in_folder(cls, folder: Path) -> Journal:
        return cls(folder / JOURNAL_FILE)

    # -- reading -----------------------------------------------------------------------
    def lines(self) -> list[dict[str, Any]]:
        """Every complete line, oldest first (a torn final line is skipped).

        The line objects are shared with the index: read them, do not change them.
        """
        with self._guard:
            tail = self._refresh()
            return self._lines + ([tail] if tail is not None else [])

    def state(self, scope: str, key: str) -> OperationState:
        """The state of ``(scope, key)`` after replaying every line (a copy: changing it changes nothing)."""
        with self._guard:
            tail = self._refresh()
            indexed = self._states.get((scope, key))
            state = (
                OperationState(scope, key)
                if indexed is None
                else replace(indexed, inflight=list(indexed.inflight))
            )
        if tail is not None and _names(tail, scope, key):
            _apply(state, tail)
        return state

    def entries(self, *, action: str | None = None) -> Iterator[dict[str, Any]]:
        for line in self.lines():
            if action is None or (line.get("op") or {}).get("action") == action:
                yield line

    def _reset(self, identity: tuple[int, int] | None) -> None:
        self._identity = identity
        #: Bytes of complete (newline-terminated) lines indexed so far.
        self._offset = 0
        #: Lines (blank ones included) indexed so far: error messages number lines from the top.
        self._numbered = 0
        #: The last indexed line with its newline: still there, unchanged, or the file was rewritten.
        self._last_line = b""
        self._lines: list[dict[str, Any]] = []
        self._states: dict[tuple[str, str], OperationState] = {}

    def _refresh(self) -> dict[str, Any] | None:
        """Index the lines appended since the last read; the final unterminated line, if it parses.

        A final chunk without a newline is never indexed: it is a write cut short (skipped, and
        ``truncated_tail`` set) or a line still being written by another process (read again next
        time, from the same offset).
        """
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            self._reset(None)
            self.truncated_tail = False
            return None
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
                line = self._parse(chunk, number, last=False)
                assert line is not None
                self._lines.append(line)
                op = line.get("op") or {}
                scope, key = op.get("scope"), op.get("key")
                if isinstance(scope, str) and isinstance(key, str):
                    state = self._states.get((scope, key))
                    if state is None:
                        state = self._states[(scope, key)] = OperationState(scope, key)
                    _apply(state, line)
            self._numbered = number
            position = newline + 1
            self._offset += len(chunk) + 1
            self._last_line = data[newline - len(chunk) : position]
        tail = data[end:]
        self.truncated_tail = False
        if not tail.strip():
            return None
        return self._parse(tail, self._numbered + 1, last=True)

    def _unchanged(self, fh: BinaryIO) -> bool:
        """The last indexed line is still right before the offset (the file was not replaced or rewritten).

        Every line carries a millisecond timestamp and hashes, so another file cannot pass this by chance
        (a file deleted and re-created may get the same inode number).
        """
        if self._offset == 0:
            return True
        fh.seek(self._offset - len(self._last_line))
        return fh.read(len(self._last_line)) == self._last_line

    def _parse(self, chunk: bytes, number: int, *, last: bool) -> dict[str, Any] | None:
        try:
            line = self._loads(chunk)
        except json.JSONDecodeError:
            if last:  # the last chunk has no newline: a write cut short
                self.truncated_tail = True
                return None
            raise DeploymentError(
                f"{self.path}:{number} is not valid JSON",
                hint="the operations journal was edited or damaged; restore it from backup",
            ) from None
        _check_schema(line, self.path, number)
        return line  # type: ignore[no-any-return]

    # -- writing -----------------------------------------------------------------------
    def append(self, status: str, op: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
        """Append one line and fsync it (under the journal lock); returns what was written.

        A final line torn by an earlier crash (no newline) is moved to ``operations.torn`` first:
        the write it belonged to never finished, so nothing was acted on after it.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown journal status {status!r}")
        line: dict[str, Any] = {
            "schema": JOURNAL_SCHEMA,
            "v": JOURNAL_SCHEMA_VERSION,
            "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "status": status,
            "op": dict(op),
        }
        line.update({k: v for k, v in fields.items() if v is not None})
        encoded = (json.dumps(line, sort_keys=False, separators=(",", ":")) + "\n").encode()
        with self.locked():
            new_file = not self.path.exists()
            if not new_file:
                self._set_aside_torn_tail()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, encoded)
                os.fsync(fd)
            finally:
                os.close(fd)
            if new_file:
                _fsync_dir(self.path.parent)
        return line

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the journal's lock: other processes (``flock``) and threads wait; re-entrant per thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _path_lock(self.path.parent / LOCK_FILE).hold():
            yield

    def _set_aside_torn_tail(self) -> None:
        with self.path.open("rb+") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size == 0:
                return
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) == b"\n":
                return
            fh.seek(0)
            data = fh.read()
            keep = data.rfind(b"\n") + 1
            with self.path.with_suffix(".torn").open("ab") as torn:
                torn.write(data[keep:] + b"\n")
                torn.flush()
                os.fsync(torn.fileno())
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())


class _PathLock:
    """An exclusive ``flock`` on one lock file, shared by the threads of this process (re-entrant)."""

    def __init__(self, lock_file: Path) -> None:
        self.lock_file = lock_file
        self._rlock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._rlock:
            if self._depth == 0:
                fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None


_PATH_LOCKS: dict[Path, _PathLock] = {}
_PATH_LOCKS_GUARD = threading.Lock()


def _path_lock(lock_file: Path) -> _PathLock:
    key = lock_file.resolve()
    with _PATH_LOCKS_GUARD:
        lock = _PATH_LOCKS.get(key)
        if lock is None:
            lock = _PATH_LOCKS[key] = _PathLock(key)
        return lock


def _names(line: Mapping[str, Any], scope: str, key: str) -> bool:
    op = line.get("op") or {}
    return bool(op.get("scope") == scope and op.get("key") == key)


def _apply(state: OperationState, line: Mapping[str, Any]) -> None:
    status = line["status"]
    op = line.get("op") or {}
    state.op = op
    state.fingerprint = op.get("fingerprint")
    if status in ("sending", "sent"):
        tx = line.get("tx") or {}
        if state.status != "inflight":
            state.inflight = []
        if not any(t.get("hash") == tx.get("hash") for t in state.inflight):
            state.inflight.append(tx)
        state.status = "inflight"
    elif status == "confirmed":
        state.status = "confirmed"
        state.confirmed = line
        state.inflight = []
    elif status in _FINAL_NOTHING_HAPPENED:
        state.attempts += 1
        state.status = "retryable"
        state.inflight = []


def _check_schema(line: Any, path: Path, number: int) -> None:
    if not isinstance(line, dict) or line.get("schema") != JOURNAL_SCHEMA:
        raise DeploymentError(f"{path}:{number} is not an operations journal line")
    version = line.get("v")
    if not isinstance(version, int) or version > JOURNAL_SCHEMA_VERSION:
        raise DeploymentError(
            f"{path}:{number} has journal schema v{version}, this pkr-pilot reads up to v{JOURNAL_SCHEMA_VERSION}",
            hint="upgrade pkr-pilot",
        )
    if line.get("status") not in STATUSES:
        raise DeploymentError(f"{path}:{number} has an unknown status {line.get('status')!r}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def tx_fields(tx: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON form of a signed transaction's fields (ints as decimal strings where they can be big)."""
    out: dict[str, Any] = {}
    for k, v in tx.items():
        if k == "from":
            continue
        if isinstance(v, bytes | bytearray):
            out[k] = "0x" + bytes(v).hex()
        elif isinstance(v, int) and not isinstance(v, bool):
            out[k] = str(v) if v > 2**53 else v
        else:
            out[k] = v
    return out


def tx_from_fields(fields: Mapping[str, Any], keys: Sequence[str] = ()) -> dict[str, Any]:
    """Back from :func:`tx_fields` (decimal strings of numeric fields become ints again)."""
    numeric = {"nonce", "gas", "value", "chainId", "maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "type", *keys}
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if k in ("hash", "sender"):
            continue
        out[k] = int(v) if k in numeric and isinstance(v, str) and not v.startswith("0x") else v
    return out
