#!/usr/bin/env bash
# Runs the whole suite with its tests shuffled inside each file, once per seed: every test
# must pass alone and in any order, building the state it needs itself. A failure names the
# seed, so `SEEDS=<seed> npm run test:shuffled` replays exactly that order.
set -euo pipefail
for seed in ${SEEDS:-1 2 3}; do
  echo "== vitest, tests shuffled with seed $seed"
  if ! npx vitest run --sequence.shuffle.tests --sequence.seed="$seed" "$@"; then
    echo "Tests failed in the order of seed $seed: SEEDS=$seed npm run test:shuffled replays it." >&2
    exit 1
  fi
done
