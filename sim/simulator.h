#pragma once
// simulate(): one deterministic run of a scenario with a seed.
//
// The world: virtual time and one agenda ordered by (time, seq); the broker node
// running the real BrokerCore (with the model as a shadow), the producers and
// consumers as protocol actors, the network between them, and the nemesis. Each
// component draws from its own Prng, derive_seed(seed, "<component>"), so the run is
// a pure function of (scenario, seed, overrides, options): same inputs, same
// history, byte for byte. Nothing here reads a clock or the OS's randomness.
//
// Phases: faults happen in [0, faulty_ns); at faulty_ns every fault heals (the
// broker recovers, crashed consumers restart, partitions and clogs end, loss and
// duplication stop) and the run goes on until everything is quiet (every message
// confirmed and finished: acked, expired, dead-lettered or lost) or until
// faulty_ns + healing_ns, whichever comes first. Not quiet by then is a liveness
// violation, listed with the messages still held.
//
// Thread-safety: simulate() touches only its arguments and its own world, so runs
// on different threads are independent.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/history.h"
#include "sim/broker_node.h"
#include "sim/consumer.h"
#include "sim/nemesis.h"
#include "sim/producer.h"
#include "sim/scenario.h"
#include "sim/shadow_model.h"
#include "sim/sim_params.h"

namespace mq::sim {

// One run processes at most this many events; more is a bug in the simulator (a
// timer that re-arms itself at the same time), reported rather than spun on.
inline constexpr uint64_t kMaxEventsPerRun = 50'000'000;

struct SimOptions {
  bool shadow = true;        // run the model in lockstep
  bool keep_history = true;  // false: only the hash and the summary (sweeps need no events)
  uint64_t corrupt_step = 0; // test hook, see BrokerNodeOptions
  bool inconsistent_log = false;  // test hook, see BrokerNodeOptions
  SimOverrides overrides;
  // 0: no cut. Else the run stops after the agenda event that brings the history to
  // this many events (a shrunk reproducer is the prefix up to its first violation);
  // such a run is `cut` and its liveness is not judged.
  uint64_t stop_after_events = 0;
  // Record the choices the run makes (SimResult::choices): what a shrinker cuts from.
  bool record_choices = false;
};

struct SimResult {
  Scenario scenario;  // the scenario the run used (its topology judges the history)
  SimParams params;
  History history;            // empty unless keep_history
  uint64_t history_hash = 0;  // FNV-1a over the history's JSON lines
  uint64_t history_events = 0;
  std::optional<Divergence> divergence;
  uint64_t shadow_steps = 0;
  bool quiescent = false;     // every message finished before the bound
  bool cut = false;           // stopped by SimOptions::stop_after_events
  TimeNs end_ns = 0;          // virtual time when the run stopped
  uint64_t events = 0;        // agenda events processed
  std::vector<std::string> liveness;  // violations, one line each; empty: none
  FaultStats faults;
  NetworkStats network;
  BrokerNodeStats broker;
  DiskStats disk;
  RespStats resp;
  // Recovery found the log corrupt where this run flipped a bit (caught by its CRC):
  // the broker was taken out of service and the run stopped there. A detected fault,
  // not a loss.
  std::optional<std::string> corruption;
  // Recovery failed and no injected fault explains it: the broker was taken out of
  // service and the run stopped there. A violation (property "recovery").
  std::optional<std::string> recovery_failure;
  ProducerStats producers;    // summed
  ConsumerStats consumers;    // summed
  std::vector<std::string> fault_log;
  // With SimOptions::record_choices: the choices made, in order (sim/choices.h), and
  // whether that list is complete (ChoiceSet::kMaxRecorded).
  std::vector<uint64_t> choices;
  bool choices_complete = true;
};

// The run of seed `seed`: of the scenario it draws (sim/swarm.h; `scenario` itself when
// it has no swarm section). REQUIRES: draw_scenario(scenario, seed).ok().
SimResult simulate(const Scenario& scenario, uint64_t seed, const SimOptions& options = {});

#if defined(MQ_MUTANTS)
// Test hook of the mutant build only (`mqharness-mutants VERB --test-abort-seed S`;
// the production build has no such switch): the run of seed S trips an always-on
// assertion (MQ_CHECK) once its history holds kTestAbortEvents events, a stand-in for
// a broker bug that asserts, so that tests see `sweep` and `shrink` isolate it. Set it
// before any run starts (children inherit it); 0: off.
inline constexpr uint64_t kTestAbortEvents = 3;
void set_test_abort_seed(uint64_t seed);
#endif

// The rolling hash of a history as written (JSON lines), event by event.
uint64_t history_hash(const History& history);

}  // namespace mq::sim
