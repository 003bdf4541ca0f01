#!/usr/bin/env bash
# The whole test suite in three lanes (what `make test` runs), each timed.
#
#   contracts  token behaviour on anvil and py-evm, matrices, signatures, upgrades, stateful property
#              test. These drive the EVMs and reach no src/ line the toolkit lane does not (measured:
#              combining both gives the same figure) while line tracing doubles their time, so they
#              run without coverage, in the background, next to:
#   toolkit    everything else (src/ tests, gas snapshot and budgets, slither, desk, timelock) on two
#              xdist workers, with line coverage of src/ (subprocesses included), failing under 90 %;
#   example    examples/merchant-payments: another project's tests on a PKRP stack through the
#              pytest plugin pkr_pilot.testing (run from its own folder, its own pytest config),
#              after the contracts lane in the same background slot;
#   ape        the repo as an Ape project (tests/ape/lane.sh): tests/ape in Ape's idiom plus the
#              contract behaviour suite (marker `behaviour`: access, freeze, pause, seize, tiers,
#              desk, upgrade) on Ape's provider (ape-foundry on the npm anvil).
#
# The behaviour suite is one source of tests: on anvil it runs in the Ape lane (Ape's node is the
# npm anvil), on py-evm in the contracts lane, so the other lanes deselect its anvil runs.
# All three lanes share one compile (done first) and run side by side; the background lanes' output
# is printed when they end. Exit status: non-zero if any lane failed.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
LOGS=.pkr-pilot/logs
mkdir -p "$LOGS"
CONTRACT_LANE=(tests/invariants tests/contracts/test_signatures.py tests/contracts/test_pilot_rupee_*.py)
NOT_ON_APE=(--behaviour-anvil-in-ape-lane)  # those run in the Ape lane
IGNORES=()
for path in "${CONTRACT_LANE[@]}"; do IGNORES+=("--ignore=$path"); done

now() { date +%s; }
start=$(now)

.venv/bin/pkr-pilot compile >/dev/null || exit $?

(
  t0=$(now)
  "$PY" -m pytest -p no:cov "${NOT_ON_APE[@]}" "${CONTRACT_LANE[@]}" >"$LOGS/contracts-lane.log" 2>&1
  rc=$?
  echo "$(( $(now) - t0 ))" >"$LOGS/contracts-lane.seconds"
  t0=$(now)
  (cd examples/merchant-payments && "../../$PY" -m pytest -q) >"$LOGS/example-lane.log" 2>&1
  example_rc=$?
  echo "$(( $(now) - t0 ))" >"$LOGS/example-lane.seconds"
  [ "$rc" -eq 0 ] && exit $example_rc
  exit $rc
) &
contracts_pid=$!

(
  t0=$(now)
  tests/ape/lane.sh >"$LOGS/ape-lane.log" 2>&1
  rc=$?
  echo "$(( $(now) - t0 ))" >"$LOGS/ape-lane.seconds"
  exit $rc
) &
ape_pid=$!

t1=$(now)
"$PY" -m pytest -n 2 --cov=pkr_pilot --cov-report=term-missing:skip-covered --cov-fail-under=90 "${NOT_ON_APE[@]}" "${IGNORES[@]}"
toolkit_rc=$?
toolkit_s=$(( $(now) - t1 ))

wait "$contracts_pid"
contracts_rc=$?
contracts_s=$(cat "$LOGS/contracts-lane.seconds" 2>/dev/null || echo "?")
echo
echo "== contracts lane output ($LOGS/contracts-lane.log)"
cat "$LOGS/contracts-lane.log"
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
echo "== lanes: contracts ${contracts_s} s + example ${example_s} s (rc $contracts_rc), toolkit+coverage ${toolkit_s} s (rc $toolkit_rc)," \
     "ape ${ape_s} s (rc $ape_rc) [side by side]; total $(( $(now) - start )) s"
[ "$contracts_rc" -eq 0 ] && [ "$toolkit_rc" -eq 0 ] && [ "$ape_rc" -eq 0 ]
