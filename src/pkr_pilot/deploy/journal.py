"""The write-ahead journal of a deploy: ``deployments/<network>/.journal.jsonl``.

One JSON object per line, appended and fsynced before the action it announces::

    {"v": 1, "event": "run",       ...}                      a deploy run started (chain, config)
    {"v": 1, "event": "planned",   "step": ID, "params": H, "args": [...], "sender": A}
    {"v": 1, "event": "sending",   "step": ID, "tx": HASH, "nonce": N, "sender": A}   (before the node sees it)
    {"v": 1, "event": "sent",      "step": ID, "tx": HASH, "nonce": N}               (the node accepted it)
    {"v": 1, "event": "confirmed", "step": ID, "params": H, "tx": HASH|null, "block": B, "via": "receipt"|"state"|"code", ...}

``sending`` is written by a signing wrapper *after* the transaction is signed and
*before* it is submitted, so a crash at any instant leaves either no transaction
or a transaction whose hash and nonce are on disk. On resume (see runner.py) a
step whose last line is ``sending``/``sent`` is settled from the receipt of that
hash, else from the sender's mined nonce and the chain state.

A final line cut short by a crash is ignored; any other unreadable line is an error.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DeploymentError

__all__ = ["JOURNAL_SCHEMA_VERSION", "Journal", "StepState"]

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


class Journal:
    """Append-only JSON-lines journal; ``path=None`` keeps it in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lines: list[dict[str, Any]] = []
        self._states: dict[str, StepState] = {}
        self.truncated_tail = False
        if path is not None and path.exists():
            self._load(path)

    @classmethod
    def in_folder(cls, folder: Path | None) -> Journal:
        return cls(None if folder is None else folder / JOURNAL_FILE)

    # -- reading ------------------------------------------------------------------
    def _load(self, path: Path) -> None:
        raw = path.read_bytes()
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                is_last = all(not rest.strip() for rest in lines[number:])
                if is_last:
                    self.truncated_tail = True
                    continue
                raise DeploymentError(
                    f"{path}:{number} is not valid JSON",
                    hint="the journal was edited by hand or damaged; restore it or move the folder away",
                ) from None
            if not isinstance(entry, dict) or entry.get("v") != JOURNAL_SCHEMA_VERSION:
                raise DeploymentError(
                    f"{path}:{number} has journal schema {entry.get('v') if isinstance(entry, dict) else '?'}, "
                    f"expected {JOURNAL_SCHEMA_VERSION}"
                )
            self._apply(entry)
        if self.truncated_tail:
            # Rewrite without the partial line so the next append starts on a clean line.
            good = b"".join(json.dumps(e, sort_keys=True).encode() + b"\n" for e in self._lines)
            from .._files import atomic_write_text

            atomic_write_text(path, good.decode())

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
        """Append one line and fsync it before returning."""
        if event not in _EVENTS:
            raise ValueError(f"unknown journal event {event!r}")
        entry: dict[str, Any] = {"v": JOURNAL_SCHEMA_VERSION, "event": event, "time": int(time.time())}
        if step is not None:
            entry["step"] = step
        entry.update(fields)
        line = json.dumps(entry, sort_keys=True, default=_jsonable)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        self._apply(json.loads(line))
        return entry

    def archive(self, reason: str) -> Path | None:
        """Move the journal aside (``.journal.<time>.stale.jsonl``); the next run starts afresh."""
        self._lines.clear()
        self._states.clear()
        if self.path is None or not self.path.exists():
            return None
        target = self.path.with_name(f".journal.{int(time.time() * 1000)}.{reason}.jsonl")
        os.replace(self.path, target)
        return target


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "hex") and callable(value.hex):
        text = value.hex()
        return text if str(text).startswith("0x") else "0x" + str(text)
    raise TypeError(f"cannot journal a {type(value).__name__}")
