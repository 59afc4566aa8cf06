#!/usr/bin/env bash
# scripts/slurm-sweep on a real, throwaway single-node Slurm cluster started here
# (ctest label "slurm"; docs/simulator.md, "Sweeps on many machines"):
#   1. a 4-task array sweep whose shard 2 fails on its first try (a wrapper around the
#      binary fails it once, as a lost node would): the front end must name the shard,
#      its task, state and log, exit 3, and --resubmit must run that shard alone; the
#      merged summary must then equal a local sweep of the same range byte for byte,
#      apart from "timing";
#   2. the mutant build (ttl-off-by-one) swept with --no-wait and --collect: the failing
#      seeds, from three shards, are reported in seed order with their reproduce lines,
#      equal to a local sweep, and a kept run file replays.
# Both sweep scenarios/stormy.json (400 messages a seed, every fault on), which keeps the
# test short.
#
#   tests/slurm_sweep_test.sh SOURCE_DIR MQHARNESS MQHARNESS_MUTANTS
#
# The cluster: munged, slurmctld and slurmd (Debian slurm-wlm, munge) with a key,
# sockets, state, spool and logs under a new temporary directory, free TCP ports on
# 127.0.0.1, and a slurm.conf that needs no cgroups (proctrack/linuxproc, task/none,
# no accounting); see docs/simulator.md for why each setting. Every daemon is stopped
# by its pid at the end, also on failure; then any process still carrying this
# cluster's SLURM_CONF (a job step left behind) is stopped by pid too.
#
# Exit status: 0 passed, 1 failed, 77 skipped (the reason printed: not root, or a
# package missing).
set -euo pipefail

src=$(realpath "${1:?usage: slurm_sweep_test.sh SOURCE_DIR MQHARNESS MQHARNESS_MUTANTS}")
mqharness=$(realpath "${2:?}")
mutants=$(realpath "${3:?}")

readonly kStartWaitS=30  # each daemon's start
readonly kStopWaitS=10   # each daemon's stop, before SIGKILL
readonly kSweepWaitS=150 # one slurm-sweep, submission to merge
readonly kPortTries=50
readonly kMutant=ttl-off-by-one
# Of stormy's seeds 9..20, ttl-off-by-one breaks 10, 19 and 20 (shards 2, 3 and 0 of 4).
readonly kMutantSeeds=9..20

skip() { echo "SKIP: $*"; exit 77; }
fail() {
  echo "FAIL: $*"
  exit 1
}

[[ $(id -u) -eq 0 ]] || skip "slurmd must run as root to start jobs, and this runs as uid $(id -u) (CI and this machine run the tests as root)"
for c in munged munge unmunge slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
  command -v "$c" >/dev/null || skip "'$c' is not installed: scripts/setup.sh installs Debian's slurm-wlm and munge"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/mq-slurm-test.XXXXXX")
# munged refuses a socket in a directory that not everyone may enter.
chmod 755 "$T"
conf=$T/slurm.conf
munged_pid="" ctld_pid="" slurmd_pid=""

# slurm CMD...: a Slurm command against this cluster only.
slurm() { SLURM_CONF=$conf "$@"; }

