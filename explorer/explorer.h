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
// Two state spaces: for the model itself, the packed space (packed_space.h: fixed-size
// states, successors without allocation, symmetry reduction); for any other system
// under test (an ApplyFn: a deliberately broken variant), the reference space
// (search_node.h: the model's own code on decoded states). Both give the same states.
//
// Parallel (SearchOptions::jobs): each breadth-first layer is expanded in windows of
// a fixed number of states, split into fixed chunks that threads take in any order;
// the new states of a window are then merged in chunk order. So the states, their
// numbering, the counts, the bounds and the counterexample are the same for any
// number of threads and any timing.
//
// Reductions, all sound for the properties checked:
//  - producers are interchangeable: the model's state does not record who sent a
//    message, so every send is made by producer 0;
//  - history counters (refused, deliveries, redeliveries) that no behaviour depends
//    on are carried along but not part of a state's identity;
//  - the checker's round-robin counts are kept relative to their minimum.
//  - symmetry (packed space, safety only, SearchOptions::symmetry): interchangeable
//    consumers of a queue (rotations of the round-robin ring) and interchangeable
//    menu messages; each state is stored as the canonical member of its orbit.
//
// Deterministic: the same config gives the same states in the same order, and the
// same counterexample, whatever the number of threads. Thread-safety: explore() may
// be called from several threads at once; it starts its own workers.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "explorer/explore_config.h"
#include "properties/model_walk.h"

namespace mq::explorer {

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

enum class Bound { kNone, kStates, kMemory };

struct ExploreResult {
  uint64_t states = 0;       // distinct states visited (canonical states, with symmetry)
  uint64_t transitions = 0;  // transitions taken (edges, counting those to known states)
  uint32_t max_depth = 0;
  uint64_t memory_bytes = 0;  // peak-ish: visited set, frontier, graph (with liveness)
  uint64_t state_bytes = 0;   // what every visited state keeps: fingerprint, index, parent, transition
  bool complete = false;      // every reachable state was visited
  std::string bound_hit;      // why not complete ("max_states 1000", ...)
  Bound bound = Bound::kNone;
  std::string engine;        // "packed" or "reference" (and why)
  std::string symmetry;      // what symmetry identified; "" if none
  uint64_t represented = 0;  // with symmetry: the states the canonical ones stand for, at most
  uint32_t jobs = 1;
  bool liveness_checked = false;  // complete and liveness enabled
  std::optional<Counterexample> counterexample;
  std::optional<Lasso> lasso;
};

// How to search (not what): the result's verdict does not depend on these.
struct SearchOptions {
  uint32_t jobs = 1;         // threads
  bool symmetry = true;      // where sound: the packed space, without liveness
  bool cross_check = false;  // packed space: compare every transition with the reference
  bool reference = false;    // use the reference space even for the model
};

// REQUIRES: config.topology is valid. Explores the model itself.
ExploreResult explore(const ExploreConfig& config, const SearchOptions& options = {},
                      const ProgressFn& progress = {});
// `apply` is the system under test (a deliberately broken variant in tests and in the
// audit); the reference space, no symmetry.
ExploreResult explore(const ExploreConfig& config, const ApplyFn& apply, const ProgressFn& progress = {},
                      const SearchOptions& options = {});

// The steps as a small table, one line per step: "3  dispatch q0  -> delivered q0 #1 c0".
std::string format_steps(const std::vector<ExploreStep>& steps, size_t first_number = 1);

}  // namespace mq::explorer
