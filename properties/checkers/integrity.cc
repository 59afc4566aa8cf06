#include "properties/checkers/integrity.h"

#include "properties/checkers/drive.h"

namespace mq {
namespace {

// nullopt when the delivery `d` is explained by a publish.
std::optional<Verdict> judge_delivery(const StreamIndex& index, const Step& step, bool& forgotten) {
  const HistoryEvent& d = step.e();
  const size_t pos = static_cast<size_t>(d.index);
  const MessageKey k = key_of(d);
  const PublishRecord* candidate = nullptr;
  const PublishRecord* refused = nullptr;
  for (const auto& r : step.publishes()) {
    if (r->start >= pos) break;
    if (!r->may_exist()) {
      refused = r.get();
      continue;
    }
    candidate = r.get();
    if (r->payload == d.payload.value_or("")) return std::nullopt;
  }
  if (candidate == nullptr && refused == nullptr && index.forgot(k.queue)) {
    forgotten = true;
    return std::nullopt;
  }
  if (candidate != nullptr) {
    return fail(kIntegrity, describe(k) + " delivered with payload '" + d.payload.value_or("") +
                                "' but published with '" + candidate->payload + "'",
                {*candidate->start_event, d});
  }
  if (refused != nullptr) {
    return fail(kIntegrity, describe(k) + " delivered, but its only publish was refused",
                {refused->last_event(), d});
  }
  return fail(kIntegrity, describe(k) + " delivered but never published", {d});
}

// A completion answers its own request: an ack of message 1 that completes as an
// ack of message 2 means the broker acted on a message the client did not name.
std::optional<Verdict> judge_completion(const Step& step) {
  const HistoryEvent& e = step.e();
  if (step.invoke == nullptr || e.type != EventType::kOk) return std::nullopt;
  const HistoryEvent& inv = *step.invoke;
  if (!inv.id || !e.id || *inv.id == *e.id) return std::nullopt;
  return fail(kIntegrity,
              std::string(event_f_name(e.f)) + " requested for message " + std::to_string(*inv.id) + " in '" +
                  inv.queue + "' completed for message " + std::to_string(*e.id),
              {inv, e});
}

}  // namespace

void IntegrityChecker::on(const Step& step) {
  const HistoryEvent& e = step.e();
  if (violation_) return;
  if ((violation_ = judge_completion(step))) return;
  if (e.f != EventF::kDeliver || e.type != EventType::kOk) return;
  ++deliveries_;
  bool forgotten = false;
  violation_ = judge_delivery(index_, step, forgotten);
  if (forgotten) ++forgotten_;
}

Verdict IntegrityChecker::finish() const {
  if (violation_) return *violation_;
  return pass(kIntegrity, std::to_string(deliveries_) + " deliveries, each of a published message" +
                              (forgotten_ > 0 ? "; " + std::to_string(forgotten_) +
                                                    " of messages finished too long ago to remember not judged"
                                              : ""));
}

Verdict check_integrity(const History& history) {
  return drive<IntegrityChecker>(history, [](const StreamIndex& i) { return std::make_unique<IntegrityChecker>(i); });
}

}  // namespace mq
