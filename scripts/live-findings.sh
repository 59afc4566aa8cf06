#!/usr/bin/env bash
# The findings table of docs/live.md: every target/configuration under its faults,
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
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:?usage: scripts/live-findings.sh OUTDIR [--bench] [--seeds A..B] [--duration D] [CELL ...]}
shift
seeds=1..5
duration=60s
bench=0
cells=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --bench) bench=1; shift ;;
    *) cells+=("$1"); shift ;;
  esac
done
harness=build/apps/mqharness
[[ -x $harness ]] || { echo "live-findings: build first (cmake --build build --target mqharness mq-powerfs)" >&2; exit 2; }
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
