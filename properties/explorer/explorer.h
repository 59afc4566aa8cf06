#pragma once
// Explorer: breadth-first enumeration of every reachable state of the model for a
// bounded configuration (ExploreConfig), visiting each state once.
//
// A search state is (model state, what the property checker remembers, crashes used,
// which menu messages were sent). Every transition is judged by ModelProperties, so
// a safety violation is found at the first depth where it exists, and the path back
// to the initial state is a shortest counterexample. With `liveness`, the state graph
// is kept and its strongly connected components (Boost.Graph) are searched for a
// cycle that is fair to consumers and time and in which some message never finishes:
// that is reported as a lasso (a path to the cycle, and the cycle).
//
// States are stored by 64-bit fingerprint (see visited_set.h); full states only for
// the breadth-first frontier.
//
// Reductions, all sound for the properties checked:
//  - producers are interchangeable: the model's state does not record who sent a
//    message, so every send is made by producer 0;
//  - history counters (refused, deliveries, redeliveries) that no behaviour depends
//    on are carried along but not part of a state's identity;
//  - the checker's round-robin counts are kept relative to their minimum.
// Not reduced (yet): interchangeable consumers and interchangeable message ids.
//
// Deterministic: the same config gives the same states in the same order, and the
// same counterexample. Thread-safety: none.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "properties/explorer/explore_config.h"
#include "properties/model_walk.h"

namespace mq {

struct ExploreStep {
  Op op;
  Effects effects;
};

struct Counterexample {
  Violation violation;
  std::vector<ExploreStep> steps;  // from the initial state; the last step violates
};

struct Lasso {
  std::string stuck;                // the message that never finishes, "queue #id"
  std::vector<ExploreStep> prefix;  // from the initial state to the cycle
  std::vector<ExploreStep> cycle;   // from there back to the same state
};

struct ExploreProgress {
  uint64_t states = 0;
  uint64_t transitions = 0;
  uint32_t depth = 0;
  uint64_t memory_bytes = 0;
};
using ProgressFn = std::function<void(const ExploreProgress&)>;

struct ExploreResult {
  uint64_t states = 0;       // distinct states visited
  uint64_t transitions = 0;  // transitions taken (edges, counting those to known states)
  uint32_t max_depth = 0;
  uint64_t memory_bytes = 0;      // peak-ish: visited set, frontier, graph (with liveness)
  uint64_t state_bytes = 0;       // what every visited state keeps: fingerprint, index, parent, transition
  bool complete = false;          // every reachable state was visited
  std::string bound_hit;          // why not complete ("max_states 1000", ...)
  bool liveness_checked = false;  // complete and liveness enabled
  std::optional<Counterexample> counterexample;
  std::optional<Lasso> lasso;
};

// REQUIRES: config.topology is valid. `apply` is the system under test (the model,
// or a deliberately broken variant in tests and in the audit).
ExploreResult explore(const ExploreConfig& config, const ApplyFn& apply = apply_model,
                      const ProgressFn& progress = {});

// The steps as a small table, one line per step: "3  dispatch q0  -> delivered q0 #1 c0".
std::string format_steps(const std::vector<ExploreStep>& steps, size_t first_number = 1);

}  // namespace mq
