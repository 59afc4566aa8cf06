#include "properties/model_variants.h"

#include <algorithm>

namespace mq {
namespace {

void rebuild(Model& m, ModelState s) {
  m = Model(m.wiring(), std::move(s));
}

std::optional<QueueId> queue_read_by(const Model& m, const Op& op) {
  if (const auto* d = std::get_if<op::Dispatch>(&op)) return d->queue;
  if (const auto* f = std::get_if<op::Fetch>(&op)) {
    if (f->consumer < m.topology().consumers.size()) return m.wiring()->queue_of_consumer[f->consumer];
  }
  return std::nullopt;
}

// Runs a delivering op with every level above the lowest non-empty one hidden.
Result<Effects> deliver_lowest_first(Model& m, const Op& op, QueueId q, const ApplyFn& inner) {
  ModelState s = m.state();
  auto& ready = s.queues[q].ready;
  auto lowest = std::find_if(ready.begin(), ready.end(), [](const auto& l) { return !l.empty(); });
  if (lowest == ready.end()) return inner(m, op);
  std::vector<std::vector<Message>> hidden(ready.size());
  for (auto it = lowest + 1; it != ready.end(); ++it) std::swap(hidden[it - ready.begin()], *it);
  rebuild(m, s);
  auto r = inner(m, op);
  ModelState after = m.state();
  for (size_t p = 0; p < hidden.size(); ++p) {
    for (auto& msg : hidden[p]) after.queues[q].ready[p].push_back(std::move(msg));
  }
  rebuild(m, std::move(after));
  return r;
}

// ---- flaws that change what the operation sees or does ----

Result<Effects> reversed_priority(Model& m, const Op& op, const ApplyFn& inner) {
  const auto q = queue_read_by(m, op);
  if (!q || *q >= m.state().queues.size()) return inner(m, op);
  return deliver_lowest_first(m, op, *q, inner);
}

Result<Effects> fifo_swap(Model& m, const Op& op, const ApplyFn& inner) {
  const auto q = queue_read_by(m, op);
  if (q && *q < m.state().queues.size()) {
    ModelState s = m.state();
    for (auto it = s.queues[*q].ready.rbegin(); it != s.queues[*q].ready.rend(); ++it) {
      if (it->empty()) continue;
      if (it->size() >= 2 && (*it)[0].attempts == 0 && (*it)[1].attempts == 0) std::swap((*it)[0], (*it)[1]);
      break;
    }
    rebuild(m, std::move(s));
  }
  return inner(m, op);
}

Result<Effects> ttl_off_by_one(Model& m, const Op& op, const ApplyFn& inner) {
  const auto* a = std::get_if<op::Advance>(&op);
  if (!a || a->now_ns <= m.now()) return inner(m, op);
  auto r = inner(m, op::Advance{a->now_ns - 1});
  ModelState s = m.state();
  s.now_ns = a->now_ns;
  rebuild(m, std::move(s));
  return r;
}

Result<Effects> durable_loss(Model& m, const Op& op, const ApplyFn& inner) {
  if (!std::holds_alternative<op::Crash>(op) || !m.state().up) return inner(m, op);
  ModelState s = m.state();
  Effects lost;
  for (QueueId q = 0; q < s.queues.size(); ++q) {
    if (!m.topology().queues[q].durable) continue;
    for (auto& level : s.queues[q].ready) {
      for (auto& msg : level) {
        s.queues[q].finished.push_back({msg.id, Fate::kLost});
        lost.push_back(Effect{EffectKind::kLost, q, kNoConsumer, msg});
      }
      level.clear();
    }
  }
  rebuild(m, std::move(s));
  auto r = inner(m, op);
  if (!r.ok()) return r;
  lost.insert(lost.end(), r->begin(), r->end());
  return lost;
}

// ---- flaws that patch the outcome: (op, effects, state after) -> changed state? ----

using Patch = bool (*)(const Model& m, const Op& op, Effects& fx, ModelState& s);

bool drop_when_full(const Model&, const Op&, Effects& fx, ModelState&) {
  for (auto& e : fx)
    if (e.kind == EffectKind::kRefused) e.kind = EffectKind::kAccepted;
  return false;
}

bool over_capacity(const Model&, const Op&, Effects& fx, ModelState& s) {
  bool changed = false;
  for (auto& e : fx) {
    if (e.kind != EffectKind::kRefused) continue;
    e.kind = EffectKind::kAccepted;
    s.queues[e.queue].counters.refused--;
    s.queues[e.queue].counters.accepted++;
    s.queues[e.queue].ready[e.message.priority].push_back(e.message);
    changed = true;
  }
  return changed;
}

bool round_robin_skip(const Model& m, const Op& op, Effects& fx, ModelState& s) {
  const auto* d = std::get_if<op::Dispatch>(&op);
  if (!d) return false;
  const size_t ring = m.wiring()->consumers_of_queue[d->queue].size();
  const bool delivered =
      std::any_of(fx.begin(), fx.end(), [](const Effect& e) { return e.kind == EffectKind::kDelivered; });
  if (!delivered || ring == 0) return false;
  s.queues[d->queue].rr_cursor = static_cast<uint32_t>((s.queues[d->queue].rr_cursor + 1) % ring);
  return true;
}

bool silent_loss(const Model&, const Op& op, Effects& fx, ModelState& s) {
  if (!std::holds_alternative<op::Ack>(op)) return false;
  const QueueId q = fx.front().queue;
  for (auto& level : s.queues[q].ready) {
    if (level.empty()) continue;
    level.erase(level.begin());
    s.queues[q].counters.accepted--;  // keep the books balanced: only no_loss can tell
    return true;
  }
  return false;
}

bool early_delay(const Model&, const Op&, Effects&, ModelState& s) {
  bool changed = false;
  for (auto& qs : s.queues) {
    for (auto& msg : qs.delayed) qs.ready[msg.priority].push_back(msg);
    changed = changed || !qs.delayed.empty();
    qs.delayed.clear();
  }
  return changed;
}

bool forget_acked(const Model&, const Op& op, Effects& fx, ModelState& s) {
  if (!std::holds_alternative<op::Ack>(op)) return false;
  s.queues[fx.front().queue].finished.pop_back();
  return true;
}

// Applies `change` to the ready copy of every message this step requeued.
template <typename Change>
bool change_requeued(const Effects& fx, ModelState& s, Change change) {
  bool changed = false;
  for (const auto& e : fx) {
    if (e.kind != EffectKind::kRequeued) continue;
    auto& level = s.queues[e.queue].ready[e.message.priority];
    auto it =
        std::find_if(level.begin(), level.end(), [&](const Message& x) { return x.id == e.message.id; });
    if (it == level.end()) continue;
    change(s.queues[e.queue], level, it);
    changed = true;
  }
  return changed;
}

bool parked_redelivery(const Model&, const Op&, Effects& fx, ModelState& s) {
  const TimeNs far = s.now_ns + 1'000'000'000'000;
  return change_requeued(fx, s, [far](QueueState& qs, std::vector<Message>& level, auto it) {
    Message parked = *it;
    parked.not_before_ns = far;
    parked.ttl_ns = 0;
    level.erase(it);
    qs.delayed.push_back(parked);
  });
}

bool unbounded_retries(const Model&, const Op&, Effects& fx, ModelState& s) {
  return change_requeued(fx, s, [](QueueState&, std::vector<Message>&, auto it) { it->attempts = 0; });
}

Result<Effects> patched(Model& m, const Op& op, const ApplyFn& inner, Patch patch) {
  auto r = inner(m, op);
  if (!r.ok()) return r;
  Effects fx = *r;
  ModelState s = m.state();
  if (patch(m, op, fx, s)) rebuild(m, std::move(s));
  return fx;
}

Patch patch_of(Flaw flaw) {
  switch (flaw) {
    case Flaw::kSeedDropWhenFull:
      return drop_when_full;
    case Flaw::kOverCapacity:
      return over_capacity;
    case Flaw::kRoundRobinSkip:
      return round_robin_skip;
    case Flaw::kSilentLoss:
      return silent_loss;
    case Flaw::kEarlyDelay:
      return early_delay;
    case Flaw::kForgetAcked:
      return forget_acked;
    case Flaw::kParkedRedelivery:
      return parked_redelivery;
    case Flaw::kUnboundedRetries:
      return unbounded_retries;
    case Flaw::kFifoSwap:
    case Flaw::kReversedPriority:
    case Flaw::kTtlOffByOne:
    case Flaw::kDurableLoss:
      return nullptr;  // wrappers of their own (flawed_model)
  }
  return nullptr;
}

}  // namespace

ApplyFn flawed_model(Flaw flaw, ApplyFn inner) {
  switch (flaw) {
    case Flaw::kReversedPriority:
      return [inner](Model& m, const Op& op) { return reversed_priority(m, op, inner); };
    case Flaw::kFifoSwap:
      return [inner](Model& m, const Op& op) { return fifo_swap(m, op, inner); };
    case Flaw::kTtlOffByOne:
      return [inner](Model& m, const Op& op) { return ttl_off_by_one(m, op, inner); };
    case Flaw::kDurableLoss:
      return [inner](Model& m, const Op& op) { return durable_loss(m, op, inner); };
    case Flaw::kSeedDropWhenFull:
    case Flaw::kOverCapacity:
    case Flaw::kRoundRobinSkip:
    case Flaw::kSilentLoss:
    case Flaw::kEarlyDelay:
    case Flaw::kForgetAcked:
    case Flaw::kParkedRedelivery:
    case Flaw::kUnboundedRetries:
      break;
  }
  const Patch patch = patch_of(flaw);
  MQ_CHECK(patch != nullptr);
  return [inner, patch](Model& m, const Op& op) { return patched(m, op, inner, patch); };
}

ApplyFn seed_design_model() {
  return flawed_model(Flaw::kSeedDropWhenFull, flawed_model(Flaw::kReversedPriority));
}

}  // namespace mq
