#include "properties/checkers/stream_check.h"

#include "formats/history_io.h"
#include "properties/checkers/capacity.h"
#include "properties/checkers/completeness.h"
#include "properties/checkers/duplicates.h"
#include "properties/checkers/fan_out.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/integrity.h"
#include "properties/checkers/load_balance.h"
#include "properties/checkers/no_loss.h"
#include "properties/checkers/order.h"
#include "properties/checkers/priority.h"
#include "properties/checkers/queue_replay.h"
#include "properties/checkers/recovery.h"
#include "properties/checkers/refinement.h"
#include "properties/checkers/ttl_delay.h"

namespace mq {

std::optional<std::string> misnamed(const HistoryEvent& e, const Topology& topology) {
  if (!e.queue.empty() && !topology.find_queue(e.queue)) return "unknown queue '" + e.queue + "'";
  if (e.consumer.empty()) return std::nullopt;
  const auto c = topology.find_consumer(e.consumer);
  if (!c) return "unknown consumer '" + e.consumer + "'";
  if (topology.consumers[*c].queue != e.queue) {
    return "consumer '" + e.consumer + "' reads '" + topology.consumers[*c].queue + "', not '" + e.queue + "'";
  }
  return std::nullopt;
}

struct StreamingChecks::Impl {
  Impl(const Topology& topology, const CheckOptions& options)
      : topology_(topology),
        completeness_(topology, CompletenessOptions{options.complete, options.queue_retry_budget}),
        refinement_(topology, RefinementOptions{options.complete, options.queue_retry_budget}),
        index_([this](const Step& s) { on_step(s); }),
        replay_(topology),
        integrity_(index_),
        no_loss_(replay_, topology),
        duplicates_(topology),
        capacity_(replay_, topology),
        ttl_delay_(),
        priority_(replay_, topology),
        order_(),
        load_balance_(replay_, topology) {
    no_loss_.set_options(NoLossOptions{options.complete});
    index_.on_forget([this](const MessageKey& k) {
      duplicates_.forget(k);
      order_.forget(k);
    });
  }

  // Judges `e` for well-formedness and feeds the checks that take it by reference;
  // false if it is malformed (or an earlier one was), when nothing else may see it.
  bool admit(const HistoryEvent& e);
  // Feeds the admitted event to the checks that keep it.
  void keep(EventPtr e);
  void on_step(const Step& step);
  // Check c's verdict; the one switch a new HistoryCheck must be handled in.
  Verdict verdict(HistoryCheck c);
  std::vector<Verdict> finish();

  const Topology& topology_;
  HistoryValidator validator_;
  std::optional<Verdict> malformed_;
  uint64_t events_ = 0;
  CompletenessChecker completeness_;
  RefinementChecker refinement_;
  FanOutChecker fan_out_;
  RecoveryChecker recovery_;
  StreamIndex index_;
  QueueReplay replay_;
  IntegrityChecker integrity_;
  NoLossChecker no_loss_;
  DuplicatesChecker duplicates_;
  CapacityChecker capacity_;
  TtlDelayChecker ttl_delay_;
  PriorityChecker priority_;
  OrderChecker order_;
  LoadBalanceChecker load_balance_;
};

StreamingChecks::StreamingChecks(const Topology& topology, const CheckOptions& options)
    : impl_(std::make_unique<Impl>(topology, options)) {}
StreamingChecks::~StreamingChecks() = default;
void StreamingChecks::add(const HistoryEvent& e) {
  if (impl_->admit(e)) impl_->keep(std::make_shared<const HistoryEvent>(e));
}
void StreamingChecks::add(HistoryEvent&& e) {
  if (impl_->admit(e)) impl_->keep(std::make_shared<const HistoryEvent>(std::move(e)));
}
void StreamingChecks::add_borrowed(const HistoryEvent& e) {
  // The aliasing constructor over an empty owner: a pointer to `e` with no control
  // block, so it allocates nothing and its copies count no references.
  if (impl_->admit(e)) impl_->keep(EventPtr(std::shared_ptr<const void>(), &e));
}
std::vector<Verdict> StreamingChecks::finish() { return impl_->finish(); }
size_t StreamingChecks::max_held() const { return impl_->index_.max_held(); }

bool StreamingChecks::Impl::admit(const HistoryEvent& e) {
  if (malformed_) return false;
  ++events_;
  // The same judgement, in the same words, as check_well_formed.
  Status s = validator_.add(e);
  if (!s.ok()) {
    malformed_ = fail(kWellFormed, where(e) + ": " + s.message(), {e});
    return false;
  }
  if (auto why = misnamed(e, topology_)) {
    malformed_ = fail(kWellFormed, where(e) + ": " + *why, {e});
    return false;
  }
  fan_out_.add(e);
  recovery_.add(e);
  return true;
}

void StreamingChecks::Impl::keep(EventPtr e) {
  completeness_.add(e);
  refinement_.add(e);
  index_.add(std::move(e));
}

void StreamingChecks::Impl::on_step(const Step& step) {
  integrity_.on(step);
  duplicates_.on(step);
  ttl_delay_.on(step);
  order_.on(step);
  no_loss_.before(step);
  capacity_.before(step);
  priority_.before(step);
  load_balance_.before(step);
  replay_.apply(step);
  no_loss_.after(step);
  capacity_.after(step);
  priority_.after(step);
  load_balance_.after(step);
}

Verdict StreamingChecks::Impl::verdict(HistoryCheck c) {
  switch (c) {
    case HistoryCheck::kWellFormed: return pass(kWellFormed, std::to_string(events_) + " events, well formed");
    case HistoryCheck::kIntegrity: return integrity_.finish();
    case HistoryCheck::kNoLoss: return no_loss_.finish();
    case HistoryCheck::kDuplicates: return duplicates_.finish();
    case HistoryCheck::kCapacity: return capacity_.finish();
    case HistoryCheck::kTtlDelay: return ttl_delay_.finish();
    case HistoryCheck::kPriority: return priority_.finish();
    case HistoryCheck::kOrder: return order_.finish();
    case HistoryCheck::kLoadBalance: return load_balance_.finish();
    case HistoryCheck::kCompleteness: return completeness_.finish();
    case HistoryCheck::kRefinement: return refinement_.finish();
    case HistoryCheck::kFanOut: return fan_out_.finish();
    case HistoryCheck::kRecovery: return recovery_.finish();
  }
  MQ_CHECK_MSG(false, "not a history check");
  return {};
}

std::vector<Verdict> StreamingChecks::Impl::finish() {
  if (malformed_) return {*malformed_};
  index_.finish();
  std::vector<Verdict> out;
  out.reserve(kHistoryChecks);
  for (int k = 0; k < kHistoryChecks; ++k) {
    const auto c = static_cast<HistoryCheck>(k);
    out.push_back(verdict(c));
    MQ_CHECK_MSG(out.back().property == history_check_name(c), "a checker names its verdict by its HistoryCheck");
  }
  return out;
}

Result<std::vector<Verdict>> check_streaming(const std::string& path, const Topology& topology,
                                             const CheckOptions& options) {
  StreamingChecks checks(topology, options);
  MQ_RETURN_IF_ERROR(for_each_history_event(path, [&](HistoryEvent&& e) {
    checks.add(std::move(e));
    return Status();
  }));
  return checks.finish();
}

}  // namespace mq
