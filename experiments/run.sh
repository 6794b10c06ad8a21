#!/usr/bin/env bash
# Remake everything in experiments/results/ from scratch (about a minute after the downloads):
#   bash experiments/run.sh
# Needs: alpinetags installed (pip install -e .), Debian's musl (apt-get install musl) for the loader
# that judges the symbol findings, network access to PyPI for the first run (wheels are cached in
# .cache/experiments/). With matplotlib (pip install -e '.[experiments]') a PNG heatmap is made too.
set -euo pipefail
cd "$(dirname "$0")/.."
out=experiments/results
mkdir -p "$out"

bash experiments/fetch.sh >/dev/null

png=()
# The PNG needs matplotlib in the environment the `alpinetags` command runs from.
"$(head -1 "$(command -v alpinetags)" | sed 's/^#!//')" -c "import matplotlib" 2>/dev/null && png=(--png)
alpinetags experiment matrix --out "$out" "${png[@]}" | tee "$out/matrix.txt"

# Exit status 1 means "some wheel needs a name this musl lacks", which is the expected answer here.
alpinetags experiment symbols .cache/experiments/wheels .cache/experiments/krunner \
  --confirm-all --out "$out/symbols.md" --json >"$out/symbols.json" || [ $? -eq 1 ]

wheels=(--check-symbols --wheels .cache/experiments/wheels --wheels .cache/experiments/krunner)
alpinetags compare --target musl:1.2.3,x86_64 "${wheels[@]}" >"$out/compare-debian-musl-1.2.3.txt"
alpinetags compare --target alpine:3.16,musl:1.2.3,x86_64 "${wheels[@]}" >"$out/compare-alpine-3.16.txt"
alpinetags compare --target alpine:3.20,musl:1.2.5,x86_64 "${wheels[@]}" >"$out/compare-alpine-3.20.txt"
ls -l "$out"
