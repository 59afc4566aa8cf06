#!/usr/bin/env bash
# live-findings: the findings table of docs/live.md: every target/configuration under its faults,
# several seeds each, judged by `mqharness live`; then the peer benchmark.
#
#   scripts/live-findings.sh OUTDIR [--seeds A..B] [--duration 60s] [CELL ...]
#   scripts/live-findings.sh OUTDIR --bench [--duration 20s] [TARGET ...]
#
# A CELL is "TARGET/CONFIG NEMESIS" (one argument), e.g. "redis-list/none kill".
# Without cells, every cell below runs (several hours at 5 seeds of 60 s). Each run's
# `summary:` line goes to OUTDIR/summary.txt, its output to OUTDIR/runs/, its history
# to OUTDIR/histories/; OUTDIR/findings.md is the table (totals over the seeds).
# RabbitMQ is started only for its own cells and stopped by mqharness after each run.
#
# Exit status: 0 every run held; 1 a run found a violation or failed (see
# OUTDIR/runs/); 2 a usage error, or build/apps/mqharness missing or stale (checked
# before any run).
set -euo pipefail
called_from=$PWD  # OUTDIR is where the user means it, not under the repository
cd "$(dirname "$0")/.."
# shellcheck source=lib/built.sh
source scripts/lib/built.sh

usage() { sed -n '2,/^set -/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "live-findings: $*" >&2; exit 2; }
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") die "OUTDIR is required; see --help" ;;
  -*) die "the first argument is OUTDIR, not an option ('$1'); see --help" ;;
esac
out=$1
[[ "$out" == /* ]] || out=$called_from/$out
shift
[[ ! -e "$out" || -d "$out" ]] || die "$out: not a directory"
seeds=1..5
duration=60s
bench=0
cells=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds)
      [[ $# -ge 2 && "$2" =~ ^[0-9]{1,20}(\.\.[0-9]{1,20})?$ ]] || die "--seeds needs 'A..B' or one seed 'S'"
      seeds=$2; shift 2 ;;
    --duration)
      [[ $# -ge 2 && "$2" =~ ^[0-9]{1,9}(\.[0-9]+)?(ms|s|m)?$ ]] || die "--duration needs a time such as 60s, 500ms, 2m"
      duration=$2; shift 2 ;;
    --bench) bench=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option '$1'; see --help" ;;
    *)
      # A cell is "TARGET/CONFIG NEMESIS"; with --bench a target name alone.
      [[ "$1" =~ ^[a-z0-9-]+(/[a-z0-9-]+ [a-z,]+)?$ ]] || die "'$1' is not a cell 'TARGET/CONFIG NEMESIS' or a target"
      cells+=("$1"); shift ;;
  esac
done
for cell in "${cells[@]}"; do
  if [[ $bench -eq 0 && "$cell" != */*" "* ]]; then die "'$cell' is not a cell 'TARGET/CONFIG NEMESIS'"; fi
done
harness=build/apps/mqharness
require_built live-findings build apps/mqharness "cmake --build build --target mqharness mq-powerfs"
mkdir -p "$out/runs" "$out/histories"

if [[ $bench -eq 1 ]]; then
  [[ ${#cells[@]} -eq 0 ]] && cells=(all)
  targets=$(IFS=,; echo "${cells[*]}")
  echo "# $(date -u +%Y-%m-%d) $harness live --bench --target $targets --duration $duration --producers 4 --consumers 4 --message-bytes 100" \
    | tee "$out/bench.txt"
  $harness live --bench --target "$targets" --duration "$duration" --producers 4 --consumers 4 --message-bytes 100 \
    --seed 1 --history "$out/histories/bench.jsonl" | tee -a "$out/bench.txt"
  exit 0
fi

if [[ ${#cells[@]} -eq 0 ]]; then
  cells=(
    "redis-list/none kill" "redis-list/none pause,partition"
    "redis-list/aof-everysec kill" "redis-list/aof-everysec power"
    "redis-list/aof-always kill" "redis-list/aof-always power" "redis-list/aof-always pause,partition"
    "redis-list/aof-always disk"
    "redis-stream/aof-always kill,pause,partition" "redis-stream/aof-everysec power"
    "rabbitmq-classic/durable kill" "rabbitmq-classic/durable power" "rabbitmq-quorum/durable kill"
    "nats-js/file-storage kill" "nats-js/file-storage power"
    "beanstalkd/no-binlog kill" "beanstalkd/binlog kill" "beanstalkd/binlog power" "beanstalkd/binlog-fsync-always power"
    "mqd/always kill,pause,partition" "mqd/always power" "mqd/always disk" "mqd/batch power"
    "mqd/never kill" "mqd/never power"
  )
fi

status=0
for cell in "${cells[@]}"; do
  read -r target nemesis <<<"$cell"
  tag="${target//\//.}.${nemesis//,/+}"
  # mqharness puts .TARGET.CONFIG.seedS before the extension.
  cmd="$harness live --target $target --nemesis $nemesis --seeds $seeds --duration $duration --history $out/histories/${nemesis//,/+}.jsonl"
  echo "live-findings: $(date -u +%H:%M:%S) $cmd" >&2
  echo "$(date -u +%Y-%m-%d) $cmd" >> "$out/commands.txt"
  if ! $cmd > "$out/runs/$tag.txt" 2>&1; then status=1; fi
  grep '^summary:' "$out/runs/$tag.txt" >> "$out/summary.txt" || echo "live-findings: $tag: no summary (see $out/runs/$tag.txt)" >&2
done

# Totals per target/config/nemesis over the seeds.
awk '
  function field(name,   i, kv) { for (i = 2; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == name) return kv[2] } return "" }
  {
    key = field("target") "/" field("config") " | " field("nemesis")
    if (!(key in runs)) order[++n] = key
    runs[key]++; ack[key] += field("acknowledged"); lost[key] += field("lost"); dup[key] += field("duplicated")
    unexp[key] += field("unexpected"); rec[key] += field("recovered"); faults[key] += field("faults")
    if (field("lost") > 0) lossy[key]++
    if (field("verdict") != "ok") viol[key]++
    claim[key] = field("claim")
  }
  END {
    print "| target/config | nemesis | seeds | faults | acknowledged | lost (runs with loss) | duplicated | unexpected | recovered | claim | violations |"
    print "|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; ++i) { k = order[i]; split(k, p, " \\| ")
      printf "| %s | %s | %d | %d | %d | %d (%d) | %d | %d | %d | %s | %d |\n", p[1], p[2], runs[k], faults[k], ack[k], lost[k], lossy[k] + 0, dup[k], unexp[k], rec[k], claim[k], viol[k] + 0 }
  }' "$out/summary.txt" > "$out/findings.md"
cat "$out/findings.md"
exit $status
