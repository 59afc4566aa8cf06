#pragma once
// SearchNode: one state of the explorer's search and its byte encoding, and the
// transitions enabled in it. Internal to the explorer (explorer.cc, liveness.cc).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "explorer/explore_config.h"
#include "properties/model_walk.h"

namespace mq::explorer {

struct SearchNode {
  Model model;
  ModelProperties props;
  uint32_t crashes = 0;
  uint64_t sent = 0;  // bit i: menu message i was sent
};

// Appends the encoding; returns the size of its identity prefix.
size_t encode(const SearchNode& node, std::string& out);
SearchNode decode(const std::shared_ptr<const Wiring>& wiring, const ModelProperties& blank,
                  std::string_view bytes);

// The candidate operations in `node`, in a fixed order (their index is the `via` of
// the state they lead to). Some may turn out to be no-ops; the caller skips those.
std::vector<Op> candidate_ops(const SearchNode& node, const ExploreConfig& config);

// Applies op k to a copy of `node`. Returns false if it changed nothing (an error
// that left the state alone, or an operation with no effect and no state change).
struct Successor {
  SearchNode node;
  Result<Effects> result;
  std::vector<Violation> violations;
  bool changed = false;
};
Successor successor(const SearchNode& node, const Op& op, const ApplyFn& apply);

// Weakly fair actions (a consumer that can keep going eventually does; time passes;
// a crashed broker recovers) get a label; other actions (sends, nacks, faults) none.
std::string fair_label(const Op& op);

}  // namespace mq::explorer
