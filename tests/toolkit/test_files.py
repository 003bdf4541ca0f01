"""The one atomic-file helper: whole files or none, permissions as asked, exclusive names kept."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pkr_pilot import _files
from pkr_pilot._files import (
    append_durably,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)


def test_a_write_replaces_the_whole_file_and_leaves_no_temporary_behind(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "record.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"b": [1, 2]})
    assert json.loads(target.read_text()) == {"b": [1, 2]}
    assert target.read_text().endswith("\n")
    atomic_write_json(target, {"c": 3}, indent=None)
    assert target.read_text() == '{"c":3}'
    assert sorted(p.name for p in target.parent.iterdir()) == ["record.json"]


def test_the_mode_is_the_one_asked_for_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        atomic_write_text(tmp_path / "public.txt", "x")
        atomic_write_bytes(tmp_path / "tool", b"#!/bin/sh\n", mode=0o755)
    finally:
        os.umask(old)
    assert (tmp_path / "public.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "tool").stat().st_mode & 0o777 == 0o755


def test_an_exclusive_write_never_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "key.json"
    atomic_write_bytes(target, b"first", mode=0o600, exclusive=True)
    with pytest.raises(FileExistsError):
        atomic_write_bytes(target, b"second", mode=0o600, exclusive=True)
    assert target.read_bytes() == b"first"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key.json"]


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    atomic_write_text(target, "old")

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_files.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_appends_add_to_the_end(tmp_path: Path) -> None:
    log = tmp_path / "sub" / "log.jsonl"
    append_durably(log, b"1\n")
    append_durably(log, b"2\n")
    assert log.read_bytes() == b"1\n2\n"
