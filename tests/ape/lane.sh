#!/usr/bin/env bash
# The Ape lane (`make test-ape`; the last lane of `make test`): the repo as an Ape project.
#
#   ape test runs tests/ape (Ape-native: deploy through Ape, ape.reverts) and the contract behaviour
#   suite of tests/contracts (marker `behaviour`: access, freeze, pause, seize, tiers, desk, upgrade)
#   with the toolkit's fixtures pointed at Ape's provider (ape-foundry on the npm anvil), one source
#   of tests (tests/_provider.py).
#
# Everything stays in the checkout: the Node-backed solc wrapper in .pkr-pilot/solcx
# (SOLCX_BINARY_PATH, never ~/.solcx), Ape's data in .pkr-pilot/ape (APE_DATA_FOLDER), the states
# the anvil of ape-foundry spills to disk in .pkr-pilot/anvil-cache/ape-lane-PID (not
# ~/.foundry/anvil/tmp: ape-foundry runs `anvil` from PATH, here a wrapper adding --cache-path),
# and the dependency copy ape-solidity may unpack into contracts/.cache; the last two are removed
# when the lane ends.
# Extra arguments go to `ape test` (e.g. -k freeze). Safe to run any number of times.
set -uo pipefail
cd "$(dirname "$0")/../.."

export SOLCX_BINARY_PATH="$PWD/.pkr-pilot/solcx"
export APE_DATA_FOLDER="$PWD/.pkr-pilot/ape"
anvil_bin=$(ls -d "$PWD"/node_modules/@foundry-rs/anvil-*/bin/anvil 2>/dev/null | head -n 1)
[ -x "$anvil_bin" ] || { echo "error: no npm anvil in node_modules; run make setup" >&2; exit 3; }
anvil_cache="$PWD/.pkr-pilot/anvil-cache/ape-lane-$$"
wrapper_dir="$PWD/.pkr-pilot/ape/bin"
mkdir -p "$wrapper_dir"
printf '#!/bin/sh\nexec %q "$@" --max-persisted-states 32 --cache-path %q\n' "$anvil_bin" "$anvil_cache" >"$wrapper_dir/anvil"
chmod +x "$wrapper_dir/anvil"
export PATH="$wrapper_dir:$PATH"

rm -rf contracts/.cache
trap 'rm -rf contracts/.cache "$anvil_cache"' EXIT

.venv/bin/pkr-pilot compile --install-for-solcx >/dev/null || exit $?
.venv/bin/ape test tests/ape tests/contracts -m "behaviour or ape_native" \
  -c tests/ape/pytest.ini --rootdir . --confcutdir tests --disable-isolation -q "$@"
