#include "properties/checkers/duplicates.h"

#include <map>

#include "properties/checkers/history_index.h"

namespace mq {
namespace {

struct LastDelivery {
  size_t pos = kNoEvent;
  bool given_back = false;     // a requeue or nack of it since
  uint64_t crashes = 0;        // crashes seen before it
  uint64_t holder_detaches = 0;  // detaches of its consumer seen before it
};

}  // namespace

Verdict check_duplicates(const History& history) {
  std::map<MessageKey, LastDelivery> last;
  std::map<std::string, uint64_t> detaches;  // by consumer
  uint64_t crashes = 0;
  uint64_t redeliveries = 0;
  for (size_t i = 0; i < history.events.size(); ++i) {
    const HistoryEvent& e = history.events[i];
    if (e.type != EventType::kOk) continue;
    if (e.f == EventF::kCrash) ++crashes;
    if (e.f == EventF::kDetach) ++detaches[e.consumer];
    if (e.f == EventF::kRequeue || e.f == EventF::kNack) {
      if (auto it = last.find(key_of(e)); it != last.end()) it->second.given_back = true;
    }
    if (e.f != EventF::kDeliver) continue;
    const MessageKey k = key_of(e);
    auto it = last.find(k);
    if (it != last.end()) {
      const LastDelivery& prev = it->second;
      const HistoryEvent& p = history.events[prev.pos];
      const bool given_back = prev.given_back || crashes > prev.crashes ||
                              detaches[p.consumer] > prev.holder_detaches;
      if (!given_back) {
        return fail(kDuplicates, describe(k) + " delivered again, but nothing gave it back since " +
                                     where(p) + " (no requeue, nack, detach of '" + p.consumer +
                                     "' or crash)", {p, e});
      }
      if (e.attempts.value_or(0) <= p.attempts.value_or(0)) {
        return fail(kDuplicates, describe(k) + " redelivered with attempts " +
                                     std::to_string(e.attempts.value_or(0)) + ", not above the " +
                                     std::to_string(p.attempts.value_or(0)) + " of " + where(p) +
                                     ": a silent duplicate", {p, e});
      }
      ++redeliveries;
    }
    last[k] = LastDelivery{i, false, crashes, detaches[e.consumer]};
  }
  return pass(kDuplicates, std::to_string(redeliveries) + " redeliveries, each marked and caused");
}

}  // namespace mq
