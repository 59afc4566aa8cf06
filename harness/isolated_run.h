#pragma once
// Simulator runs in child processes (harness/child_pool.h): a failure that kills a
// run (an always-on assertion, MQ_CHECK, in the broker, the simulator or a checker;
// a run past its time limit) becomes that run's verdict instead of taking the caller
// down with it. run_isolated() is one run judged in a child: judge()'s verdicts, or
// the pseudo-property "assertion" with the failed condition when the child dies, or
// "watchdog" when it exceeds its time limit (it is killed). The sweep, `shrink` and
// the mutants report all run seeds this way.
//
// REQUIRES: the caller has no other threads running (the children are forked; see
// child_pool.h). REQUIRES for the mutant build: the fault is selected
// (impl::select_mutant) before; the children inherit the selection.
// Thread-safety: none; one caller at a time.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/child_pool.h"
#include "harness/judge.h"
#include "properties/checkers/verdict.h"
#include "sim/scenario.h"
#include "sim/shrink.h"
#include "sim/sim_params.h"
#include "sim/simulator.h"

namespace mq::harness {

// One run's verdicts as a child reported them.
struct RunVerdict {
  std::vector<std::pair<std::string, bool>> verdicts;  // property, held; in the report's order
  std::vector<std::string> failed;                     // properties that failed, in order; empty: all held
  std::vector<std::string> messages;                   // each failed property's message, one line
  std::string first_failure;                           // the first failure's message, one line
  uint64_t history_events = 0;                         // 0 when the child did not finish
  uint64_t violation_events = 0;     // the history up to the shadow's divergence; 0: none or unknown
  bool corruption_detected = false;  // recovery found the log corrupt where a bit was flipped
  bool died = false;                 // "assertion" or "watchdog": the run did not finish
  // What the run did (0 when it died): for a sweep's figures.
  uint64_t confirmed = 0;        // publishes confirmed to producers
  uint64_t faults_injected = 0;  // crashes, partitions, clogs, full disks
  uint64_t end_ns = 0;           // virtual time at its end
  double wall_s = 0;             // the child's wall time for the run (reporting only)
  // With SimOptions::record_choices, when the run recorded them all: its choices.
  std::vector<uint64_t> choices;
  bool choices_known = false;
  bool caught() const { return !failed.empty(); }
  bool fails(const std::string& property) const;
  // Whether some property other than the shadow comparison failed: the history
  // alone (checkers, liveness) or an assertion shows the bug.
  bool caught_without_shadow() const;
  // The failed properties a shrink of this run tries to keep failing, one shrink
  // each (the caller keeps the smallest reproducer): every one that failed other than
  // liveness, in the order they failed, then liveness. They cut differently: another
  // property's violation is a point in the history, after which the run can be cut,
  // and two such points can lie far apart in the smallest runs that keep each (a log
  // that recovery rebuilds wrong fails `recovery` at the crash, and `refinement` only
  // where a client sees it); liveness's is the whole healing phase, which a
  // reproducer keeps, but it may survive cuts of messages and faults that the others
  // do not. `shadow` false: the shadow only when nothing else failed (a history
  // checker must catch the run without it).
  // REQUIRES: caught(). At least one name.
  std::vector<std::string> shrink_targets(bool shadow) const;
};

// A failure "of the same kind" as one being shrunk: the same property, and for a run
// that dies, the same failed assertion (its file, line and condition).
struct Failure {
  std::string property;
  std::string assertion;  // a run that died: what it died of (kAssertion: a candidate must repeat it)
  bool same(const RunVerdict& v) const;
  // The failure of `property` that `found` shows. REQUIRES: found.fails(property).
  static Failure of(const RunVerdict& found, const std::string& property);
};
// A run's verdict as the shrinker's trial of `f` (the point of divergence counts only
// when the shadow is what is shrunk for).
sim::Trial trial_of(const RunVerdict& v, const Failure& f);
// sim::shrink (the one shrinker) of the failing run of `seed` for `f`, with the
// checkers as its judge: each candidate runs in a child (run_isolated, with `base`'s
// options and the candidate's cuts, killed past time_limit_s), and a cut is kept while
// a failure of f's kind remains. `first` is the run's own trial; at most `runs` runs.
sim::ShrinkOutcome shrink_for(const sim::Scenario& pinned, uint64_t seed, const sim::SimOptions& base,
                              const Failure& f, const sim::Trial& first, uint32_t runs, unsigned time_limit_s);
// Whether the shrink for the k-th of shrink_targets() replaces `best`, the one kept
// from those before it: the smaller reproducer; on a tie the first (its violation is
// a point).
inline bool replaces(size_t k, const sim::ShrinkOutcome& candidate, const sim::ShrinkOutcome& best) {
  return k == 0 || candidate.history_events < best.history_events;
}

// The report a child writes for one run (parsed by parse_run).
std::string run_report(const sim::Scenario& scenario, uint64_t seed, const sim::SimOptions& options);
RunVerdict parse_run(const ChildEnd& end);

// One run in a child process. `time_limit_s`: 0 for none.
RunVerdict run_isolated(const sim::Scenario& scenario, uint64_t seed, const sim::SimOptions& options,
                        unsigned time_limit_s);
// The mutants report's form: the run judged with the shadow.
RunVerdict run_isolated(const sim::Scenario& scenario, uint64_t seed, const sim::SimOverrides& overrides,
                        unsigned time_limit_s, uint64_t stop_after_events = 0);

// The schedule of a failing run, shrunk (sim::shrink_schedule): the run's inputs read
// back from its history, cut while `property` still fails when they are replayed on
// BrokerCore alone (run_on_core) and judged by check_all, each candidate in a child
// process. Only for properties check_all judges (not the shadow, liveness, recovery
// or a run that dies: those need the whole simulator). nullopt when the core alone
// does not reproduce the failure (a fault of the log, say).
struct ScheduleReproducer {
  History history;  // the replayed schedule: a trace (`replay` re-executes it on BrokerCore)
  size_t ops = 0;
  uint32_t runs = 0;
};
std::optional<ScheduleReproducer> shrink_run_schedule(const sim::Scenario& scenario, uint64_t seed,
                                                      const sim::SimOptions& options,
                                                      const std::string& property, uint32_t max_runs,
                                                      unsigned time_limit_s);

// Runs `seeds` in children, `jobs` at a time; calls done(index into seeds, verdict)
// in the order they finish. Between results it calls tick() at least every
// kTickMs (a progress line); once stop() is true it starts no more seeds and kills
// those running (their done() is never called). stop and tick may be empty.
inline constexpr int kTickMs = 100;
void run_seeds_isolated(const sim::Scenario& scenario, const std::vector<uint64_t>& seeds,
                        const sim::SimOptions& options, unsigned jobs, unsigned time_limit_s,
                        const std::function<void(size_t, const RunVerdict&)>& done,
                        const std::function<bool()>& stop = {}, const std::function<void()>& tick = {});
// The same over `count` seeds given by seed_at(k) (a sweep's shard is computed, never
// listed: memory does not grow with the range).
void run_seeds_isolated(const sim::Scenario& scenario, uint64_t count, const std::function<uint64_t(uint64_t)>& seed_at,
                        const sim::SimOptions& options, unsigned jobs, unsigned time_limit_s,
                        const std::function<void(uint64_t, const RunVerdict&)>& done,
                        const std::function<bool()>& stop = {}, const std::function<void()>& tick = {});

}  // namespace mq::harness
