"""Export the token's events with block times and refs, and read an export back.

::

    from pkr_pilot.contracts import Stack
    from pkr_pilot.reports import events

    stack = Stack.from_deployment(w3, deployment)
    export = events.export_events(stack.token, include_transfers=False)   # every book event
    events.write_events(export, Path("events.csv"), "csv")                # atomic, schema-versioned
    again = events.read_events(Path("events.csv"), stack.token.abi)       # the same rows

Every token event is exported (mints, burns, seizes, freezes and partial freezes, reserve
attestations, minter and role changes, pauses, tiers and limits, upgrades …); the ERC-20 movement
events ``Transfer`` and ``Approval`` only with ``include_transfers`` (they are most of the volume).
Logs are read by :func:`pkr_pilot.contracts.scan_events` in pages of blocks (halved when the node
refuses a range); block timestamps are fetched in JSON-RPC batches and cached.

A row carries the block number and timestamp, the transaction hash, the log index, the event name,
its decoded arguments and its reference (``ref``, or ``reportHash`` for attestations): the
``bytes32`` as hex and as text when it is printable (``BANK-TX-0042``).

File formats (both written atomically):

* **JSON**: ``{"schema": "pkr-pilot.events", "version": 1, <metadata>, "rows": [...]}``; each row's
  ``args`` holds integers as decimal strings (exact at any size), addresses checksummed and bytes
  as ``0x`` hex.
* **CSV**: one comment line ``#pkr-pilot.events/v1 {metadata as JSON}``, then a header and one line
  per event with the columns of :data:`CSV_COLUMNS`; ``args`` is the same JSON object as above.
  ``pandas.read_csv(path, comment="#")`` reads it.

The metadata (chain id, token address, symbol, decimals, block range, whether transfers are in)
holds nothing that depends on the wall clock, so the same chain exports to the same bytes; the JSON
form adds ``exported_at`` only when the caller passes it.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..contracts import DEFAULT_LOG_PAGE, DecodedEvent
from ..errors import ChainError, UserInputError
from ..human import iso
from ..sending import quantity

if TYPE_CHECKING:
    from web3 import Web3

    from ..contracts import Token

__all__ = [
    "CSV_COLUMNS",
    "EVENTS_SCHEMA",
    "EVENTS_SCHEMA_VERSION",
    "MOVEMENT_EVENTS",
    "BlockTimes",
    "EventExport",
    "EventRow",
    "EventSource",
    "EventStream",
    "export_events",
    "open_events",
    "read_events",
    "render_ref",
    "stream_events",
    "write_events",
    "write_events_csv",
    "write_events_json",
]

EVENTS_SCHEMA = "pkr-pilot.events"
EVENTS_SCHEMA_VERSION = 1
#: ERC-20 movement events, exported only on request.
MOVEMENT_EVENTS: tuple[str, ...] = ("Transfer", "Approval")
CSV_COLUMNS: tuple[str, ...] = (
    "block_number",
    "block_timestamp",
    "block_time",
    "tx_hash",
    "log_index",
    "event",
    "ref",
    "ref_text",
    "args",
)
_CSV_MAGIC = f"#{EVENTS_SCHEMA}/v{EVENTS_SCHEMA_VERSION} "
#: Argument names that hold an event's reference, in order of preference.
_REF_FIELDS = ("ref", "reportHash")


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class EventRow:
    """One exported event. ``args`` are typed: ints, checksummed addresses, bytes, bools."""

    block_number: int
    block_timestamp: int
    tx_hash: str
    log_index: int
    event: str
    args: Mapping[str, Any]

    @property
    def ref(self) -> bytes | None:
        """The event's ``bytes32`` reference (``ref``, or ``reportHash``), if it has one."""
        for name in _REF_FIELDS:
            value = self.args.get(name)
            if isinstance(value, bytes | bytearray) and len(value) == 32:
                return bytes(value)
        return None

    @property
    def ref_text(self) -> str:
        """The reference as text when printable, else ``0x`` hex; empty when there is none."""
        ref = self.ref
        return "" if ref is None else render_ref(ref)

    @property
    def block_time(self) -> str:
        """The block timestamp as ISO 8601 UTC (``2030-01-01T00:00:00Z``)."""
        return iso(self.block_timestamp)

    def key(self) -> tuple[int, int]:
        """Position on chain: (block number, log index)."""
        return (self.block_number, self.log_index)

    def to_json(self) -> dict[str, Any]:
        ref = self.ref
        return {
            "block_number": self.block_number,
            "block_timestamp": self.block_timestamp,
            "block_time": self.block_time,
            "tx_hash": self.tx_hash,
            "log_index": self.log_index,
            "event": self.event,
            "ref": None if ref is None else "0x" + ref.hex(),
            "ref_text": self.ref_text or None,
            "args": {k: _jsonable(v) for k, v in self.args.items()},
        }


