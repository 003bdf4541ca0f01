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
is refused.

It is a :class:`pkr_pilot.journal.Journal` (versioned lines, the ``operations.lock`` flock held from the
idempotency re-check to the ``sent`` line, fsync per append, a torn final line reported and set aside),
indexed incrementally by ``(scope, key)``: a lookup parses only the lines appended since the last one.
The journal is intent and cache: whether an operation was done is decided from the chain (see
:mod:`pkr_pilot.ops.flow`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import JournalError
from ..journal import Journal as _Journal

__all__ = [
    "JOURNAL_FILE",
    "JOURNAL_SCHEMA",
    "JOURNAL_SCHEMA_VERSION",
    "OperationState",
    "OperationsJournal",
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


class OperationsJournal(_Journal):
    """The operations journal: a :class:`pkr_pilot.journal.Journal` indexed by ``(scope, key)``.

    Reading is incremental (see :mod:`pkr_pilot.journal`): each read parses only the bytes appended
    since, by this process or any other. ``loads`` parses one line (a seam: tests count the lines
    parsed through it).
    """

    def __init__(self, path: Path, *, loads: Callable[[bytes], Any] = json.loads) -> None:
        super().__init__(path, schema=JOURNAL_SCHEMA, version=JOURNAL_SCHEMA_VERSION,
                         what="operations journal", loads=loads)

    @classmethod
    def in_folder(cls, folder: Path) -> OperationsJournal:
        return cls(folder / JOURNAL_FILE)

    # -- reading -----------------------------------------------------------------------
    def state(self, scope: str, key: str) -> OperationState:
        """The state of ``(scope, key)`` after replaying every line (a copy: changing it changes nothing)."""
        with self._guard:
            self._refresh()
            indexed = self._states.get((scope, key))
            if indexed is None:
                return OperationState(scope, key)
            return replace(indexed, inflight=list(indexed.inflight))

    def entries(self, *, action: str | None = None) -> Iterator[dict[str, Any]]:
        for line in self.lines():
            if action is None or (line.get("op") or {}).get("action") == action:
                yield line

    def _reset_index(self) -> None:
        self._states: dict[tuple[str, str], OperationState] = {}

    def _index(self, line: dict[str, Any]) -> None:
        op = line.get("op") or {}
        scope, key = op.get("scope"), op.get("key")
        if isinstance(scope, str) and isinstance(key, str):
            state = self._states.get((scope, key))
            if state is None:
                state = self._states[(scope, key)] = OperationState(scope, key)
            _apply(state, line)

    def _check(self, line: dict[str, Any], number: int) -> None:
        if line.get("status") not in STATUSES:
            raise JournalError(f"{self.path}:{number} has an unknown status {line.get('status')!r}")

    # -- writing -----------------------------------------------------------------------
    def append(self, status: str, op: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
        """Append one line and fsync it (under the journal lock); returns what was written."""
        if status not in STATUSES:
            raise ValueError(f"unknown journal status {status!r}")
        entry: dict[str, Any] = {"status": status, "op": dict(op)}
        entry.update({k: v for k, v in fields.items() if v is not None})
        return self.write([entry])[0]


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
