"""Run the symbolic proofs (halmos) and print one table: check, expected, result, paths, seconds.

Every ``check_<rule>`` in proofs/src must be PROVED (halmos finds no counterexample on any path). A
check may prove several rules over one path exploration: it lists them in a ``/// @custom:rules`` line
of its NatSpec. Every rule has a twin ``check_twin_<rule>`` (the property made false, or asked of a
copy of the contract with the guard removed) that must produce a COUNTEREXAMPLE: a twin that passes
shows the rule's check is vacuous (it never reaches the paths it claims to cover). Exits 1 on any
unexpected result, on a rule without a twin (or a twin without a rule), and on a halmos error or
timeout.

The checks run in ``--jobs`` halmos processes side by side (default 2, this machine's cores), balanced
by each check's seconds in the last run (kept in .pkr-pilot/prove/seconds.json).

Standard library only: it runs in the proof venv (.venv-prove), which holds halmos and yices. Used by
``make prove``; nothing is written outside the repository (forge's and halmos's HOME caches go to
.pkr-pilot/prove/home, the build to .pkr-pilot/prove/out).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROOFS = ROOT / "proofs"
WORK = ROOT / ".pkr-pilot" / "prove"
TWIN = "check_twin_"

# Rules that find a counterexample in the contracts until a fix lands, with the reason printed in the
# table. Such a rule may end either way (the fix may land in parallel): a counterexample is reported
# as known, a proof as "fixed: delete the entry". Every other rule must be proved. Keep it empty.
PENDING_FIX: dict[str, str] = {}


@dataclass(frozen=True)
class Outcome:
    """One halmos test result as read from its JSON output."""

    name: str
    exitcode: int
    models: int
    paths: int
    seconds: float
    bounded_loops: int

    @property
    def result(self) -> str:
        if self.exitcode == 0:
            return "proved"
        if self.exitcode == 1 and self.models > 0:
            return "counterexample"
        return f"error (exit {self.exitcode})"


def halmos_command(json_path: Path, args: argparse.Namespace, names: list[str]) -> list[str]:
    """One halmos run over `names`, rules and twins alike. --early-exit stops a check (not the run) at
    its first counterexample: one is all a twin has to show, and a rule that has one has failed."""
    venv_bin = Path(sys.executable).parent
    cmd = [
        "timeout",
        "-k",
        "10",
        str(args.timeout),  # halmos ignores SIGTERM: -k sends SIGKILL after 10 s
        str(venv_bin / "halmos"),
        "--root",
        str(PROOFS),
        "--forge-build-out",
        str(WORK / "out"),
        "--json-output",
        str(json_path),
        "--solver",
        "yices",
        "--solver-timeout-assertion",
        args.solver_timeout,
        "--loop",
        "2",
        "--default-bytes-lengths",
        "65",  # signatures: the only bytes arguments the rules feed
        "--solver-threads",
        "1",  # the runs share the machine's cores
        "--no-status",
        "--early-exit",
        "--match-test",
        "^(" + "|".join(names) + r")\(",
    ]
    return cmd


@dataclass(frozen=True)
class Check:
    """One ``check_`` function: the rules it proves (its own name, or the ``@custom:rules`` list of a
    check that proves several rules over one path exploration; none for a twin) and its cost weight."""

    name: str
    rules: tuple[str, ...]
    weight: float


# An unpinned arbitrary call: `_anyCall(sender, noUpgrade)`, `_anyMulticall(sender, 0)`,
# `_moneyCall(0)`. A twin that pins the selector explores only that function's paths.
ANY_CALL = re.compile(r"_anyCall\([^,]+,\s*\w+\)|_anyMulticall\([^,()]+,\s*0\)|_moneyCall\(0\)")
RULES_TAG = re.compile(r"///\s*@custom:rules\s+([\w ]+)\n")


def discover(last: dict[str, float]) -> list[Check]:
    """Every check in proofs/src. The weight is the check's seconds in the last run when known, else a
    guess: a check over ANY call (arbitrary calldata, no pinned selector) explores every function of
    the token and weighs 60, any other check 5."""
    found = []
    for source in sorted((PROOFS / "src").glob("*.t.sol")):
        text = source.read_text()
        starts = list(re.finditer(r"function (check_\w+)\(", text))
        for i, m in enumerate(starts):
            name = m.group(1)
            body = text[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(text)]
            doc_start = starts[i - 1].end() if i else 0
            tagged = RULES_TAG.findall(text[doc_start : m.start()])
            if name.startswith(TWIN):
                rules: tuple[str, ...] = ()
            elif tagged:
                rules = tuple(tagged[-1].split())
            else:
                rules = (name.removeprefix("check_"),)
            heavy = ANY_CALL.search(body) is not None
            weight = last.get(name, 60.0 if heavy else 5.0)
            found.append(Check(name, rules, weight))
    return found


def split(checks: list[Check], parts: int) -> list[list[str]]:
    """Greedy balance of the checks over `parts` runs by weight (heaviest first)."""
    bins: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(parts)]
    for check in sorted(checks, key=lambda c: -c.weight):
        i = min(range(parts), key=lambda j: bins[j][0])
        bins[i] = (bins[i][0] + check.weight, [*bins[i][1], check.name])
    return [names for _, names in bins if names]


def build(env: dict[str, str], log: Path) -> bool:
    """forge build, once, before the two halmos runs (which then find nothing to compile)."""
    cmd = [
        "forge",
        "build",
        "--ast",
        "--root",
        str(PROOFS),
        "--extra-output",
        "storageLayout",
        "metadata",
    ]
    with log.open("w") as out:
        return (
            subprocess.run(
                cmd, cwd=PROOFS, env=env, stdout=out, stderr=subprocess.STDOUT
            ).returncode
            == 0
        )


def halmos_env() -> dict[str, str]:
    env = dict(os.environ)
    home = WORK / "home"
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)  # forge's ~/.foundry cache and halmos's ~/.halmos stay in the repo
    forge_bins = sorted((ROOT / "node_modules" / "@foundry-rs").glob("forge-*/bin"))
    venv_bin = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join(
        [*(str(p) for p in forge_bins), str(venv_bin), env.get("PATH", "")]
    )
    env["FOUNDRY_SOLC"] = str(ROOT / "bin" / "solc")
    # Absolute out and cache paths: with foundry.toml's relative ones, forge records the build-info
    # path relative on a cold build and absolute on the next, so the next build (halmos runs its own)
    # found the cache stale and compiled everything again.
    env["FOUNDRY_OUT"] = str(WORK / "out")
    env["FOUNDRY_CACHE_PATH"] = str(WORK / "cache")
    env.pop("FOUNDRY_PROFILE", None)
    return env


def read_outcomes(json_path: Path) -> list[Outcome]:
    data = json.loads(json_path.read_text())
    outcomes = []
    for results in data.get("test_results", {}).values():
        for r in results:
            paths = r.get("num_paths") or [0]
            seconds = r.get("time") or [0.0]
            outcomes.append(
                Outcome(
                    name=r["name"].split("(")[0],
                    exitcode=int(r["exitcode"]),
                    models=int(r.get("num_models") or 0),
                    paths=int(paths[0]),
                    seconds=float(seconds[0]),
                    bounded_loops=int(r.get("num_bounded_loops") or 0),
                )
            )
    return outcomes


def select(checks: list[Check], match: str) -> list[Check]:
    """The checks whose name or one of whose rules matches `match` (all when it is empty), with the
    twins of their rules and the checks proving the rules of selected twins: a rule never runs without
    its twin, nor a twin without its rule."""
    if not match:
        return checks
    chosen = {c.name for c in checks if any(re.search(match, n) for n in (c.name, *c.rules))}
    proving = {r: c.name for c in checks for r in c.rules}
    for c in checks:
        if c.name in chosen:
            chosen.update(TWIN + r for r in c.rules)
            if c.name.startswith(TWIN) and c.name[len(TWIN) :] in proving:
                chosen.add(proving[c.name[len(TWIN) :]])
    return [c for c in checks if c.name in chosen]


def judge(
    outcomes: list[Outcome], checks: list[Check]
) -> tuple[list[tuple[str, str, str, str, str, str]], list[str]]:
    """Table rows and the list of problems (empty when everything is as expected). Every rule (a
    check's own name, or one of the rules a shared check lists) must have its twin, and every twin
    its rule."""
    problems: list[str] = []
    names = {o.name for o in outcomes}
    rules_of = {c.name: c.rules for c in checks}
    proving: dict[str, str] = {}
    for o in outcomes:
        for rule in rules_of.get(o.name, ()):
            if rule in proving:
                problems.append(f"{rule}: proved by both {proving[rule]} and {o.name}")
            proving[rule] = o.name
    for rule, check in sorted(proving.items()):
        if TWIN + rule not in names:
            problems.append(f"{rule} ({check}): a rule without a twin (add {TWIN}{rule})")
    for o in outcomes:
        if o.name.startswith(TWIN) and o.name[len(TWIN) :] not in proving:
            problems.append(f"{o.name}: a twin without its rule")

    def order(o: Outcome) -> tuple[str, bool, str]:
        """A check, then the twins of its rules (a shared check's twins follow it)."""
        if o.name.startswith(TWIN):
            rule = o.name[len(TWIN) :]
            check = proving.get(rule, "")
            return ((rules_of.get(check) or (rule,))[0], True, rule)
        return ((rules_of.get(o.name) or (o.name,))[0], False, "")

    rows = []
    for o in sorted(outcomes, key=order):
        twin = o.name.startswith(TWIN)
        expected = "counterexample" if twin else "proved"
        note = ""
        ok = o.result == expected
        if not twin and o.name in PENDING_FIX:
            expected = "either"
            ok = o.result in ("proved", "counterexample")
            note = (
                PENDING_FIX[o.name]
                if o.result != "proved"
                else "fixed: delete its PENDING_FIX entry"
            )
        if not ok:
            problems.append(f"{o.name}: expected {expected}, got {o.result}")
        if o.bounded_loops and o.result == "proved":
            note = (note + "; " if note else "") + f"{o.bounded_loops} loop(s) bounded"
        shared = rules_of.get(o.name, ())
        if len(shared) > 1:
            note = (note + "; " if note else "") + f"{len(shared)} rules, listed below"
        verdict = ("ok" if ok else "UNEXPECTED") + (f" ({note})" if note else "")
        rows.append((o.name, expected, o.result, str(o.paths), f"{o.seconds:.1f}", verdict))
    return rows, problems


def render(rows: Sequence[tuple[str, ...]]) -> str:
    header = ("check", "expected", "result", "paths", "seconds", "verdict")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    return "\n".join(
        [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]
    )


SECONDS = WORK / "seconds.json"


def read_seconds() -> dict[str, float]:
    """Each check's seconds in the last run (to balance the runs), empty on the first run."""
    try:
        data = json.loads(SECONDS.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_seconds(outcomes: list[Outcome]) -> None:
    seconds = read_seconds() | {o.name: round(o.seconds, 1) for o in outcomes}
    SECONDS.write_text(json.dumps(seconds, indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--match",
        default="",
        help="only the checks whose name, or one of whose rules, contains a match of this regex"
        " (with their twins)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="halmos runs side by side, each on one core (default 2: this machine's cores)",
    )
    p.add_argument(
        "--timeout", type=int, default=1800, help="seconds before halmos is killed (default 1800)"
    )
    p.add_argument(
        "--solver-timeout", default="60s", help="per-assertion solver timeout (default 60s)"
    )
    p.add_argument(
        "--verbose", action="store_true", help="show halmos's own output (counterexamples)"
    )
    args = p.parse_args(argv)

    WORK.mkdir(parents=True, exist_ok=True)
    env = halmos_env()
    start = time.monotonic()
    if not build(env, WORK / "build.log"):
        print((WORK / "build.log").read_text()[-4000:], file=sys.stderr)
        print(f"prove: forge build failed; its log: {WORK / 'build.log'}", file=sys.stderr)
        return 1
    built = time.monotonic() - start
    checks = select(discover(read_seconds()), args.match)
    runs = []
    for n, names in enumerate(split(checks, max(1, args.jobs))):
        json_path, log_path = WORK / f"run-{n}.json", WORK / f"run-{n}.log"
        json_path.unlink(missing_ok=True)
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                halmos_command(json_path, args, names),
                cwd=PROOFS,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        runs.append((f"run-{n}", proc, json_path, log_path))
    outcomes: list[Outcome] = []
    failed_runs = 0
    for kind, proc, json_path, log_path in runs:
        code = proc.wait()
        if args.verbose:
            print(log_path.read_text())
        if code in (124, 137):
            print(
                f"prove: halmos ({kind}) was stopped after {args.timeout} s; its log: {log_path}",
                file=sys.stderr,
            )
            failed_runs += 1
        elif not json_path.exists():
            print(log_path.read_text()[-4000:], file=sys.stderr)
            print(
                f"prove: halmos ({kind}) wrote no results (exit {code}); its log: {log_path}",
                file=sys.stderr,
            )
            failed_runs += 1
        else:
            outcomes += read_outcomes(json_path)
    wall = time.monotonic() - start
    if failed_runs:
        return 1
    if not outcomes:
        print(f"prove: halmos ran no check; logs in {WORK}", file=sys.stderr)
        return 1
    rows, problems = judge(outcomes, checks)
    problems += [
        f"{c.name}: no result from halmos"
        for c in checks
        if c.name not in {o.name for o in outcomes}
    ]
    write_seconds(outcomes)
    print(render(rows))
    for c in checks:
        if len(c.rules) > 1:
            print(f"\n{c.name} proves, over one path exploration: {', '.join(c.rules)}")
    rules = sum(len(c.rules) for c in checks)
    twins = sum(1 for o in outcomes if o.name.startswith(TWIN))
    print(
        f"\n{rules} rules ({len(outcomes) - twins} checks), {twins} twins; build {built:.0f} s,"
        f" halmos {sum(o.seconds for o in outcomes):.0f} s summed over the checks, total {wall:.0f} s"
        f" wall; halmos's output (counterexamples) in {WORK}/run-*.log"
    )
    for problem in problems:
        print(f"UNEXPECTED: {problem}", file=sys.stderr)
    print(f"prove: {len(outcomes) - len(problems)} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