@dataclass(frozen=True)
class EventRange:
    """What identifies an export's source: the chain, the token and the block range."""

    chain_id: int
    token: str
    symbol: str
    decimals: int
    from_block: int
    to_block: int
    include_transfers: bool

    def range_fields(self) -> dict[str, Any]:
        """The fields above, by name (the metadata of an export without its count)."""
        return {f.name: getattr(self, f.name) for f in fields(EventRange)}


@dataclass(frozen=True)
class EventExport(EventRange):
    """The events of one token over a block range, oldest first, with what identifies the source."""

    rows: tuple[EventRow, ...]

    def metadata(self) -> dict[str, Any]:
        return {**self.range_fields(), "count": len(self.rows)}

    def counts(self) -> dict[str, int]:
        """Rows per event name, sorted by name."""
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.event] = out.get(row.event, 0) + 1
        return dict(sorted(out.items()))

    def of(self, *names: str) -> list[EventRow]:
        """The rows of the given event names, in chain order."""
        wanted = set(names)
        return [r for r in self.rows if r.event in wanted]

    def __iter__(self) -> Iterator[EventRow]:
        return iter(self.rows)


@dataclass(frozen=True)
class EventStream(EventRange):
    """The same metadata as :class:`EventExport`, but the rows are produced as they are consumed.

    Iterating it reads the rows again (from the node in chunks of blocks, or from a file line by
    line), so a million events never sit in memory at once. :func:`stream_events` and
    :func:`open_events` make one; :func:`write_events` and
    :func:`~pkr_pilot.reports.reconcile.reconcile` take it wherever they take an export.
    """

    produce: Callable[[], Iterator[EventRow]] = field(repr=False, compare=False)

    def __iter__(self) -> Iterator[EventRow]:
        return self.produce()

    def metadata(self, count: int) -> dict[str, Any]:
        return {**self.range_fields(), "count": count}


#: Anything with an export's metadata whose iteration gives its rows in chain order.
EventSource = EventExport | EventStream


def render_ref(ref: bytes) -> str:
    """A ``bytes32`` reference as people typed it when it is printable UTF-8 text, else ``0x`` hex.

    >>> render_ref(b"BANK-TX-0042".ljust(32, b"\\0"))
    'BANK-TX-0042'
    >>> render_ref(bytes.fromhex("ff" * 32))[:6]
    '0xffff'
    """
    stripped = ref.rstrip(b"\0")
    if not stripped or b"\0" in stripped:
        return "0x" + ref.hex()
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + ref.hex()
    return text if text.isprintable() and not text.startswith("0x") else "0x" + ref.hex()


# --------------------------------------------------------------------------- block times


