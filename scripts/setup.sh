#!/usr/bin/env bash
# Installs the Debian packages mqharness needs, and nothing else (chromium: the report
# tests open HTML reports in it, headless; graphviz: `dot` draws the state graphs). Idempotent: when
# every package is present it only asks dpkg, which takes well under a second.
#
#   scripts/setup.sh        (no arguments)
#
# Exit status: 0 every package installed; 1 apt-get failed; 2 a usage error, or not
# root and no sudo to install with.
set -euo pipefail
case "${1:-}" in
  "") ;;
  -h | --help) sed -n '2,/^set -/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup: takes no arguments (got: $*); see --help" >&2; exit 2 ;;
esac

packages=(
  g++ cmake ninja-build ccache pkg-config
  libgtest-dev libgmock-dev librapidcheck-dev
  libboost-graph-dev libbenchmark-dev libconcurrentqueue-dev
  nlohmann-json3-dev libcli11-dev
  # mqd speaks RESP (hiredis's reader and client); its tests use redis-cli, its
  # benchmark redis-server.
  libhiredis-dev redis-server redis-tools
  # scripts/slurm-sweep's test starts a throwaway single-node Slurm cluster (label slurm).
  slurm-wlm munge
  # the HTML reports' browser tests and state graphs
  chromium graphviz
  # live runs (docs/live.md): the brokers, their client libraries, the fault tools
  rabbitmq-server librabbitmq-dev nats-server libnats-dev beanstalkd
  fiu-utils libfuse3-dev fuse3 iproute2
  # the explorer's benchmark beside SPIN (bench/spin)
  spin
  # the fuzz targets (docs/fuzzing.md): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-dev
  # scripts/coverage: line and branch coverage of impl/ reached by the default sweep
  gcovr
)

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
