#include "properties/checkers/stream_check.h"

#include "model/history_io.h"

namespace mq {

StreamingChecks::StreamingChecks(const Topology& topology, const CheckOptions& options)
    : topology_(topology),
      completeness_(topology, CompletenessOptions{options.complete, options.queue_retry_budget}),
      refinement_(topology, RefinementOptions{options.complete, options.queue_retry_budget}) {}

void StreamingChecks::add(const HistoryEvent& e) {
  if (malformed_) return;
  ++events_;
  // The same judgement, in the same words, as check_well_formed.
  Status s = validator_.add(e);
  if (!s.ok()) {
    malformed_ = fail(kWellFormed, where(e) + ": " + s.message(), {e});
    return;
  }
  if (auto why = misnamed(e, topology_)) {
    malformed_ = fail(kWellFormed, where(e) + ": " + *why, {e});
    return;
  }
  completeness_.add(e);
  refinement_.add(e);
}

std::vector<Verdict> StreamingChecks::finish() const {
  if (malformed_) return {*malformed_};
  return {pass(kWellFormed, std::to_string(events_) + " events, well formed"), completeness_.finish(),
          refinement_.finish()};
}

Result<std::vector<Verdict>> check_streaming(const std::string& path, const Topology& topology,
                                             const CheckOptions& options) {
  StreamingChecks checks(topology, options);
  MQ_RETURN_IF_ERROR(for_each_history_event(path, [&](HistoryEvent&& e) {
    checks.add(e);
    return Status();
  }));
  return checks.finish();
}

}  // namespace mq
