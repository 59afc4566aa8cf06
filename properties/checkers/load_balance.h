#pragma once
// Load balance: under round-robin dispatch, the consumers of a queue that were ready
// get about the same number of pushes.
//
// Precisely, per queue q, a window is a maximal stretch of the history in which the
// set of attached consumers of q does not change (it ends at an attach or detach of
// one of them, a crash or a recover). Within a window, a consumer of q is eligible
// while it has had credit (attached, broker up, unacked < prefetch) at every push
// delivery from q so far. Among the eligible consumers, the counts of push
// deliveries (deliver ok by the broker; a client's fetch is not dispatch) differ by
// at most epsilon(q) = 1 + the prefetch window, the largest prefetch of q's
// consumers (an unlimited prefetch counts as 1). Exact round-robin keeps the
// difference at 1; the window allows a broker to fill one consumer's prefetch
// at a time. Witness: the event opening the window, and the window's pushes to the
// most and the least served consumer.
//
// REQUIRES: validate_history(history).ok() and check_well_formed.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <optional>

#include "model/history.h"
#include "model/topology.h"
#include "properties/checkers/queue_replay.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kLoadBalance = "load-balance";

// The epsilon of a queue, as stated above. REQUIRES: q < topology.queues.size().
uint32_t load_balance_epsilon(const Topology& topology, QueueId q);

// Streaming: before(step) judges a step against the state it happened in, the shared
// QueueReplay then applies it, after(step) judges the state it left.
class LoadBalanceChecker {
 public:
  // REQUIRES: `index`, `replay` and `topology` outlive the checker.
  LoadBalanceChecker(const StreamIndex& index, const QueueReplay& replay, const Topology& topology)
      : index_(index), replay_(replay), topology_(topology) {}
  void before(const Step& step);
  void after(const Step& step);
  Verdict finish() const;

 private:
  const StreamIndex& index_;
  const QueueReplay& replay_;
  const Topology& topology_;
  std::optional<Verdict> violation_;
  struct Window {
    EventPtr opened_by;  // null: the start of the history
    std::map<std::string, uint64_t> pushes;              // per consumer
    std::map<std::string, std::vector<EventPtr>> first;  // per consumer: its first kMaxWitnessEvents pushes
    std::set<std::string> eligible;
  };
  Window open_window(QueueId q, EventPtr by) const;
  std::optional<Verdict> judge_window(const Window& w, const std::string& queue, uint32_t epsilon) const;
  std::map<std::string, Window> windows_;
  uint64_t pushes_ = 0;
  bool started_ = false;
};

Verdict check_load_balance(const History& history, const Topology& topology);

}  // namespace mq
