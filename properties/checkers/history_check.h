#pragma once
// HistoryCheck: the checks a history gets (check_all, StreamingChecks), each named
// once, in the order of their verdicts. The enumeration is the list: a checker names
// its verdict by its enumerator (kIntegrity = history_check_name(kIntegrity), in its
// own header), and stream_check.cc's one switch over it (StreamingChecks's verdict of
// each check) fails to build until a new check is run there; check_all_properties()
// is these names, in this order. queue-linearizability is not one of them: it judges
// a live run's client-side operations, not a history (properties/checkers/
// queue_linearizability.h).
//
// Thread-safety: constants and pure functions.

#include <cstdint>

#include "base/enum_count.h"

namespace mq {

enum class HistoryCheck : uint8_t {
  kWellFormed,  // first: a malformed history gets this verdict alone
  kIntegrity,
  kNoLoss,
  kDuplicates,
  kCapacity,
  kTtlDelay,
  kPriority,
  kOrder,
  kLoadBalance,
  kCompleteness,
  kRefinement,
  kFanOut,
  kRecovery,
};

constexpr const char* history_check_name(HistoryCheck c) {
  switch (c) {
    case HistoryCheck::kWellFormed: return "well-formed";
    case HistoryCheck::kIntegrity: return "integrity";
    case HistoryCheck::kNoLoss: return "no-loss";
    case HistoryCheck::kDuplicates: return "duplicates";
    case HistoryCheck::kCapacity: return "capacity";
    case HistoryCheck::kTtlDelay: return "ttl-delay";
    case HistoryCheck::kPriority: return "priority";
    case HistoryCheck::kOrder: return "order";
    case HistoryCheck::kLoadBalance: return "load-balance";
    case HistoryCheck::kCompleteness: return "completeness";
    case HistoryCheck::kRefinement: return "refinement";
    case HistoryCheck::kFanOut: return "fan-out";
    case HistoryCheck::kRecovery: return "recovery";
  }
  return nullptr;  // not an enumerator (enum_count)
}

inline constexpr int kHistoryChecks = enum_count<HistoryCheck>(history_check_name);

}  // namespace mq
