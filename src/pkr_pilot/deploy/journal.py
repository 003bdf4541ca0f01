"""The write-ahead journal of a deploy: ``deployments/<network>/.journal.jsonl`` on :mod:`pkr_pilot.journal`.

The one journal module gives the format and the rules (versioned lines with the schema
``pkr-pilot.deploy``, one lock, one write + fsync per line, a torn final line reported and
set aside); this module indexes the lines by deploy step::

    {"schema": "pkr-pilot.deploy", "v": 1, "time": T, "event": "run", ...}          a run started (chain, config)
    {..., "event": "planned",   "step": ID, "params": H, "args": [...], "sender": A, "nonce": N, "address": C}
    {..., "event": "sending",   "step": ID, "tx": HASH, "nonce": N, "sender": A, "address": C}   (before the node sees it)
    {..., "event": "sent",      "step": ID, "tx": HASH, "nonce": N}                               (the node accepted it)
    {..., "event": "confirmed", "step": ID, "params": H, "tx": HASH|null, "via": "receipt"|"state"|"code"|"record", ...}

``nonce`` and ``address`` (the CREATE address a creation gets with that nonce) are the
intent: written before the transaction exists, they tell a later run where to look on
chain. The journal is intent and cache only: the runner asks the chain whether a step is
done (see runner.py); losing this file or restoring an old copy never deploys twice.

A journal written by an older pkr-pilot (lines without ``schema``) is moved aside
(``.journal.<time>.legacy.jsonl``) with a warning: the chain answers for what it recorded.
Ephemeral networks (``path=None``) keep the same index in memory.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._files import move_durably
from ..errors import DeploymentError, JournalError
from ..human import json_default
from ..journal import Journal as _Journal
from ..journal import JournalWarning, utc_stamp

__all__ = ["JOURNAL_FILE", "JOURNAL_SCHEMA", "JOURNAL_SCHEMA_VERSION", "DeployJournal", "StepState"]

JOURNAL_SCHEMA = "pkr-pilot.deploy"
JOURNAL_SCHEMA_VERSION = 1
JOURNAL_FILE = ".journal.jsonl"

_EVENTS = ("run", "planned", "sending", "sent", "confirmed", "failed")


@dataclass
class StepState:
    """What the journal knows about one step (the latest lines win)."""

    step: str
    status: str = "new"  # new | planned | sending | sent | confirmed | failed
    params: str | None = None
    args: list[Any] | None = None
    sender: str | None = None
    #: (tx hash, nonce) of every signed transaction of the step's current attempt, oldest first.
    inflight: list[tuple[str, int]] = field(default_factory=list)
    confirmed: dict[str, Any] | None = None

    @property
    def is_confirmed(self) -> bool:
        return self.status == "confirmed" and self.confirmed is not None


class _DeployLines(_Journal):
    def __init__(self, path: Path) -> None:
        super().__init__(path, schema=JOURNAL_SCHEMA, version=JOURNAL_SCHEMA_VERSION, what="deploy journal")


class DeployJournal:
    """The deploy journal indexed by step; ``path=None`` keeps it in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file = None if path is None else _DeployLines(path)
        self._lines: list[dict[str, Any]] = []
        self._states: dict[str, StepState] = {}
        if path is not None and self._file is not None:
            _set_aside_legacy(path)
            for line in self._file.lines():
                self._apply(line)

    @classmethod
    def in_folder(cls, folder: Path | None) -> DeployJournal:
        return cls(None if folder is None else folder / JOURNAL_FILE)

    @property
    def truncated_tail(self) -> bool:
        """The file ended in a line cut short by a crash (reported by :mod:`pkr_pilot.journal`)."""
        return self._file is not None and self._file.truncated_tail

    # -- reading ------------------------------------------------------------------
    def _apply(self, entry: dict[str, Any]) -> None:
        self._lines.append(entry)
        event = entry.get("event")
        step = entry.get("step")
        if event == "run" or not isinstance(step, str):
            return
        state = self._states.setdefault(step, StepState(step))
        if event == "planned":
            state.status = "planned"
            state.params = entry.get("params")
            state.args = entry.get("args")
            state.sender = entry.get("sender")
            state.inflight = []
            state.confirmed = None
        elif event == "sending":
            state.status = "sending"
            state.inflight.append((str(entry["tx"]), int(entry["nonce"])))
            state.sender = entry.get("sender", state.sender)
        elif event == "sent":
            state.status = "sent"
        elif event == "confirmed":
            state.status = "confirmed"
            state.params = entry.get("params", state.params)
            state.confirmed = dict(entry)
            state.inflight = []
        elif event == "failed":
            state.status = "failed"
            state.inflight = []

    def state(self, step: str) -> StepState:
        return self._states.get(step, StepState(step))

    def steps(self) -> list[StepState]:
        """Every step the journal knows, in the order first seen."""
        return list(self._states.values())

    def entries(self) -> Iterator[dict[str, Any]]:
        return iter(list(self._lines))

    def runs(self) -> list[dict[str, Any]]:
        return [e for e in self._lines if e.get("event") == "run"]

    def confirmed_steps(self) -> dict[str, dict[str, Any]]:
        return {s.step: s.confirmed for s in self._states.values() if s.is_confirmed and s.confirmed}

    def __len__(self) -> int:
        return len(self._lines)

    # -- writing ------------------------------------------------------------------
    def append(self, event: str, step: str | None = None, **fields: Any) -> dict[str, Any]:
        """Append one line (written and fsynced before returning, for a file)."""
        if event not in _EVENTS:
            raise ValueError(f"unknown journal event {event!r}")
        entry: dict[str, Any] = {"event": event}
        if step is not None:
            entry["step"] = step
        entry.update({k: v for k, v in fields.items() if v is not None})
        entry = json.loads(json.dumps(entry, default=json_default))
        if self._file is not None:
            [line] = self._file.write([entry])
        else:
            line = {"schema": JOURNAL_SCHEMA, "v": JOURNAL_SCHEMA_VERSION, "time": utc_stamp(), **entry}
        self._apply(line)
        return line

    @contextmanager
    def locked(self, network: str) -> Iterator[None]:
        """The journal's one lock, held for a whole deploy run; a second deploy on the folder is refused."""
        with ExitStack() as stack:
            if self._file is not None:
                try:
                    stack.enter_context(self._file.locked(wait=False))
                except JournalError:
                    raise DeploymentError(
                        f"another deploy is running on deployments/{network}",
                        hint="wait for it to finish; re-run afterwards",
                    ) from None
            yield

    def archive(self, reason: str) -> Path | None:
        """Move the journal aside (``.journal.<time>.<reason>.jsonl``); the next run starts afresh."""
        self._lines.clear()
        self._states.clear()
        if self.path is None or not self.path.exists():
            return None
        target = self.path.with_name(f".journal.{int(time.time() * 1000)}.{reason}.jsonl")
        move_durably(self.path, target)
        return target


def _set_aside_legacy(path: Path) -> None:
    """A journal of an older pkr-pilot (no ``schema`` on its lines) is moved aside, with a warning."""
    try:
        with path.open("rb") as fh:
            first = fh.readline()
    except FileNotFoundError:
        return
    try:
        line = json.loads(first) if first.strip() else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return  # damaged: the journal module names the line
    if isinstance(line, dict) and "schema" not in line and "event" in line:
        target = path.with_name(f".journal.{int(time.time() * 1000)}.legacy.jsonl")
        move_durably(path, target)
        warnings.warn(
            JournalWarning(f"{path}: written by an older pkr-pilot; moved to {target.name} (the chain decides what was deployed)"),
            stacklevel=3,
        )


