"""The one write-ahead journal (src/pkr_pilot/journal.py): versioned lines, one lock, fsync per write,
a torn final line reported (file and byte offset) and never silently moved aside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pkr_pilot.errors import JournalError
from pkr_pilot.journal import Journal, JournalWarning

ROOT = Path(__file__).resolve().parents[2]


def _journal(path: Path) -> Journal:
    return Journal(path, schema="pkr-pilot.test", version=2, what="test journal")


def test_lines_carry_the_schema_id_version_and_time_and_read_back(tmp_path):
    journal = _journal(tmp_path / "j.jsonl")

    written = journal.write([{"event": "a", "n": 1}, {"event": "b"}])

    raw = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
    assert raw == written
    assert [(line["schema"], line["v"], line["event"]) for line in raw] == [("pkr-pilot.test", 2, "a"), ("pkr-pilot.test", 2, "b")]
    assert all(line["time"].endswith("Z") for line in raw)
    assert _journal(tmp_path / "j.jsonl").lines() == written


def test_a_torn_final_line_is_reported_with_file_and_byte_offset_then_copied_aside_on_the_next_write(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = _journal(path)
    journal.write([{"event": "a"}])
    good = path.stat().st_size
    with path.open("ab") as fh:
        fh.write(b'{"schema":"pkr-pilot.test","v":2,"ev')

    with pytest.warns(JournalWarning, match=rf"j\.jsonl: the last line \(byte offset {good}, 36 bytes\) was cut short"), journal.locked():
        assert [line["event"] for line in journal.lines()] == ["a"]
    assert journal.torn is not None and journal.torn.offset == good

    with pytest.warns(JournalWarning, match=rf"cut line at byte offset {good} was copied to j\.torn"):
        _journal(path).write([{"event": "b"}])

    assert [line["event"] for line in _journal(path).lines()] == ["a", "b"]
    aside = json.loads((tmp_path / "j.torn").read_text())
    assert aside["offset"] == good and aside["bytes"] == '{"schema":"pkr-pilot.test","v":2,"ev'


def test_a_torn_tail_is_reported_once_per_journal_object(tmp_path, recwarn):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"schema":"pkr-pilot.test","v":2')
    journal = _journal(path)
    with journal.locked():
        journal.lines()
        journal.lines()
    assert len([w for w in recwarn if issubclass(w.category, JournalWarning)]) == 1


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"{oops\n", r"j\.jsonl:2 is not valid JSON"),
        (b"[1, 2]\n", r"j\.jsonl:2 is not a test journal line"),
        (b'{"schema":"other","v":1}\n', r"j\.jsonl:2 is not a test journal line"),
        (b'{"schema":"pkr-pilot.test","v":3}\n', r"j\.jsonl:2 has test journal schema v3, this pkr-pilot reads up to v2"),
        (b"\xff\xfe\n", r"j\.jsonl:2 is not valid JSON"),
    ],
)
def test_an_unreadable_line_that_is_not_the_last_is_an_error_naming_file_and_line(tmp_path, content, error):
    path = tmp_path / "j.jsonl"
    _journal(path).write([{"event": "a"}])
    with path.open("ab") as fh:
        fh.write(content)
    _journal(path).write([{"event": "c"}])

    with pytest.raises(JournalError, match=error):
        _journal(path).lines()


def test_a_second_process_is_refused_at_once_without_waiting(tmp_path):
    path = tmp_path / "j.jsonl"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from pkr_pilot.errors import JournalError
        from pkr_pilot.journal import Journal
        journal = Journal(Path({str(path)!r}), schema="pkr-pilot.test", version=2)
        try:
            with journal.locked(wait=False):
                pass
        except JournalError as exc:
            print(exc.message)
            sys.exit(7)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with _journal(path).locked():
        held = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    free = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)

    assert held.returncode == 7 and "another process is writing j.jsonl" in held.stdout
    assert free.returncode == 0


def test_reads_parse_only_what_was_appended_and_notice_a_replaced_file(tmp_path):
    parsed: list[bytes] = []

    def loads(raw: bytes) -> object:
        parsed.append(raw)
        return json.loads(raw)

    path = tmp_path / "j.jsonl"
    journal = Journal(path, schema="pkr-pilot.test", version=2, loads=loads)
    journal.write([{"event": str(i)} for i in range(50)])
    assert len(journal.lines()) == 50 and len(parsed) == 50
    journal.write([{"event": "x"}])
    assert len(journal.lines()) == 51 and len(parsed) == 51

    path.unlink()
    _journal(path).write([{"event": "restored"}])

    assert [line["event"] for line in journal.lines()] == ["restored"]
