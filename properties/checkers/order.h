#pragma once
// Order: FIFO per queue and priority level among first deliveries.
//
// Precisely: for two messages a and b of the same queue and priority level that were
// both delivered, if a surely became ready before b could (a's ready event precedes
// b's: a's publish ok before b's publish invoke; for a delayed message its release),
// then a's first delivery precedes b's. Redeliveries are left out: where a requeued
// message goes (front or back) is the queue's explicit redelivery policy. Messages
// whose readiness the history does not pin down (an info publish, a delayed message
// without a release event) are left out too.
//
// Checked as Elle checks isolation, as the absence of a cycle in the precedence
// graph over the messages with edges "ready before" and "first delivered before": any
// such cycle contains a pair a, b with a ready before b but b delivered first, and
// such a pair closes a cycle. Streaming (OrderChecker), the graph is never built:
// per queue and priority level the checker keeps the latest ready event among the
// messages already first-delivered; at a's first delivery, if that is after a's
// ready event, the message b it belongs to closes the cycle. Memory: one node per
// level, and the first-delivered and released ids the StreamIndex still remembers.
// A delayed message counts only if its release came before its first delivery (else
// ttl-delay reports the early delivery).
// Witness: a's ready event, b's ready event, b's first delivery, a's first delivery.
//
// REQUIRES: validate_history(history).ok().

#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kOrder = history_check_name(HistoryCheck::kOrder);

class OrderChecker {
 public:
  // REQUIRES: a StreamIndex passes it every step, in order.
  OrderChecker() = default;
  void on(const Step& step);
  void forget(const MessageKey& k);
  Verdict finish() const;

 private:
  struct Node {
    MessageKey key;
    EventPtr ready_lo;   // it cannot have been ready before this event
    EventPtr ready_hi;   // it surely was ready after this event
    EventPtr delivered;  // its first delivery
  };
  void first_delivery(const Step& step);

  std::unordered_set<MessageKey, MessageKeyHash> delivered_;
  std::unordered_map<MessageKey, EventPtr, MessageKeyHash> released_;  // first release
  std::map<std::pair<std::string, Priority>, Node> latest_;  // per level: max ready_lo delivered
  uint64_t judged_ = 0;
  std::optional<Verdict> violation_;
};

Verdict check_order(const History& history);

}  // namespace mq
