#!/usr/bin/env bash
# Regenerates docs/report-timeline.png, the picture of a failing run's report that the
# README shows: the named fault `reversed-priority` (the origin document's heap, which
# delivers the lowest priority first) on seed 2 of the default scenario (its first
# failing seed, docs/mutants.md), its report opened in headless Chromium: the verdict
# table, the witnesses and the timeline, whose first view is the window around the
# first witness event.
#
#   scripts/report-screenshot.sh [OUT.png]
#
# Exit status: 0 written; 1 the mutant run did not fail as it must, or no picture came
# out; 2 a usage error (checked before building).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h | --help) sed -n '2,/^set -/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*) echo "report-screenshot: unknown option '$1'; see --help" >&2; exit 2 ;;
esac
if [[ $# -gt 1 ]]; then echo "report-screenshot: one argument at most, OUT.png (got $#); see --help" >&2; exit 2; fi
out=${1:-docs/report-timeline.png}
if [[ -d "$out" ]]; then echo "report-screenshot: $out: is a directory, not a file" >&2; exit 2; fi
if [[ ! -d "$(dirname "$out")" ]]; then
  echo "report-screenshot: $out: its directory $(dirname "$out") does not exist" >&2
  exit 2
fi
out=$(realpath -m "$out")
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target mqharness-mutants
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The run fails (that is the point): exit status 1.
status=0
build/mutants/mqharness-mutants --only reversed-priority --run 2 --report "$work/report" >"$work/run.log" || status=$?
if [[ $status -ne 1 ]]; then
  cat "$work/run.log" >&2
  echo "report-screenshot: expected the mutant run to fail (exit 1), got $status" >&2
  exit 1
fi
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$work/profile" \
  --run-all-compositor-stages-before-draw --virtual-time-budget=10000 \
  --window-size=1400,1560 --screenshot="$out" "file://$work/report/index.html" 2>/dev/null
# Chromium exits 0 also when it wrote nothing (a sandbox or GPU problem).
if [[ ! -s "$out" || "$out" -ot "$work/run.log" ]]; then
  echo "report-screenshot: chromium wrote no picture to $out" >&2
  exit 1
fi
echo "report-screenshot: wrote $out"
