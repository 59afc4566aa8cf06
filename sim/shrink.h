#pragma once
// shrink(): makes a failing run smaller while the same property keeps failing. The
// one shrinker of the project: `mqharness shrink` and `mqharness-mutants` both call
// it. The caller says what "still fails" means (a predicate over a Reproducer), so
// the same machinery judges runs with the checkers (apps/; sim/ never depends on
// properties/) or in a child process that may die on an assertion (mutants/).
//
// What it cuts, in this order within each pass (delta debugging, greedy: within a
// family the biggest cut is tried first, and the first cut that still fails is kept):
//   1. the message count (to 1, 2, 3, then halves and smaller steps);
//   2. the fault kinds (all at once, then one by one), and the probabilities of those
//      still on each to one point (certain, or the range's upper end: a fault that
//      must happen then happens with fewer messages);
//   3. the faulty phase (to 0, 1/8, 1/2);
//   4. the topology: queues, consumers, producers, topics, workload targets (one
//      removed at a time, with what refers to it), through the scenario's JSON, so a
//      cut that leaves an invalid scenario is never run;
//   5. the healing phase (1/16, 1/2), capacities (to 1, halved), priority levels (to
//      1, one fewer), retries (to 0, halved), prefetch (to 1);
//   6. rates, sizes and times: TTL and delay shares to 0, every range of the
//      workload, the clients and the network to its low end.
// Passes repeat until one keeps nothing. Then the prefix: the smallest
// stop_after_events at which the property still fails (a binary search; for a run
// that dies, whose length is unknown, first a doubling search), so the reproducer is
// the history up to and including its first violation. Then the run's choices
// (sim/choices.h: its messages, the nemesis's faults, nacks, lost and duplicated
// packets, as the predicate's Trial reports them): delta debugging (ddmin, complements
// only) over them, each candidate the whole simulation again with those choices
// skipped (SimOverrides::skipped_choices), so a failure that needs the log, a crash of
// the node or liveness shrinks as well as one the core alone shows; for a run that
// dies, the choices made before its abort (a probe stopped one event short). After a
// kept cut, the prefix again.
//
// Deterministic: same inputs and predicate answers, same result. Bounded: at most
// max_runs predicate calls (kDefaultShrinkRuns is the commands' default): the
// scenario's families take what they need up to all but a fifth and the prefix's
// share; the choices get what is left.
// Thread-safety: none of its own; the predicate decides.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/history.h"
#include "model/op.h"
#include "sim/scenario.h"
#include "sim/sim_params.h"

namespace mq::sim {

inline constexpr uint32_t kDefaultShrinkRuns = 600;

// A candidate reproducer: the scenario (possibly cut down; its `text` is the JSON it
// was parsed from, which a run file embeds), the overrides, and where the run stops.
struct Reproducer {
  Scenario scenario;
  SimOverrides overrides;
  uint64_t stop_after_events = 0;  // 0: the whole run (SimOptions::stop_after_events)
};

// The predicate's answer for one run.
struct Trial {
  bool fails = false;           // the same property failed
  uint64_t history_events = 0;  // the run's history; 0: unknown (the run died)
  // How many history events the run holds up to its first violation, where the
  // judge knows (the shadow's divergence: events_until(its time)); 0: unknown. A cut
  // that moves a known violation later is not kept (it would make the prefix longer).
  uint64_t violation_events = 0;
  // The choices the run made (SimResult::choices, sim/choices.h), when the judge
  // recorded them completely: what the choice stage cuts from.
  std::vector<uint64_t> choices;
  bool choices_known = false;
};
using StillFails = std::function<Trial(const Reproducer&)>;

// The next smaller reproducers to try from `r`, in families, each family's biggest
// cut first; each candidate differs from `r` and its scenario parses. `what` (when
// given) receives one line per candidate saying what was cut.
// `keep_healing`: the healing phase is not cut (when the property is liveness: "not
// finished by the end of the healing phase" must not be made true by shortening it).
std::vector<std::vector<Reproducer>> shrink_families(const Reproducer& r,
                                                     std::vector<std::vector<std::string>>* what = nullptr,
                                                     bool keep_healing = false);

// One line: the reproducer's messages, topology, fault kinds, phases and cut.
std::string summary(const Reproducer& r);

struct ShrinkOutcome {
  Reproducer reproducer;         // the smallest found (`start` if nothing smaller fails)
  uint64_t history_events = 0;   // its history as the predicate last saw it (the prefix);
                                 // for a run that dies: the events before the event that aborts
  uint32_t runs = 0;             // predicate calls made
  uint32_t steps = 0;            // cuts kept
  std::vector<std::string> cuts; // what each kept cut did, in order
};

// REQUIRES: start_trial == still_fails(start) (not re-checked); start.scenario has no
// swarm section (pin the seed's draw first: draw_scenario, sim/swarm.h; the cuts edit
// the scenario's JSON, which a swarm rule would redraw). At most max_runs predicate
// calls.
ShrinkOutcome shrink(const Reproducer& start, const Trial& start_trial, const StillFails& still_fails,
                     uint32_t max_runs, bool keep_healing = false);

// The number of events of `h` at or before `time_ns` (the prefix up to a violation
// observed at that time).
uint64_t events_until(const History& h, TimeNs time_ns);

// ---- shrinking the schedule ----
// shrink_schedule(): after the scenario is as small as it gets, delta debugging
// (Zeller's ddmin, complements only) over the run itself: its inputs as trace_ops()
// reads them back from its history (sim/trace_replay.h): the clients' operations, the
// broker's pushes (dispatches), crashes and recoveries, and the advances of time. A
// candidate is a subsequence of them; the predicate replays it (the commands replay it
// on BrokerCore, run_on_core, and judge the history with the checkers, in a child
// process) and says whether the same property still fails. Chunks are cut from halves
// down to single operations (cutting the tail is the prefix up to the violation),
// greedily, until no single cut keeps the failure. This reaches what cutting scenario
// parameters cannot: a run that needs one consumer without credit at one moment and
// credit back at a later one, without every other message of the workload.
// Deterministic; at most max_runs predicate calls.
struct ScheduleOutcome {
  std::vector<Op> ops;          // the smallest schedule found (the start if none)
  uint64_t history_events = 0;  // its replayed history, as the predicate saw it
  uint32_t runs = 0;            // predicate calls made
};
using ScheduleFails = std::function<Trial(const std::vector<Op>&)>;
// REQUIRES: start == still_fails(ops), start.fails.
ScheduleOutcome shrink_schedule(const std::vector<Op>& ops, const Trial& start,
                                const ScheduleFails& still_fails, uint32_t max_runs);

}  // namespace mq::sim