class BlockTimes:
    """Block timestamps by number, fetched in JSON-RPC batches and cached.

    Providers without batch support (the in-process py-evm backend) are asked one block at a time.
    """

    def __init__(self, w3: Web3, *, batch_size: int = 250) -> None:
        self.w3 = w3
        self.batch_size = max(1, batch_size)
        self._cache: dict[int, int] = {}
        self._batching = True

    def __getitem__(self, number: int) -> int:
        return self.fetch((number,))[number]

    def fetch(self, numbers: Iterable[int]) -> dict[int, int]:
        """Timestamps of ``numbers`` (each fetched once over the cache's life)."""
        wanted = sorted(set(numbers))
        missing = [n for n in wanted if n not in self._cache]
        for start in range(0, len(missing), self.batch_size):
            self._fetch(missing[start : start + self.batch_size])
        return {n: self._cache[n] for n in wanted}

    def _fetch(self, chunk: Sequence[int]) -> None:
        if self._batching:
            try:
                self._fetch_batch(chunk)
                return
            except NotImplementedError:
                self._batching = False
        for n in chunk:
            try:
                block = self.w3.eth.get_block(n)
            except Exception as exc:  # web3 raises several types (BlockNotFound, OSError, …)
                raise ChainError(f"reading block {n} failed: {exc}") from None
            self._cache[n] = int(block["timestamp"])

    def _fetch_batch(self, chunk: Sequence[int]) -> None:
        provider = self.w3.provider
        requests = [("eth_getBlockByNumber", [hex(n), False]) for n in chunk]
        try:
            responses = provider.make_batch_request(requests)  # type: ignore[attr-defined, arg-type]
        except NotImplementedError:
            raise
        except OSError as exc:
            raise ChainError(f"reading blocks {chunk[0]}..{chunk[-1]} failed: {exc}") from None
        if not isinstance(responses, list):
            raise ChainError(f"the node refused a batch of block reads: {responses.get('error')}")
        by_number: dict[int, int] = {}
        for response in responses:
            result = response.get("result")
            if not result:
                raise ChainError(f"the node could not return a block: {response.get('error') or 'no such block'}")
            by_number[quantity(result["number"])] = quantity(result["timestamp"])
        for n in chunk:
            if n not in by_number:
                raise ChainError(f"the node did not return block {n}")
            self._cache[n] = by_number[n]


# --------------------------------------------------------------------------- export


def export_events(
    token: Token,
    *,
    from_block: int | None = None,
    to_block: int | None = None,
    include_transfers: bool = False,
    page: int = DEFAULT_LOG_PAGE,
    block_times: BlockTimes | None = None,
) -> EventExport:
    """Every event of ``token`` in ``[from_block, to_block]``, decoded, with block timestamps, in memory.

    ``from_block`` defaults to the token's deployment block, ``to_block`` to the latest block when the
    export starts (fixed, so the export is one consistent picture). ``page`` is the number of blocks
    per ``eth_getLogs`` request (halved automatically when the node refuses a range). For more
    events than fit in memory use :func:`stream_events`.
    """
    stream = stream_events(token, from_block=from_block, to_block=to_block, include_transfers=include_transfers,
                           page=page, block_times=block_times)
    return EventExport(**stream.range_fields(), rows=tuple(stream))


#: Logs a streamed export aims to hold per chunk of blocks (the chunk adapts to the chain's density).
CHUNK_LOGS = 20_000


def stream_events(
    token: Token,
    *,
    from_block: int | None = None,
    to_block: int | None = None,
    include_transfers: bool = False,
    page: int = DEFAULT_LOG_PAGE,
    block_times: BlockTimes | None = None,
    chunk_logs: int = CHUNK_LOGS,
) -> EventStream:
    """:func:`export_events` as an :class:`EventStream`: the range is fixed now, the rows are read
    when iterated, in chunks of blocks sized to hold about ``chunk_logs`` logs (halved after a
    denser chunk, doubled after a sparser one), with block times fetched per chunk."""
    w3 = token.w3
    head = int(w3.eth.block_number)
    start = token.from_block if from_block is None else from_block
    end = head if to_block is None else to_block
    if start < 0 or end < 0:
        raise UserInputError("block numbers cannot be negative")
    if end > head:
        raise UserInputError(f"--to-block {end} is beyond the chain head {head}")
    if start > end:
        raise UserInputError(f"--from-block {start} is after --to-block {end}")
    names = [n for n in event_names(token.abi) if include_transfers or n not in MOVEMENT_EVENTS]

    def produce() -> Iterator[EventRow]:
        if not names:
            return
        size = max(1, min(page, 200))
        first = start
        while first <= end:
            last = min(end, first + size - 1)
            decoded = token.events(names, from_block=first, to_block=last, page=page)
            times = (block_times or BlockTimes(w3)).fetch(e.block_number for e in decoded)
            for e in decoded:
                yield _row(e, times[e.block_number])
            if len(decoded) > chunk_logs and size > 1:
                size //= 2
            elif len(decoded) < chunk_logs // 4:
                size = min(size * 2, page)
            first = last + 1

    return EventStream(
        chain_id=int(w3.eth.chain_id), token=token.address, symbol=token.symbol, decimals=token.decimals,
        from_block=start, to_block=end, include_transfers=include_transfers, produce=produce,
    )


