#!/usr/bin/env bash
# The whole test suite in three lanes (what `make test` runs), each timed.
#
#   contracts  token behaviour on anvil and py-evm, matrices, signatures, upgrades, stateful property
#              test. These drive the EVMs and reach no src/ line the toolkit lane does not (measured:
#              combining both gives the same figure) while line tracing doubles their time, so they
#              run without coverage, in the background, next to:
#   toolkit    everything else (src/ tests, gas snapshot and budgets, slither, desk, timelock) on two
#              xdist workers, with line coverage of src/ (subprocesses included), failing under 90 %;
#   ape        the repo as an Ape project (ape compile, tests/ape on ape-foundry), after both.
#
# The two pytest lanes share one compile (done first) and run side by side; the contracts lane's
# output is printed when it ends. Exit status: non-zero if any lane failed.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
LOGS=.pkr-pilot/logs
mkdir -p "$LOGS"
CONTRACT_LANE=(tests/invariants tests/contracts/test_signatures.py tests/contracts/test_pilot_rupee_*.py)
IGNORES=()
for path in "${CONTRACT_LANE[@]}"; do IGNORES+=("--ignore=$path"); done

now() { date +%s; }
start=$(now)

.venv/bin/pkr-pilot compile >/dev/null || exit $?

(
  t0=$(now)
  "$PY" -m pytest -p no:cov "${CONTRACT_LANE[@]}" >"$LOGS/contracts-lane.log" 2>&1
  rc=$?
  echo "$(( $(now) - t0 ))" >"$LOGS/contracts-lane.seconds"
  exit $rc
) &
contracts_pid=$!

t1=$(now)
"$PY" -m pytest -n 2 --cov=pkr_pilot --cov-report=term-missing:skip-covered --cov-fail-under=90 "${IGNORES[@]}"
toolkit_rc=$?
toolkit_s=$(( $(now) - t1 ))

wait "$contracts_pid"
contracts_rc=$?
contracts_s=$(cat "$LOGS/contracts-lane.seconds" 2>/dev/null || echo "?")
echo
echo "== contracts lane output ($LOGS/contracts-lane.log)"
cat "$LOGS/contracts-lane.log"

t2=$(now)
anvil_dir=$(ls -d "$PWD"/node_modules/@foundry-rs/anvil-*/bin 2>/dev/null | head -n 1)
.venv/bin/pkr-pilot compile --install-for-solcx >/dev/null \
  && PATH="$anvil_dir:$PATH" APE_DATA_FOLDER="$PWD/.pkr-pilot/ape" \
     .venv/bin/ape test tests/ape -c tests/ape/pytest.ini -q
ape_rc=$?
ape_s=$(( $(now) - t2 ))

echo
echo "== lanes: contracts ${contracts_s} s (rc $contracts_rc), toolkit+coverage ${toolkit_s} s (rc $toolkit_rc)" \
     "[side by side], ape ${ape_s} s (rc $ape_rc); total $(( $(now) - start )) s"
[ "$contracts_rc" -eq 0 ] && [ "$toolkit_rc" -eq 0 ] && [ "$ape_rc" -eq 0 ]
