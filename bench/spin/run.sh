#!/usr/bin/env bash
# The explorer beside SPIN on the configuration of configs/explore-medium.json, in
# one run on one machine: states, processor seconds, states per processor second and
# bytes per stored state for each, and the ratio of the explorer's states per
# processor second to SPIN's, which a loaded machine moves less than either figure
# (bench/spin/README.md).
#
# Usage: bench/spin/run.sh [path/to/mqharness]   (default: build-release/apps/mqharness)
# Needs Debian's spin and gcc (scripts/setup.sh installs them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
harness=${1:-$root/build-release/apps/mqharness}
command -v spin >/dev/null || { echo "run.sh: spin is not installed (scripts/setup.sh installs it)" >&2; exit 2; }
[[ -x "$harness" ]] || { echo "run.sh: no $harness (cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release && cmake --build build-release --target mqharness)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/explore_medium.pml" "$work/"

# CPU seconds (user + system) of a command, from GNU time's "%U %S" on fd 3.
cpu_of() { awk '{print $1 + $2}' "$1"; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
# Processor seconds the whole machine spent busy so far (user, nice, system, irq,
# softirq, steal of /proc/stat): the busy time during a run minus the run's own is
# what other processes took from it, which says whether a wall-time figure (the
# two-thread speed-up) was measured on free cores.
tick=$(getconf CLK_TCK)
busy_s() { awk -v t="$tick" '/^cpu / {print ($2 + $3 + $4 + $7 + $8 + $9) / t}' /proc/stat; }

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "spin: $(spin -V 2>&1 | head -1)"
# -o2: keep every variable (by default SPIN drops those written and never read, such
# as the fates the model keeps, and merges states the explorer tells apart).
(cd "$work" && spin -o2 -a explore_medium.pml >/dev/null && gcc -O2 -DSAFETY -DNOREDUCE -o pan pan.c 2>/dev/null)
# -w22: a hash table of 4M slots (chained), about one per state, so that SPIN's memory
# is its states' and not an oversized table; -m1000: the depth is below 300.
/usr/bin/time -f "%U %S" -o "$work/spin.time" "$work/pan" -E -m1000 -w22 > "$work/spin.out" 2>&1
spin_states=$(awk '/states, stored/ {print $1}' "$work/spin.out")
spin_mem=$(awk '/total actual memory usage/ {print $1}' "$work/spin.out")
spin_state_mem=$(awk '/actual memory usage for states/ {print $1}' "$work/spin.out")
spin_cpu=$(cpu_of "$work/spin.time")
spin_rate=$(div "$spin_states" "$spin_cpu")
grep -q "errors: 0" "$work/spin.out" || { echo "run.sh: SPIN found an error:"; cat "$work/spin.out"; exit 1; }

# One run of explore on the configuration: its output in x.out, its "user system
# wall" seconds in x.time; ends the script if it fails or does not prove.
explore_timed() {  # arguments of explore
  /usr/bin/time -f "%U %S %e" -o "$work/x.time" "$harness" explore --config "$root/configs/explore-medium.json" \
    "$@" > "$work/x.out" 2>&1 || { cat "$work/x.out"; exit 1; }
  grep -q "^PROVED" "$work/x.out" || { echo "run.sh: explore did not prove:"; cat "$work/x.out"; exit 1; }
}
wall_of() { awk '{print $3}' "$work/x.time"; }

run_explorer() {  # label, arguments of explore; sets wall and others
  local label=$1; shift
  local before
  before=$(busy_s)
  explore_timed "$@"
  wall=$(wall_of)
  others=$(awk -v a="$before" -v b="$(busy_s)" -v own="$(cpu_of "$work/x.time")" \
    'BEGIN {o = b - a - own; printf "%.2f", o < 0 ? 0 : o}')
  local states cpu bytes
  states=$(sed -n 's/^states \([0-9]*\), .*/\1/p' "$work/x.out")
  bytes=$(sed -n 's/.*; \([0-9.]*\) bytes per visited state.*/\1/p' "$work/x.out")
  cpu=$(cpu_of "$work/x.time")
  printf "%-34s %10s states %8.2f cpu s %10.0f states/cpu s %8.1f bytes/state %5.2fx SPIN's states/cpu s (%s s wall; others: %s cpu s)\n" \
    "$label" "$states" "$cpu" "$(div "$states" "$cpu")" "$bytes" "$(div "$(div "$states" "$cpu")" "$spin_rate")" \
    "$wall" "$others"
}

printf "%-34s %10s states %8.2f cpu s %10.0f states/cpu s %8.1f bytes/state (%s MB total, %s MB states)\n" \
  "spin -o2 -a; pan -E -w22 (SAFETY)" "$spin_states" "$spin_cpu" "$(div "$spin_states" "$spin_cpu")" \
  "$(div "$(awk -v m="$spin_mem" 'BEGIN {print m * 1048576}')" "$spin_states")" "$spin_mem" "$spin_state_mem"
run_explorer "explore --no-symmetry -j1" --no-liveness --no-symmetry -j 1
# The same state graph: the same number of states (the explorer's without symmetry).
if [[ "$spin_states" != "$(sed -n 's/^states \([0-9]*\), .*/\1/p' "$work/x.out")" ]]; then
  echo "run.sh: SPIN and the explorer (--no-symmetry) count different states" >&2
  exit 1
fi
echo "same state count: $spin_states"
wall1=$wall others1=$others

run_explorer "explore --no-symmetry -j2" --no-liveness --no-symmetry -j 2
echo "two threads: $(div "$wall1" "$wall" | xargs printf "%.2f")x the wall-time speed of one (other processes took $others1 and $others cpu s during the two runs)"
# One pair is not the figure: a run's wall time moves with the memory it is given. In
# a virtual machine, fresh memory that the host has reclaimed takes 0.35-0.75 GB/s to
# fault in, memory it still backs 15-30 GB/s, and which one a run gets depends on what
# ran just before it (the first run of a pair often pays the most). So six more pairs,
# three with one thread first and three with two threads first, and the median of
# their six speed-ups (the mean of the middle two), beside each order's own.
# six_pairs LABEL [explore arguments]: the six pairs and their line.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
six_pairs() {
  local label=$1; shift
  local -A pair_wall  # [threads]
  local ratios=() first1=() first2=() round j r order
  for round in 1 2 3 4 5 6; do
    order=(1 2)
    ((round % 2 == 0)) && order=(2 1)
    for j in "${order[@]}"; do
      explore_timed --no-liveness "$@" -j "$j"
      pair_wall[$j]=$(wall_of)
    done
    r=$(div "${pair_wall[1]}" "${pair_wall[2]}")
    ratios+=("$r")
    if ((round % 2 == 0)); then first2+=("$r"); else first1+=("$r"); fi
  done
  echo "$label, six more pairs: one thread first $(printf '%.2fx ' "${first1[@]}"); two threads first $(printf '%.2fx ' "${first2[@]}")(median of the six $(median "${ratios[@]}")x)"
}
six_pairs "two threads" --no-symmetry
# The same with symmetry, the search's default (a smaller graph: not SPIN's).
six_pairs "two threads with symmetry"
run_explorer "explore (symmetry) -j1" --no-liveness -j 1
# The fair-cycle search on the same graph (it keeps every edge; symmetry is off for it).
run_explorer "explore (liveness) -j1" -j 1
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
