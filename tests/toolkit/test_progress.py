"""The one progress facility: a redrawn line on a terminal, sparse lines in a log, nothing with --json."""

from __future__ import annotations

import io

from pkr_pilot.progress import Progress, ProgressLine, ProgressPhases, eta_text


def _clock(*ticks: float):  # type: ignore[no-untyped-def]
    return iter(ticks).__next__


def test_a_terminal_gets_one_line_redrawn_with_count_rate_and_eta() -> None:
    out = io.StringIO()
    line = ProgressLine("simulating: step", 10, stream=out, tty=True, clock=_clock(0.0, 1.0, 2.0, 5.0))
    line.update(2)
    line.update(4)
    line.close()
    frames = out.getvalue().split("\r\x1b[2K")[1:]
    assert frames == [
        "simulating: step 2/10 (20 %) 2.0/s, ETA 4 s",
        "simulating: step 4/10 (40 %) 2.0/s, ETA 3 s",
        "simulating: step 4/10 (40 %) 1.2 s each, done in 5 s\n",
    ]


def test_a_log_gets_a_line_now_and_then_and_json_gets_nothing() -> None:
    log = io.StringIO()
    line = ProgressLine("paying", 100, stream=log, tty=False, every=5.0, clock=_clock(0.0, 1.0, 2.0, 7.0, 8.0, 9.0))
    for done in (10, 20, 70, 80):
        line.update(done)
    line.note("batch 2 of 2")
    line.close()
    assert log.getvalue().splitlines() == [
        "paying 10/100 (10 %) 10.0/s, ETA 9 s",
        "paying 70/100 (70 %) 10.0/s, ETA 3 s",
        "batch 2 of 2",
        "paying 80/100 (80 %) 8.9/s, done in 9 s",
    ]
    quiet = io.StringIO()
    silent = ProgressLine("paying", 5, stream=quiet, quiet=True, every=0.0)
    silent.update(5)
    silent.note("x")
    silent.close()
    assert quiet.getvalue() == ""


def test_fewer_than_one_item_a_second_shows_the_seconds_each_not_zero_per_second() -> None:
    out = io.StringIO()
    line = ProgressLine("simulating: step", 72, stream=out, tty=False, every=0.0, clock=_clock(0.0, 30.0, 45.0))
    line.update(2)
    line.close()
    assert out.getvalue().splitlines() == [
        "simulating: step 2/72 (2 %) 15.0 s each, ETA 17 min 30 s",
        "simulating: step 2/72 (2 %) 22.5 s each, done in 45 s",
    ]


def test_eta_text() -> None:
    assert [eta_text(s) for s in (0.4, 59, 200, 3600, 3900)] == ["0 s", "59 s", "3 min 20 s", "1 h", "1 h 5 min"]


def test_phases_take_turns_on_one_line_and_an_open_ended_phase_holds_none_back() -> None:
    out = io.StringIO()
    phases = ProgressPhases({"scan": "scanning", "send": "sending"}, stream=out, tty=False, every=0.0,
                            clock=_clock(*(float(t) for t in range(20))))
    phases(Progress(3, 0, "scan"))  # no total
    phases(Progress(1, 2, "send"))
    phases.note("... a note")
    phases(Progress(2, 2, "send"))
    phases(Progress(1, 4, "scan"))  # a phase that runs again gets a line of its own
    phases.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("scanning 3 ") and lines[1].startswith("scanning 3 ") and "done in" in lines[1]
    assert lines[2].startswith("sending 1/2") and lines[3] == "... a note"
    assert lines[4].startswith("sending 2/2 (100 %)") and "done in" in lines[4]
    assert lines[5].startswith("scanning 1/4") and lines[-1].startswith("scanning 1/4") and "done in" in lines[-1]

    silent = io.StringIO()
    quiet = ProgressPhases({}, stream=silent, quiet=True)
    quiet(Progress(1, 2, "send"))
    quiet.note("hidden")
    quiet.close()
    assert silent.getvalue() == ""


def test_the_simulators_step_rate_and_eta_leave_setup_out() -> None:
    """A national run's setup takes minutes: spread over the first steps it made the ETA hours too long."""
    from pkr_pilot.cli.simulate_cmd import _ProgressBar

    out = io.StringIO()
    bar = _ProgressBar(72, quiet=False)
    bar.line = ProgressLine("simulating: step", 72, stream=out, tty=False, every=0.0,
                            clock=_clock(0.0, 280.0, 284.0, 288.0))
    bar(Progress(0, 72, "setup", "onboarding"))  # the last setup phase: minutes of KYC and payouts
    bar(Progress(0, 72, "step"))  # setup ends at 280 s: the steps start
    bar(Progress(1, 72, "step"))
    bar(Progress(2, 72, "step"))
    assert out.getvalue().splitlines() == [
        "setup: onboarding",
        "simulating: step 1/72 (1 %) 4.0 s each, ETA 4 min 44 s",
        "simulating: step 2/72 (2 %) 4.0 s each, ETA 4 min 40 s",
    ]
