#!/usr/bin/env bash
# Download the exact wheels the experiments scan into .cache/experiments/ (git-ignored, cached):
# the pinned versions and sha256 hashes of experiments/wheels.txt (one per project of projects.txt)
# and experiments/krunner.txt. pip checks every hash, so a run today gets the same bytes as the run
# that made experiments/results/. A file already there with the right hash is not downloaded again.
set -euo pipefail
cd "$(dirname "$0")/.."
read -ra PIP <<<"${PIP:-pip}"  # may be several words: "python -m pip"
out=.cache/experiments/wheels
mkdir -p "$out" .cache/experiments/krunner
quiet() { grep -v -e '^WARNING: Location' -e 'already downloaded' -e '^Saved ' || true; }
"${PIP[@]}" download -q --disable-pip-version-check --only-binary=:all: --no-deps --require-hashes \
  --platform musllinux_1_2_x86_64 --platform musllinux_1_1_x86_64 \
  --python-version 3.11 --implementation cp -d "$out" -r experiments/wheels.txt 2>&1 | quiet
"${PIP[@]}" download -q --disable-pip-version-check --only-binary=:all: --no-deps --require-hashes \
  --platform musllinux_1_2_x86_64 --python-version 3.12 -d .cache/experiments/krunner \
  -r experiments/krunner.txt 2>&1 | quiet
ls "$out" .cache/experiments/krunner
