# Sourced (not run) by the scripts that run a program of a build directory. A user who
# has not built yet, built elsewhere, or changed a source since gets a message for
# each case, and exit status 2 (README "One convention for every command"):
#   no such build directory / not a directory / the program missing / a directory
#   where the program is expected / not executable / stale (ninja would rebuild it:
#   a source, a CMakeLists or the configuration changed since it was built).
#
#   require_built WHO BUILD_DIR OUTPUT HOW
#     WHO        the script's name, for its messages
#     BUILD_DIR  a CMake build directory (Ninja generator: the presets' own)
#     OUTPUT     the program, relative to BUILD_DIR (apps/mqharness, tests/fuzz/wal_fuzz)
#     HOW        the command that builds it, printed in the messages
#
# Staleness is ninja's own answer (`ninja -d explain -n OUTPUT`: why it would rebuild).
# The step that runs at every build whatever changed (the git revision header,
# mq_version) is not a change of the program's sources; without ninja or a
# build.ninja the check is skipped and says so.

require_built() {
  local who=$1 dir=$2 output=$3 how=$4
  local path="$dir/$output" plan causes
  refuse() { echo "$who: $*" >&2; exit 2; }
  [[ -e "$dir" ]] || refuse "$dir: no such build directory; build it with: $how"
  [[ -d "$dir" ]] || refuse "$dir: not a directory (a build directory is expected)"
  [[ ! -d "$path" ]] || refuse "$path: is a directory, not a program"
  [[ -e "$path" ]] || refuse "$path: missing (not built); build it with: $how"
  [[ -x "$path" ]] || refuse "$path: not executable"
  if [[ ! -f "$dir/build.ninja" ]] || ! command -v ninja >/dev/null; then
    echo "$who: $dir: not a Ninja build (or no ninja): cannot tell whether $output is up to date" >&2
    return 0
  fi
  plan=$(ninja -C "$dir" -d explain -n "$output" 2>&1) || refuse "$dir: ninja cannot plan $output: $plan"
  # ninja's reasons: a root cause ("output X older than most recent input Y", "command
  # line changed", "doesn't exist") per edge, then "is dirty" for what follows from it.
  causes=$(grep '^ninja explain: ' <<<"$plan" | grep -v ' is dirty$' | grep -v 'mq_version' || true)
  if [[ -n "$causes" ]]; then
    refuse "$path: stale: changed since it was built ($(head -1 <<<"${causes#ninja explain: }" | sed 's/ ([0-9]* vs [0-9]*)$//'));" \
      "rebuild it with: $how"
  fi
}