def event_names(abi: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names of the (non-anonymous) events in ``abi``, each once, in ABI order."""
    out: dict[str, None] = {}
    for item in abi:
        if item.get("type") == "event" and not item.get("anonymous"):
            out[str(item["name"])] = None
    return list(out)


def _row(event: DecodedEvent, timestamp: int) -> EventRow:
    return EventRow(
        block_number=event.block_number,
        block_timestamp=timestamp,
        tx_hash=event.tx_hash,
        log_index=event.log_index,
        event=event.name,
        args=dict(event.args),
    )


# --------------------------------------------------------------------------- writers


def write_events(export: EventSource, path: Path, fmt: str, *, exported_at: str | None = None,
                 observe: Callable[[EventRow], None] | None = None) -> dict[str, int]:
    """Write ``export`` to ``path`` as ``csv`` or ``json`` (atomically), row by row; returns the
    rows per event name. ``observe`` sees every row as it is written (one pass for other work)."""
    if fmt == "csv":
        return write_events_csv(export, path, observe=observe)
    if fmt == "json":
        return write_events_json(export, path, exported_at=exported_at, observe=observe)
    raise UserInputError(f"unknown format {fmt!r}", hint="use csv or json")


def events_csv_text(export: EventExport) -> str:
    """The CSV form of ``export`` (see the module docstring)."""
    buffer = io.StringIO()
    buffer.write(_csv_head(export.metadata()))
    _csv_rows(buffer, export.rows, {}, None)
    return buffer.getvalue()


def _csv_head(metadata: Mapping[str, Any]) -> str:
    return (_CSV_MAGIC + json.dumps(metadata, sort_keys=True, separators=(",", ":")) + "\n"
            + ",".join(CSV_COLUMNS) + "\n")


def _csv_rows(out: IO[str], rows: Iterable[EventRow], counts: dict[str, int],
              observe: Callable[[EventRow], None] | None) -> None:
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        if observe is not None:
            observe(row)
        counts[row.event] = counts.get(row.event, 0) + 1
        ref = row.ref
        writer.writerow(
            (
                row.block_number,
                row.block_timestamp,
                row.block_time,
                row.tx_hash,
                row.log_index,
                row.event,
                "" if ref is None else "0x" + ref.hex(),
                row.ref_text,
                json.dumps({k: _jsonable(v) for k, v in row.args.items()}, separators=(",", ":")),
            )
        )


def write_events_csv(export: EventSource, path: Path, *, observe: Callable[[EventRow], None] | None = None) -> dict[str, int]:
    """The CSV form, streamed: rows go to a scratch file beside ``path``, then the head (whose
    metadata holds the row count) and the rows are joined into ``path`` atomically."""
    counts: dict[str, int] = {}
    with _Scratch(path) as body:
        with body.open("w", encoding="utf-8", newline="") as out:
            _csv_rows(out, export, counts, observe)
        meta = export.metadata() if isinstance(export, EventExport) else export.metadata(sum(counts.values()))
        _assemble(path, _csv_head(meta), body, "")
    return dict(sorted(counts.items()))


def events_json(export: EventExport, *, exported_at: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": EVENTS_SCHEMA, "version": EVENTS_SCHEMA_VERSION, **export.metadata()}
    if exported_at is not None:
        body["exported_at"] = exported_at
    body["counts"] = export.counts()
    body["rows"] = [r.to_json() for r in export.rows]
    return body


def write_events_json(export: EventSource, path: Path, *, exported_at: str | None = None,
                      observe: Callable[[EventRow], None] | None = None) -> dict[str, int]:
    """The JSON form, streamed like :func:`write_events_csv` (the metadata and counts follow the
    rows in the object, as they are known only then; readers do not depend on key order)."""
    counts: dict[str, int] = {}
    with _Scratch(path) as body:
        with body.open("w", encoding="utf-8") as out:
            for n, row in enumerate(export):
                if observe is not None:
                    observe(row)
                counts[row.event] = counts.get(row.event, 0) + 1
                out.write(("\n " if n == 0 else ",\n ") + json.dumps(row.to_json(), separators=(",", ":")))
        meta = export.metadata() if isinstance(export, EventExport) else export.metadata(sum(counts.values()))
        head: dict[str, Any] = {"schema": EVENTS_SCHEMA, "version": EVENTS_SCHEMA_VERSION, **meta}
        if exported_at is not None:
            head["exported_at"] = exported_at
        head["counts"] = dict(sorted(counts.items()))
        opening = json.dumps(head, indent=1)[:-2] + ',\n "rows": ['
        _assemble(path, opening, body, ("\n" if counts else "") + "]\n}\n")
    return dict(sorted(counts.items()))


class _Scratch:
    """A scratch file beside ``path`` (same file system, so the final rename is atomic), removed on exit."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Path:
        import tempfile

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".rows", dir=self.path.parent)
        os.close(handle)
        self.scratch = Path(name)
        return self.scratch

    def __exit__(self, *exc: object) -> None:
        self.scratch.unlink(missing_ok=True)


