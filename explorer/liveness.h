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

#include "base/check.h"
#include "explorer/huge_memory.h"
#include "explorer/search_node.h"

namespace mq::explorer {

// The state graph as the search finds it: every changing transition of each state,
// in candidate order, as compressed sparse rows in arrays that grow by blocks and are
// never copied (22M edges on explore-medium.json: a vector grown by reallocation
// copied and first-touched them again at each doubling, which made the liveness
// search half as fast as the safety search). Thread-safety: none.
class StateGraph {
 public:
  // REQUIRES: `from` in non-decreasing order across calls (the search adds the edges
  // of its states in breadth-first order, which is state order).
  void add(uint32_t from, uint32_t to, uint16_t via) {
    MQ_CHECK(row_.size() <= uint64_t{from} + 1);
    while (row_.size() <= from) row_.push_back(target_.size());
    target_.push_back(to);
    via_.push_back(via);
  }
  // Ends the graph at `states` states; states without edges have empty rows.
  // REQUIRES: every source added is below `states`.
  void close(uint32_t states) {
    MQ_CHECK(row_.size() <= uint64_t{states} + 1);
    while (row_.size() <= states) row_.push_back(target_.size());
    states_ = states;
  }
  uint32_t states() const { return states_; }  // REQUIRES: closed
  uint64_t edges() const { return target_.size(); }
  // The edges of state s are [first(s), first(s + 1)). REQUIRES: closed, s <= states().
  uint64_t first(uint32_t s) const { return row_[s]; }
  uint32_t target(uint64_t e) const { return target_[e]; }
  uint16_t via(uint64_t e) const { return via_[e]; }  // candidate op index at the source
  uint64_t memory_bytes() const { return row_.memory_bytes() + target_.memory_bytes() + via_.memory_bytes(); }

 private:
  HugeArray<uint64_t> row_;  // [state] its first edge
  HugeArray<uint32_t> target_;
  HugeArray<uint16_t> via_;
  uint32_t states_ = 0;
};

struct FairCycle {
  uint32_t entry = 0;                               // first state of the cycle
  std::vector<std::pair<uint32_t, uint16_t>> walk;  // (next state, via), back to entry
  std::string stuck;                                // "queue 'q' #3"
};

// Messages waiting in ready or in flight, in queues that have consumers; delayed
// messages wait for time, which is bounded in a search, so they are not counted.
std::set<std::string> pending_messages(const SearchNode& node);

// REQUIRES: graph closed.
std::optional<FairCycle> find_fair_stuck_cycle(const StateGraph& graph,
                                               const std::function<std::vector<Op>(uint32_t)>& ops_of,
                                               const std::function<std::set<std::string>(uint32_t)>& pending);

}  // namespace mq::explorer
