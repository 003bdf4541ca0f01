"""The one way pkr-pilot writes a file: atomically and durably.

A writer puts the bytes in a temporary file beside the target, fsyncs it, renames it over the
target and fsyncs the folder, so a reader (or a process restarted after a crash) sees the old
file or the new one, never a torn one::

    atomic_write_json(folder / "PilotRupee.json", record.to_json())

Append-only files (journals) use :func:`append_durably` (one ``write`` then ``fsync``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "append_durably",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "atomic_writer",
    "fsync_dir",
    "move_durably",
]


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` atomically with permission bits ``mode`` (not narrowed by the umask).

    ``exclusive``: never replace an existing file; :class:`FileExistsError` if ``path`` exists
    (the name is claimed with a hard link, or with ``O_EXCL`` where links are not supported).
    """
    with atomic_writer(path, mode=mode, exclusive=exclusive, data=data) as out:
        out.write(data)


@contextlib.contextmanager
def atomic_writer(
    path: Path, *, mode: int = 0o644, exclusive: bool = False, data: bytes | None = None
) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content into; on a clean exit it replaces ``path``
    atomically (fsync, rename, fsync of the folder), on an error ``path`` is left as it was.

    ``data`` (the same bytes as written) lets an ``exclusive`` write fall back to ``O_EXCL`` on
    file systems without hard links.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        if exclusive:
            _claim(tmp, path, tmp.read_bytes() if data is None else data, mode)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    """:func:`atomic_write_bytes` of UTF-8 text (newlines kept as written)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def atomic_write_json(path: Path, data: Any, *, indent: int | None = 2) -> None:
    """:func:`atomic_write_bytes` of ``data`` as JSON: indented with a final newline, or compact
    (``indent=None``)."""
    if indent is None:
        text = json.dumps(data, separators=(",", ":"))
    else:
        text = json.dumps(data, indent=indent) + "\n"
    atomic_write_text(path, text)


def append_durably(path: Path, data: bytes) -> None:
    """Append ``data`` with one ``write`` and ``fsync`` it (and the folder, when the file is new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if new_file:
        fsync_dir(path.parent)


def move_durably(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` (replacing it) and fsync both folders."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new name in ``folder`` durable (a no-op where folders cannot be fsynced)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _claim(tmp: Path, path: Path, data: bytes, mode: int) -> None:
    try:
        os.link(tmp, path)  # atomic and exclusive: fails when the name is taken
    except FileExistsError:
        raise
    except OSError:  # filesystems without hard links: exclusive create, then write
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(out, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
