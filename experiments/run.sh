#!/usr/bin/env bash
# Remake everything in experiments/results/ (a few minutes after the downloads):
#   bash experiments/run.sh
# Needs: the project's .venv (bash scripts/test makes it; or PYTHON=/path/to/python with alpinetags
# installed), the real parts (python -m tests.realparts fetch: the Alpine minirootfs, the Alpine CPython),
# root (the real loads and time64 run files inside chroots of the real Alpine roots), gcc and ld that can
# target i386 (time64), Debian's musl (apt-get install musl: the loader that judges the symbol findings),
# and network access to PyPI for the first run (pinned wheels, cached in .cache/experiments/).
# With matplotlib in that Python (pip install -e '.[experiments]') a PNG heatmap is made too.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
out=experiments/results
mkdir -p "$out"
at() { "$PY" -m alpinetags "$@"; }

PIP="$PY -m pip" bash experiments/fetch.sh >/dev/null

# 1. Real loads against the native check; time64 on the real x86 roots; CPython modules of three releases.
"$PY" -m experiments.realload --out "$out"
"$PY" -m experiments.time64 --out "$out" >/dev/null
"$PY" -m experiments.eras --out "$out"

# 2. The matrix: musl (symbol lists) and the system libraries (soname table).
png=()
"$PY" -c "import matplotlib" 2>/dev/null && png=(--png)
at experiment matrix --out "$out" "${png[@]}" | tee "$out/matrix.txt"

# 3. What the real wheels need of musl. Exit status 1 means "some wheel needs a name this musl lacks",
# which is the expected answer here.
at experiment symbols .cache/experiments/wheels .cache/experiments/krunner \
  --confirm-all --out "$out/symbols.md" --json >"$out/symbols.json" || [ $? -eq 1 ]

# 4. What each scheme installs from those wheels on three systems.
wheels=(--check-symbols --wheels .cache/experiments/wheels --wheels .cache/experiments/krunner)
at compare --target musl:1.2.3,x86_64 "${wheels[@]}" >"$out/compare-debian-musl-1.2.3.txt" 2>/dev/null
at compare --target alpine:3.16,musl:1.2.3,x86_64 "${wheels[@]}" >"$out/compare-alpine-3.16.txt"
at compare --target alpine:3.20,musl:1.2.5,x86_64 "${wheels[@]}" >"$out/compare-alpine-3.20.txt"

# 5. The figures the spec quotes, recounted from the results above (and the pinned wheels' module names).
"$PY" -m experiments.figures --out "$out" >/dev/null
ls -l "$out"
