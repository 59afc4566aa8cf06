#include "properties/checkers/integrity.h"

#include "properties/checkers/history_index.h"

namespace mq {
namespace {

// nullopt when the delivery at `pos` is explained by a publish.
std::optional<Verdict> judge_delivery(const HistoryIndex& index, size_t pos) {
  const HistoryEvent& d = index.at(pos);
  const MessageKey k = key_of(d);
  const PublishRecord* candidate = nullptr;
  const PublishRecord* refused = nullptr;
  for (const auto& r : index.publishes(k)) {
    if (r.start >= pos) break;
    if (!r.may_exist()) {
      refused = &r;
      continue;
    }
    candidate = &r;
    if (r.payload == d.payload.value_or("")) return std::nullopt;
  }
  if (candidate != nullptr) {
    return fail(kIntegrity, describe(k) + " delivered with payload '" + d.payload.value_or("") +
                                "' but published with '" + candidate->payload + "'",
                {index.at(candidate->start), d});
  }
  if (refused != nullptr) {
    return fail(kIntegrity, describe(k) + " delivered, but its only publish was refused",
                {index.at(refused->end), d});
  }
  return fail(kIntegrity, describe(k) + " delivered but never published", {d});
}

}  // namespace

Verdict check_integrity(const History& history) {
  const HistoryIndex index(history);
  uint64_t deliveries = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    const HistoryEvent& e = index.at(i);
    if (e.f != EventF::kDeliver || e.type != EventType::kOk) continue;
    ++deliveries;
    if (auto v = judge_delivery(index, i)) return std::move(*v);
  }
  return pass(kIntegrity, std::to_string(deliveries) + " deliveries, each of a published message");
}

}  // namespace mq
