#pragma once
// Load balance: under round-robin dispatch, every consumer of a queue that has credit
// gets its turn.
//
// Precisely, per queue q, a window is a maximal stretch of the history in which the
// set of attached consumers of q does not change (it ends at an attach or detach of
// one of them, a crash or a recover: round-robin may restart anywhere then). A
// consumer has credit at a push when it is attached, the broker is up and its unacked
// deliveries are fewer than its prefetch (QueueReplay, before the push). A push is a
// deliver ok by the broker (a client's fetch is not dispatch). Within a window:
//  (1) turns: between two consecutive pushes to consumer A, every other consumer B of
//      q that had credit at each push of q after the first of them, up to and
//      including the second, got a push. Round-robin moves its cursor past A and
//      takes the first consumer with credit from there, so it cannot come back to A
//      without passing B while B has credit; a dispatcher that skips (starves) a
//      consumer with credit breaks this within one cycle. Witness: the two pushes to
//      A, and B's last push in the window (if any).
//  (2) counts: among the consumers that had credit at every push of q in the window
//      so far, the counts of pushes differ by at most epsilon(q) = 1 + the prefetch
//      window (the largest prefetch of q's consumers; unlimited counts as 1). Witness:
//      the event opening the window, and the pushes to the most and least served.
// (1) is exact for a round-robin cursor (the model's and BrokerCore's); (2) is the
// origin document's balance claim, repaired, for brokers that fill prefetch windows
// one consumer at a time.
//
// REQUIRES: validate_history(history).ok() and check_well_formed.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <optional>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "model/topology.h"
#include "properties/checkers/queue_replay.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kLoadBalance = history_check_name(HistoryCheck::kLoadBalance);

// The epsilon of a queue, as stated above. REQUIRES: q < topology.queues.size().
uint32_t load_balance_epsilon(const Topology& topology, QueueId q);

// Streaming: before(step) judges a step against the state it happened in, the shared
// QueueReplay then applies it, after(step) judges the state it left.
class LoadBalanceChecker {
 public:
  // REQUIRES: `replay` and `topology` outlive the checker.
  LoadBalanceChecker(const QueueReplay& replay, const Topology& topology)
      : replay_(replay), topology_(topology) {}
  void before(const Step& step);
  void after(const Step& step);
  Verdict finish() const;

 private:
  const QueueReplay& replay_;
  const Topology& topology_;
  std::optional<Verdict> violation_;
  struct Window {
    EventPtr opened_by;  // null: the start of the history
    std::map<std::string, uint64_t> pushes;              // per consumer
    std::map<std::string, std::vector<EventPtr>> first;  // per consumer: its first kMaxWitnessEvents pushes
    std::set<std::string> eligible;
    // (1): per consumer A pushed in this window, its last push, and the consumers
    // that have had credit at every push since and got none (they are owed a turn
    // before A's next push).
    std::map<std::string, EventPtr> last_push;
    std::map<std::string, std::set<std::string>> owed;
  };
  std::optional<Verdict> judge_turns(Window& w, const HistoryEvent& e, const Step& step) const;
  Window open_window(QueueId q, EventPtr by) const;
  std::optional<Verdict> judge_window(const Window& w, const std::string& queue, uint32_t epsilon) const;
  std::map<std::string, Window> windows_;
  uint64_t pushes_ = 0;
  bool started_ = false;
};

Verdict check_load_balance(const History& history, const Topology& topology);

}  // namespace mq
