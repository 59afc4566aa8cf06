#pragma once
// Duplicates: a message is delivered again only as a marked redelivery.
//
// Precisely: for two consecutive deliveries (deliver ok) of the same (queue, id), at
// positions i < j: (1) something between them gave the message back: a requeue or an
// ok nack of it, a detach of the consumer that got delivery i, or a crash; and
// (2) delivery j's attempt count is strictly higher than delivery i's. So with no
// fault (no nack, requeue, detach or crash) a message is delivered at most once per
// queue. Witness: the two deliveries.
//
// A queue with a bounded idempotency window (Topology: dedup_window_*) may accept a
// finished id again once its window forgot it: a new message with an old id. There,
// a publish accepted (ok, or a dead-letter arrival) after the id finished starts a new
// message, whose first delivery is judged as one; whether the window allowed the
// acceptance is refinement's judgement (the model keeps the window). A queue without
// a window never forgets an id, so a second acceptance stays a duplicate.
//
// Streaming (DuplicatesChecker): one event at a time, keeping the last delivery of
// each message until the StreamIndex forgets it (history_index.h): a redelivery of a
// message finished longer ago than that is judged as a first delivery.
//
// REQUIRES: validate_history(history).ok().

#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "model/topology.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kDuplicates = history_check_name(HistoryCheck::kDuplicates);

class DuplicatesChecker {
 public:
  // REQUIRES: `topology` outlives the checker.
  explicit DuplicatesChecker(const Topology& topology) : topology_(topology) {}
  void on(const Step& step);
  void forget(const MessageKey& k) { last_.erase(k); }
  Verdict finish() const;

 private:
  struct LastDelivery {
    EventPtr event;
    bool given_back = false;        // a requeue or nack of it since
    uint64_t crashes = 0;           // crashes seen before it
    uint64_t holder_detaches = 0;   // detaches of its consumer seen before it
    bool finished = false;          // acked, expired, dead-lettered, lost or dropped since
  };
  bool windowed(const std::string& queue) const;
  const Topology& topology_;
  std::unordered_map<MessageKey, LastDelivery, MessageKeyHash> last_;
  std::map<std::string, uint64_t> detaches_;  // by consumer
  uint64_t crashes_ = 0;
  uint64_t redeliveries_ = 0;
  std::optional<Verdict> violation_;
};

Verdict check_duplicates(const History& history, const Topology& topology);

}  // namespace mq
