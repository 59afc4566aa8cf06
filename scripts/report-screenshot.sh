#!/usr/bin/env bash
# Regenerates docs/report-timeline.png, the picture of a failing run's report that the
# README shows: the named fault `reversed-priority` (the origin document's heap, which
# delivers the lowest priority first) on seed 1 of the default scenario, its report
# opened in headless Chromium: the verdict table, the witnesses and the timeline, whose
# first view is the window around the first witness event.
#
#   scripts/report-screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/report-timeline.png}
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target mqharness-mutants
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The run fails (that is the point): exit status 1.
status=0
build/mutants/mqharness-mutants --only reversed-priority --run 1 --report "$work/report" >"$work/run.log" || status=$?
if [[ $status -ne 1 ]]; then
  cat "$work/run.log" >&2
  echo "report-screenshot: expected the mutant run to fail (exit 1), got $status" >&2
  exit 1
fi
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$work/profile" \
  --run-all-compositor-stages-before-draw --virtual-time-budget=10000 \
  --window-size=1400,1560 --screenshot="$PWD/$out" "file://$work/report/index.html" 2>/dev/null
echo "report-screenshot: wrote $out"