# stop_pid PID NAME: SIGTERM, then SIGKILL after kStopWaitS.
stop_pid() {
  local pid=$1 name=$2 i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < kStopWaitS * 10; ++i)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "cleanup: $name (pid $pid) ignored SIGTERM for $kStopWaitS s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i p
  set +e
  if [[ -n "$ctld_pid" ]] && kill -0 "$ctld_pid" 2>/dev/null; then
    slurm scancel --quiet --user="$(id -un)" 2>/dev/null
    for ((i = 0; i < kStopWaitS * 10; ++i)); do
      [[ -z "$(slurm squeue -h 2>/dev/null)" ]] && break
      sleep 0.1
    done
  fi
  stop_pid "$slurmd_pid" slurmd
  stop_pid "$ctld_pid" slurmctld
  # A job step (slurmstepd and its task) outlives slurmd; each carries SLURM_CONF=$conf.
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ "$p" == "$$" ]] && continue
    if { tr "\0" "\n" <"/proc/$p/environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$conf"; then
      echo "cleanup: pid $p ($(cat "/proc/$p/comm" 2>/dev/null)) of this cluster outlived slurmd; stopping it"
      stop_pid "$p" "pid $p"
    fi
  done
  stop_pid "$munged_pid" munged
  if [[ $rc -ne 0 && $rc -ne 77 ]]; then
    for log in "$T"/log/*; do
      [[ -f "$log" ]] || continue
      echo "---- last lines of $log"
      tail -n 15 "$log"
    done
  fi
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the cluster ----

port_in_use() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v p="$hex" 'NR > 1 && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

free_port() {
  local i p
  for ((i = 0; i < kPortTries; ++i)); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  fail "no free TCP port found in $kPortTries tries"
}

# wait_until SECONDS WHAT CMD...: polls CMD every 0.2 s.
wait_until() {
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit * 5; ++i)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "$what: not after $limit s"
}

mkdir -p "$T/munge" "$T/state" "$T/spool/slurmd-mqnode" "$T/log"
chmod 755 "$T/munge"
head -c 1024 /dev/urandom >"$T/munge/munge.key"
chmod 400 "$T/munge/munge.key"
munged -F --socket="$T/munge/munge.sock" --key-file="$T/munge/munge.key" --pid-file="$T/munge/munged.pid" \
  --seed-file="$T/munge/munged.seed" >"$T/log/munged.log" 2>&1 &
munged_pid=$!
munge_roundtrip() { munge -n -S "$T/munge/munge.sock" | unmunge -S "$T/munge/munge.sock"; }
wait_until "$kStartWaitS" "munged answering on $T/munge/munge.sock" munge_roundtrip

ctld_port=$(free_port)
slurmd_port=$(free_port)
[[ "$ctld_port" != "$slurmd_port" ]] || slurmd_port=$((ctld_port + 1))
cat >"$conf" <<EOF
# A throwaway single-node cluster (tests/slurm_sweep_test.sh). No cgroups: a container
# or a VM without a delegated cgroup tree cannot give slurmd one.
ClusterName=mqtest$$
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool/slurmd-%n
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd-%n.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=mqnode NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=4 State=UNKNOWN
PartitionName=mq Nodes=mqnode Default=YES MaxTime=INFINITE State=UP
EOF
SLURM_CONF=$conf slurmctld -D -f "$conf" >"$T/log/slurmctld.out" 2>&1 &
ctld_pid=$!
wait_until "$kStartWaitS" "slurmctld answering on port $ctld_port" slurm scontrol ping
SLURM_CONF=$conf slurmd -D -N mqnode -f "$conf" >"$T/log/slurmd.out" 2>&1 &
slurmd_pid=$!
node_idle() { [[ "$(slurm sinfo -h -n mqnode -o %t)" == idle ]]; }
wait_until "$kStartWaitS" "node mqnode idle" node_idle
echo "cluster up: slurmctld pid $ctld_pid port $ctld_port, slurmd pid $slurmd_pid port $slurmd_port, munged pid $munged_pid, in $T"

# ---- helpers ----

# The summary without its last field, "timing" (what two runs of a sweep may differ in).
strip_timing() { sed 's/,"timing":{[^}]*}}$/}/' "$1"; }

same_summary() {
  local a=$1 b=$2
  [[ -f "$a" ]] || fail "$a was not written"
  [[ -f "$b" ]] || fail "$b was not written"
  if ! cmp -s <(strip_timing "$a") <(strip_timing "$b"); then
    diff <(strip_timing "$a" | tr ',' '\n') <(strip_timing "$b" | tr ',' '\n') | head -20
    fail "$b differs from $a (apart from timing)"
  fi
  echo "ok: $b equals $a apart from timing"
}

expect_in() {
  local file=$1 pattern=$2
  grep -Eq -- "$pattern" "$file" || { cat "$file"; fail "no line matching /$pattern/ in the output above"; }
}

sweep_front() { SLURM_CONF=$conf "$src/scripts/slurm-sweep" --poll-s 0.3 --max-wait-s "$kSweepWaitS" "$@"; }

# ---- 1. a shard lost on its first try, resubmitted alone; equal to a local sweep ----

scenario=$(realpath "$src/scenarios/stormy.json")
flaky=$T/flaky-mqharness
cat >"$flaky" <<EOF
#!/bin/sh
# Fails the first try of shard 2/4 (as a lost node would); otherwise the real binary.
for a in "\$@"; do
  if [ "\$a" = 2/4 ] && mkdir "$T/flaky.failed-once" 2>/dev/null; then
    echo "flaky: shard 2/4 fails this once" >&2
    exit 2
  fi
done
exec "$mqharness" "\$@"
EOF
chmod 755 "$flaky"

rc=0
sweep_front --binary "$flaky" --out "$T/slurm" --array-size 4 -- --seeds 1..12 --scenario "$scenario" \
  >"$T/first.txt" 2>&1 || rc=$?
[[ $rc -eq 3 ]] || { cat "$T/first.txt"; fail "slurm-sweep with a failed task: exit $rc, expected 3"; }
expect_in "$T/first.txt" '^MISSING: shard 2/4 \(its 3 seeds s of 1..12 with s % 4 == 2\)'
expect_in "$T/first.txt" '^slurm-sweep: shard 2/4 missing: task [0-9]+_2 FAILED \(exit 2:0\)'
expect_in "$T/first.txt" 'flaky: shard 2/4 fails this once'
expect_in "$T/first.txt" "scripts/slurm-sweep --resubmit $T/slurm"
[[ ! -e "$T/slurm/summary.json" ]] || fail "a summary was written with a shard missing"
echo "ok: the failed task was named, with its state and log, and nothing was merged"

rc=0
sweep_front --resubmit "$T/slurm" >"$T/second.txt" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || { cat "$T/second.txt"; fail "slurm-sweep --resubmit: exit $rc, expected 0"; }
expect_in "$T/second.txt" '^slurm-sweep: submitted job [0-9]+: shards 2 of 4'
expect_in "$T/second.txt" '^complete: every shard reported once; 12 runs = the range 1..12'
expect_in "$T/second.txt" "^PASS: 12 seeds of 'stormy'"

"$mqharness" sweep --seeds 1..12 --scenario "$scenario" --jobs 2 --out "$T/local" >"$T/local.txt" 2>&1 ||
  { cat "$T/local.txt"; fail "the local sweep failed"; }
same_summary "$T/local/summary.json" "$T/slurm/summary.json"

# ---- 2. the mutant build on Slurm: the failing seed, its reproduce line and run file ----

sweep_front --binary "$mutants" --out "$T/mutant" --array-size 4 --no-wait -- --mutant "$kMutant" \
  --seeds "$kMutantSeeds" --scenario "$scenario" >"$T/submit.txt" 2>"$T/submit.err" || { cat "$T/submit.txt" "$T/submit.err"; fail "submission"; }
grep -Eqx '[0-9]+' "$T/submit.txt" || { cat "$T/submit.txt"; fail "--no-wait printed no job id"; }
rc=0
sweep_front --collect "$T/mutant" >"$T/collect.txt" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || { cat "$T/collect.txt"; fail "slurm-sweep --collect of a mutant sweep: exit $rc, expected 1"; }
failing=$(grep -E '^FAIL seed [0-9]+: ' "$T/collect.txt" | sed -E 's/^FAIL seed ([0-9]+): .*/\1/' | tr '\n' ' ')
[[ "$failing" == "10 19 20 " ]] || { cat "$T/collect.txt"; fail "failing seeds '$failing', expected '10 19 20 '"; }
for seed in 10 19 20; do
  expect_in "$T/collect.txt" "^  reproduce: $mutants run --mutant $kMutant --scenario $scenario --seed $seed\$"
  expect_in "$T/collect.txt" "^  history: $T/mutant/runs/seed-$seed.jsonl\$"
done
expect_in "$T/collect.txt" "^FAIL: 3 of 12 seeds of 'stormy' broke a property"
"$mutants" sweep --mutant "$kMutant" --seeds "$kMutantSeeds" --scenario "$scenario" --jobs 2 --out "$T/mutant-local" \
  >"$T/mutant-local.txt" 2>&1 && fail "the local mutant sweep passed"
same_summary "$T/mutant-local/summary.json" "$T/mutant/summary.json"
"$mutants" replay --mutant "$kMutant" "$T/mutant/runs/seed-19.jsonl" >"$T/replay.txt" 2>&1 || true
expect_in "$T/replay.txt" '^REPRODUCED: [0-9]+ events identical'
echo "ok: the mutant's failing seeds 10, 19 and 20 were reported from Slurm, and a kept run file replays"
echo "PASS"
