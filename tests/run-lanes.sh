#!/usr/bin/env bash
# The whole test suite in three lanes (what `make test` runs), each timed.
#
#   plain      no coverage, two xdist workers: the token behaviour on py-evm, matrices, signatures,
#              upgrades, the stateful property test (these drive the EVMs and reach no src/ line the
#              toolkit lane does not), and the end-to-end drills whose src/ lines the toolkit lane
#              reaches almost all of (COVERED_ELSEWHERE below; measured: 90.70 % coverage without
#              them, about a quarter point less than with them, while line tracing makes them about
#              1.6x slower); then
#   example    examples/merchant-payments: another project's tests on a PKRP stack through the
#              pytest plugin pkr_pilot.testing (run from its own folder, its own pytest config);
#   toolkit    everything else (src/ tests, gas snapshot and budgets, slither, desk, timelock) on two
#              xdist workers, with line coverage of src/ (subprocesses included), failing under 90 %;
#   ape        the repo as an Ape project (tests/ape/lane.sh): tests/ape in Ape's idiom plus the
#              contract behaviour suite (marker `behaviour`: access, freeze, pause, seize, tiers,
#              desk, upgrade) on Ape's provider (ape-foundry on the npm anvil).
#
# The behaviour suite is one source of tests: on anvil it runs in the Ape lane (Ape's node is the
# npm anvil), on py-evm in the plain lane, so the other lanes deselect its anvil runs.
# All lanes share one compile (done first) and run side by side; the background lanes' output
# is printed when they end. Exit status: non-zero if any lane failed.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
# About a hundred Python processes start in the lanes (xdist workers, CLI and drill subprocesses,
# Ape's scripts); each imports src/ and tests/. Where the environment forbids bytecode caches
# (PYTHONDONTWRITEBYTECODE, set in many CI images), every one of them compiled those sources again:
# the lanes let Python keep them in __pycache__/ (ignored by git) instead.
unset PYTHONDONTWRITEBYTECODE
LOGS=.pkr-pilot/logs
mkdir -p "$LOGS"
CONTRACT_LANE=(tests/invariants tests/contracts/test_signatures.py tests/contracts/test_pilot_rupee_*.py)
# End-to-end drills (real processes, signals, node restarts, a clean HOME) whose src/ lines the toolkit
# lane's own tests cover almost entirely: they run without line tracing. A file moves here only when
# the coverage figure barely moves without it (tests/disburse/test_disburse.py would cost three
# points, the README walkthrough one: they stay under coverage). Both lanes use xdist's worksteal
# schedule, so no worker idles while the other ends on a long test.
COVERED_ELSEWHERE=(
  tests/deploy/test_drills.py tests/deploy/test_cli.py tests/deploy/test_identity.py
  tests/disburse/test_node_restart.py tests/cli/test_interrupts.py tests/chain/test_node_command.py
  tests/reports/test_streaming.py tests/compile/test_compile_slither.py tests/toolkit/test_clean_machine.py
  tests/compile/test_compile_build.py tests/compile/test_compile_shim.py tests/accounts/test_accounts_ape.py
  tests/sim/test_funding.py
)
PLAIN_LANE=("${CONTRACT_LANE[@]}" "${COVERED_ELSEWHERE[@]}")
NOT_ON_APE=(--behaviour-anvil-in-ape-lane)  # those run in the Ape lane
IGNORES=()
for path in "${PLAIN_LANE[@]}"; do IGNORES+=("--ignore=$path"); done

now() { date +%s; }
start=$(now)

.venv/bin/pkr-pilot compile >/dev/null || exit $?

(
  t0=$(now)
  "$PY" -m pytest -p no:cov -n 2 --dist worksteal "${NOT_ON_APE[@]}" "${PLAIN_LANE[@]}" >"$LOGS/plain-lane.log" 2>&1
  rc=$?
  echo "$(( $(now) - t0 ))" >"$LOGS/plain-lane.seconds"
  t0=$(now)
  (cd examples/merchant-payments && "../../$PY" -m pytest -q) >"$LOGS/example-lane.log" 2>&1
  example_rc=$?
  echo "$(( $(now) - t0 ))" >"$LOGS/example-lane.seconds"
  [ "$rc" -eq 0 ] && exit $example_rc
  exit $rc
) &
plain_pid=$!

(
  t0=$(now)
  tests/ape/lane.sh >"$LOGS/ape-lane.log" 2>&1
  rc=$?
  echo "$(( $(now) - t0 ))" >"$LOGS/ape-lane.seconds"
  exit $rc
) &
ape_pid=$!

t1=$(now)
"$PY" -m pytest -n 2 --dist worksteal --cov=pkr_pilot --cov-report=term-missing:skip-covered --cov-fail-under=90 "${NOT_ON_APE[@]}" "${IGNORES[@]}"
toolkit_rc=$?
toolkit_s=$(( $(now) - t1 ))

wait "$plain_pid"
plain_rc=$?
plain_s=$(cat "$LOGS/plain-lane.seconds" 2>/dev/null || echo "?")
echo
echo "== plain lane output ($LOGS/plain-lane.log)"
cat "$LOGS/plain-lane.log"
example_s=$(cat "$LOGS/example-lane.seconds" 2>/dev/null || echo "?")
echo
echo "== example project output ($LOGS/example-lane.log)"
cat "$LOGS/example-lane.log" 2>/dev/null

wait "$ape_pid"
ape_rc=$?
ape_s=$(cat "$LOGS/ape-lane.seconds" 2>/dev/null || echo "?")
echo
echo "== ape lane output ($LOGS/ape-lane.log)"
cat "$LOGS/ape-lane.log"

echo
echo "== lanes: plain ${plain_s} s + example ${example_s} s (rc $plain_rc), toolkit+coverage ${toolkit_s} s (rc $toolkit_rc)," \
     "ape ${ape_s} s (rc $ape_rc) [side by side]; total $(( $(now) - start )) s"
[ "$plain_rc" -eq 0 ] && [ "$toolkit_rc" -eq 0 ] && [ "$ape_rc" -eq 0 ]
