#!/usr/bin/env bash
# Installs the Debian packages mqharness needs, and nothing else (chromium: the report
# tests open HTML reports in it, headless; graphviz: `dot` draws the state graphs). Idempotent: when
# every package is present it only asks dpkg, which takes well under a second.
#
#   scripts/setup.sh           every package: building, the tests, live runs, benchmarks
#   scripts/setup.sh --build   only what configuring and building needs (`./mq run`: on a
#                              fresh machine the brokers, chromium and Slurm are minutes
#                              of downloads its first seed does not need)
#
# Exit status: 0 every package installed; 1 apt-get failed; 2 a usage error, or not
# root and no sudo to install with.
set -euo pipefail
if [[ $# -gt 1 ]]; then
  echo "setup: takes at most one argument (got: $*); see --help" >&2
  exit 2
fi
case "${1:-}" in
  "" | --build) ;;
  -h | --help) sed -n '2,/^set -/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup: unknown argument '$1' (usage: scripts/setup.sh [--build]); see --help" >&2; exit 2 ;;
esac

# Configuring the project finds every one of these (CMakeLists.txt, impl/, live/).
build_packages=(
  g++ cmake ninja-build ccache pkg-config
  libgtest-dev libgmock-dev librapidcheck-dev
  libboost-graph-dev libbenchmark-dev libconcurrentqueue-dev
  nlohmann-json3-dev libcli11-dev
  # mqd speaks RESP (hiredis's reader and client)
  libhiredis-dev
  # live runs' client libraries and the power-loss file system (live/)
  librabbitmq-dev libnats-dev libfuse3-dev
)
# What the tests, live runs and tools use at run time.
run_packages=(
  # mqd's tests use redis-cli, its benchmark redis-server.
  redis-server redis-tools
  # scripts/slurm-sweep's test starts a throwaway single-node Slurm cluster (label slurm).
  slurm-wlm munge
  # the HTML reports' browser tests and state graphs
  chromium graphviz
  # live runs (docs/live.md): the brokers and the fault tools
  rabbitmq-server nats-server beanstalkd
  fiu-utils fuse3 iproute2
  # the explorer's benchmark beside SPIN (bench/spin)
  spin
  # the fuzz targets (docs/fuzzing.md): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-dev
  # scripts/coverage: source-based line and branch coverage of impl/ reached by the
  # default sweep (clang above, llvm-profdata and llvm-cov)
  llvm
)

case "${1:-}" in
  "") packages=("${build_packages[@]}" "${run_packages[@]}") ;;
  --build) packages=("${build_packages[@]}") ;;
  *) echo "usage: scripts/setup.sh [--build]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# The brokers are packages with services: the tests start their own servers on free
# ports, so the packages' services are not started (policy-rc.d, while installing).
added_policy=""
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  added_policy=1
fi
trap '[[ -n "$added_policy" ]] && $sudo rm -f /usr/sbin/policy-rc.d' EXIT
# A fresh machine may have empty package lists; refresh them only when needed.
if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}"; then
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
