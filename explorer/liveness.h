#pragma once
// Liveness over the explorer's state graph: a strongly connected component in which
// the search can stay forever while being weakly fair (every fair action enabled in
// all its states is taken inside it) and in which some message stays unfinished in
// every state is a non-terminating behaviour. Internal to the explorer.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "explorer/search_node.h"

namespace mq::explorer {

struct LivenessGraph {
  uint32_t states;
  const std::vector<std::pair<uint32_t, uint32_t>>& edges;  // (from, to), every changing transition
  const std::vector<uint16_t>& via;                         // [edge] candidate op index at `from`
};

struct FairCycle {
  uint32_t entry = 0;                               // first state of the cycle
  std::vector<std::pair<uint32_t, uint16_t>> walk;  // (next state, via), back to entry
  std::string stuck;                                // "queue 'q' #3"
};

// Messages waiting in ready or in flight, in queues that have consumers; delayed
// messages wait for time, which is bounded in a search, so they are not counted.
std::set<std::string> pending_messages(const SearchNode& node);

std::optional<FairCycle> find_fair_stuck_cycle(const LivenessGraph& graph,
                                               const std::function<std::vector<Op>(uint32_t)>& ops_of,
                                               const std::function<std::set<std::string>(uint32_t)>& pending);

}  // namespace mq::explorer