def _assemble(path: Path, head: str, body: Path, tail: str) -> None:
    """``head`` + the bytes of ``body`` + ``tail`` into ``path``, atomically."""
    import shutil

    from .._files import atomic_writer

    with atomic_writer(path) as out:
        out.write(head.encode("utf-8"))
        with body.open("rb") as rows:
            shutil.copyfileobj(rows, out, 1 << 20)
        out.write(tail.encode("utf-8"))


# --------------------------------------------------------------------------- reader


def read_events(path: Path, abi: Sequence[Mapping[str, Any]]) -> EventExport:
    """Read an export written by :func:`write_events` (CSV or JSON, told apart by content).

    ``abi`` (the token's) types the arguments back (ints, addresses, bytes). A file that is not an
    export, has an unknown schema version, a malformed row, or a row whose ``ref``/``ref_text``
    columns disagree with its arguments raises :class:`~pkr_pilot.errors.UserInputError` naming the
    line. Rows whose *values* were changed consistently are not caught here: that is what
    :func:`pkr_pilot.reports.reconcile.reconcile` is for.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"events file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"events file {path} cannot be read: {exc}") from None
    types = _event_types(abi)
    if text.lstrip().startswith("{"):
        return _read_json(path, text, types)
    return _read_csv(path, text, types)


def open_events(path: Path, abi: Sequence[Mapping[str, Any]]) -> EventStream:
    """An export file as an :class:`EventStream`: a CSV file is read line by line on each iteration
    (a million rows in constant memory), with the checks of :func:`read_events` made row by row
    (a bad row raises when the iteration reaches it); a JSON file is read whole."""
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
    except FileNotFoundError:
        raise UserInputError(f"events file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"events file {path} cannot be read: {exc}") from None
    if first.lstrip().startswith("{"):
        export = read_events(path, abi)
        return EventStream(**export.range_fields(), produce=lambda: iter(export.rows))
    meta = _csv_meta(path, first.rstrip("\n"))
    shell = _export_from(path, meta, [])
    types = _event_types(abi)

    def produce() -> Iterator[EventRow]:
        with path.open(encoding="utf-8", newline="") as handle:
            handle.readline()
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(header) != CSV_COLUMNS:
                raise UserInputError(f"{path}:2: unexpected header", hint=f"expected {','.join(CSV_COLUMNS)}")
            previous: tuple[int, int] | None = None
            for values in reader:
                if not values:
                    continue
                row = _csv_row(path, reader.line_num + 1, values, types)
                if previous is not None and row.key() <= previous:
                    raise UserInputError(f"{path}: rows are not in chain order or repeat a (block, log index)")
                _check_in_range(path, shell, row)
                previous = row.key()
                yield row

    return EventStream(**shell.range_fields(), produce=produce)


def _read_json(path: Path, text: str, types: Mapping[str, Mapping[str, str]]) -> EventExport:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(body, dict) or body.get("schema") != EVENTS_SCHEMA:
        raise UserInputError(f"{path} is not a pkr-pilot events export (schema {EVENTS_SCHEMA!r} expected)")
    _check_version(path, body.get("version"))
    raw_rows = body.get("rows")
    if not isinstance(raw_rows, list):
        raise UserInputError(f"{path}: 'rows' is missing or not a list")
    rows = []
    for number, raw in enumerate(raw_rows, start=1):
        where = f"{path}: row {number}"
        if not isinstance(raw, dict):
            raise UserInputError(f"{where} is not an object")
        rows.append(_parse_row(where, raw, types))
    return _export_from(path, body, rows)


def _read_csv(path: Path, text: str, types: Mapping[str, Mapping[str, str]]) -> EventExport:
    lines = text.splitlines()
    meta = _csv_meta(path, lines[0] if lines else "")
    reader = csv.reader(lines[1:])
    header = next(reader, None)
    if header is None or tuple(header) != CSV_COLUMNS:
        raise UserInputError(f"{path}:2: unexpected header", hint=f"expected {','.join(CSV_COLUMNS)}")
    rows = [_csv_row(path, reader.line_num + 1, values, types) for values in reader if values]
    return _export_from(path, meta, rows)


def _csv_meta(path: Path, first: str) -> dict[str, Any]:
    if not first.startswith(f"#{EVENTS_SCHEMA}/v"):
        raise UserInputError(f"{path} is not a pkr-pilot events export (no '#{EVENTS_SCHEMA}/vN' first line)")
    head, _, meta_text = first.partition(" ")
    try:
        version = int(head.rsplit("/v", 1)[1])
    except ValueError:
        raise UserInputError(f"{path}:1: unreadable schema version {head!r}") from None
    _check_version(path, version)
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError:
        raise UserInputError(f"{path}:1: the metadata is not valid JSON") from None
    if not isinstance(meta, dict):
        raise UserInputError(f"{path}:1: the metadata is not a JSON object")
    return meta


def _csv_row(path: Path, line: int, values: Sequence[str], types: Mapping[str, Mapping[str, str]]) -> EventRow:
    where = f"{path}:{line}"
    if len(values) != len(CSV_COLUMNS):
        raise UserInputError(f"{where}: expected {len(CSV_COLUMNS)} columns, found {len(values)}")
    raw: dict[str, Any] = dict(zip(CSV_COLUMNS, values, strict=True))
    try:
        raw["args"] = json.loads(raw["args"])
    except json.JSONDecodeError:
        raise UserInputError(f"{where}: the args column is not valid JSON") from None
    return _parse_row(where, raw, types)


def _parse_row(where: str, raw: Mapping[str, Any], types: Mapping[str, Mapping[str, str]]) -> EventRow:
    name = raw.get("event")
    if not isinstance(name, str) or name not in types:
        raise UserInputError(f"{where}: unknown event {name!r}")
    args_raw = raw.get("args")
    if not isinstance(args_raw, dict):
        raise UserInputError(f"{where}: args is not an object")
    expected = types[name]
    if set(args_raw) != set(expected):
        raise UserInputError(
            f"{where}: {name} arguments {sorted(args_raw)} do not match the ABI {sorted(expected)}"
        )
    args = {k: _from_json(where, k, args_raw[k], expected[k]) for k in expected}
    row = EventRow(
        block_number=_field_int(where, raw, "block_number"),
        block_timestamp=_field_int(where, raw, "block_timestamp"),
        tx_hash=_field_hash(where, raw),
        log_index=_field_int(where, raw, "log_index"),
        event=name,
        args=args,
    )
    # The derived columns must agree with the arguments they are derived from.
    ref = row.ref
    shown_ref = raw.get("ref") or None
    if shown_ref != (None if ref is None else "0x" + ref.hex()):
        raise UserInputError(f"{where}: the ref column {shown_ref!r} does not match the event's arguments")
    if (raw.get("ref_text") or "") != row.ref_text:
        raise UserInputError(f"{where}: the ref_text column does not match the event's ref")
    if "block_time" in raw and raw["block_time"] != row.block_time:
        raise UserInputError(f"{where}: block_time {raw['block_time']!r} does not match block_timestamp")
    return row


def _export_from(path: Path, meta: Mapping[str, Any], rows: list[EventRow]) -> EventExport:
    where = f"{path} (metadata)"
    try:
        export = EventExport(
            chain_id=int(meta["chain_id"]),
            token=_checksum(where, "token", meta["token"]),
            symbol=str(meta["symbol"]),
            decimals=int(meta["decimals"]),
            from_block=int(meta["from_block"]),
            to_block=int(meta["to_block"]),
            include_transfers=bool(meta["include_transfers"]),
            rows=tuple(rows),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UserInputError(f"{where}: missing or bad field {exc}") from None
    # ``count`` is informational: a row added or deleted is reconcile's business (export_matches_chain).
    order = [r.key() for r in rows]
    if order != sorted(order) or len(set(order)) != len(order):
        raise UserInputError(f"{path}: rows are not in chain order or repeat a (block, log index)")
    for row in rows:
        _check_in_range(path, export, row)
    return export


def _check_in_range(path: Path, export: EventExport, row: EventRow) -> None:
    if not export.from_block <= row.block_number <= export.to_block:
        raise UserInputError(
            f"{path}: a {row.event} row in block {row.block_number} lies outside the declared range "
            f"{export.from_block}..{export.to_block}"
        )


def _check_version(path: Path, version: Any) -> None:
    if not isinstance(version, int) or version < 1:
        raise UserInputError(f"{path}: bad schema version {version!r}")
    if version > EVENTS_SCHEMA_VERSION:
        raise UserInputError(
            f"{path} has events schema v{version}; this pkr-pilot reads up to v{EVENTS_SCHEMA_VERSION}",
            hint="upgrade pkr-pilot",
        )


# --------------------------------------------------------------------------- value conversion


def _event_types(abi: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in abi:
        if item.get("type") == "event" and not item.get("anonymous"):
            out[str(item["name"])] = {str(i["name"]): str(i["type"]) for i in item.get("inputs", [])}
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _from_json(where: str, name: str, value: Any, typ: str) -> Any:
    bad = UserInputError(f"{where}: argument {name}={value!r} is not a valid {typ}")
    if typ.endswith("]"):
        if not isinstance(value, list):
            raise bad
        inner = typ[: typ.rindex("[")]
        return tuple(_from_json(where, name, v, inner) for v in value)
    if typ == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if typ.startswith(("uint", "int")):
        if not isinstance(value, str) or not value.lstrip("-").isdigit():
            raise bad
        number = int(value)
        if typ.startswith("uint") and number < 0:
            raise bad
        return number
    if typ == "address":
        return _checksum(where, name, value)
    if typ.startswith("bytes"):
        if not isinstance(value, str) or not value.startswith("0x"):
            raise bad
        try:
            data = bytes.fromhex(value[2:])
        except ValueError:
            raise bad from None
        if typ != "bytes" and len(data) != int(typ[5:]):
            raise bad
        return data
    if typ == "string":
        if not isinstance(value, str):
            raise bad
        return value
    raise bad


def _checksum(where: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not _is_checksummed(value):
        raise UserInputError(f"{where}: {name} {value!r} is not a checksummed address")
    return value


@functools.lru_cache(maxsize=1 << 18)
def _is_checksummed(value: str) -> bool:
    """Cached: an export names far fewer wallets than it has rows (keccak per row was most of a read)."""
    from eth_utils.address import is_checksum_address

    return bool(is_checksum_address(value))


def _field_int(where: str, raw: Mapping[str, Any], key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool):
        raise UserInputError(f"{where}: {key} is not a number")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise UserInputError(f"{where}: {key} {value!r} is not a non-negative integer")


def _field_hash(where: str, raw: Mapping[str, Any]) -> str:
    value = raw.get("tx_hash")
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise UserInputError(f"{where}: tx_hash {value!r} is not a 0x + 64 hex digit hash")
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        raise UserInputError(f"{where}: tx_hash {value!r} is not hex") from None
    return value.lower()


