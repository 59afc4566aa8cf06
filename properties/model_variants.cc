#include "properties/model_variants.h"

#include <algorithm>

namespace mq {

std::string flaw_name(Flaw f) {
  static const char* kNames[] = {"SeedDropWhenFull", "OverCapacity", "FifoSwap", "ReversedPriority",
                                 "RoundRobinSkip", "SilentLoss", "TtlOffByOne", "EarlyDelay",
                                 "ForgetAcked", "DurableLoss", "ParkedRedelivery", "UnboundedRetries"};
  return kNames[static_cast<int>(f)];
}


namespace {

void rebuild(Model& m, ModelState s) { m = Model(m.wiring(), std::move(s)); }

std::optional<QueueId> queue_read_by(const Model& m, const Op& op) {
  if (const auto* d = std::get_if<op::Dispatch>(&op)) return d->queue;
  if (const auto* f = std::get_if<op::Fetch>(&op)) {
    if (f->consumer < m.topology().consumers.size()) return m.wiring()->queue_of_consumer[f->consumer];
  }
  return std::nullopt;
}

// Runs a delivering op with every level above the lowest non-empty one hidden.
Result<Effects> deliver_lowest_first(Model& m, const Op& op, QueueId q) {
  ModelState s = m.state();
  auto& ready = s.queues[q].ready;
  auto lowest = std::find_if(ready.begin(), ready.end(), [](const auto& l) { return !l.empty(); });
  if (lowest == ready.end()) return m.apply(op);
  std::vector<std::vector<Message>> hidden(ready.size());
  for (auto it = lowest + 1; it != ready.end(); ++it) std::swap(hidden[it - ready.begin()], *it);
  rebuild(m, s);
  auto r = m.apply(op);
  ModelState after = m.state();
  for (size_t p = 0; p < hidden.size(); ++p) {
    for (auto& msg : hidden[p]) after.queues[q].ready[p].push_back(std::move(msg));
  }
  rebuild(m, std::move(after));
  return r;
}

Result<Effects> apply_with_flaw(Flaw flaw, Model& m, const Op& op) {
  const auto read_q = queue_read_by(m, op);
  if (flaw == Flaw::kReversedPriority && read_q && *read_q < m.state().queues.size()) {
    return deliver_lowest_first(m, op, *read_q);
  }
  if (flaw == Flaw::kFifoSwap && read_q && *read_q < m.state().queues.size()) {
    ModelState s = m.state();
    for (auto it = s.queues[*read_q].ready.rbegin(); it != s.queues[*read_q].ready.rend(); ++it) {
      if (it->empty()) continue;
      if (it->size() >= 2 && (*it)[0].attempts == 0 && (*it)[1].attempts == 0) std::swap((*it)[0], (*it)[1]);
      break;
    }
    rebuild(m, std::move(s));
  }
  if (flaw == Flaw::kTtlOffByOne) {
    if (const auto* a = std::get_if<op::Advance>(&op); a && a->now_ns > m.now()) {
      auto r = m.advance(a->now_ns - 1);
      ModelState s = m.state();
      s.now_ns = a->now_ns;
      rebuild(m, std::move(s));
      return r;
    }
  }
  if (flaw == Flaw::kDurableLoss && std::holds_alternative<op::Crash>(op) && m.state().up) {
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
    auto r = m.apply(op);
    if (r.ok()) lost.insert(lost.end(), r->begin(), r->end());
    return r.ok() ? Result<Effects>(lost) : r;
  }

  auto r = m.apply(op);
  if (!r.ok()) return r;
  Effects fx = *r;
  ModelState s = m.state();
  bool changed = false;
  switch (flaw) {
    case Flaw::kSeedDropWhenFull:
      for (auto& e : fx) if (e.kind == EffectKind::kRefused) e.kind = EffectKind::kAccepted;
      break;
    case Flaw::kOverCapacity:
      for (auto& e : fx) {
        if (e.kind != EffectKind::kRefused) continue;
        e.kind = EffectKind::kAccepted;
        s.queues[e.queue].counters.refused--;
        s.queues[e.queue].counters.accepted++;
        s.queues[e.queue].ready[e.message.priority].push_back(e.message);
        changed = true;
      }
      break;
    case Flaw::kRoundRobinSkip:
      if (const auto* d = std::get_if<op::Dispatch>(&op)) {
        const size_t ring = m.wiring()->consumers_of_queue[d->queue].size();
        const bool delivered = std::any_of(fx.begin(), fx.end(), [](const Effect& e) { return e.kind == EffectKind::kDelivered; });
        if (delivered && ring > 0) {
          s.queues[d->queue].rr_cursor = static_cast<uint32_t>((s.queues[d->queue].rr_cursor + 1) % ring);
          changed = true;
        }
      }
      break;
    case Flaw::kSilentLoss:
      if (std::holds_alternative<op::Ack>(op)) {
        const QueueId q = fx.front().queue;
        for (auto& level : s.queues[q].ready) {
          if (level.empty()) continue;
          level.erase(level.begin());
          s.queues[q].counters.accepted--;
          changed = true;
          break;
        }
      }
      break;
    case Flaw::kEarlyDelay:
      for (auto& qs : s.queues) {
        for (auto& msg : qs.delayed) qs.ready[msg.priority].push_back(msg);
        changed = changed || !qs.delayed.empty();
        qs.delayed.clear();
      }
      break;
    case Flaw::kForgetAcked:
      if (std::holds_alternative<op::Ack>(op)) {
        s.queues[fx.front().queue].finished.pop_back();
        changed = true;
      }
      break;
    case Flaw::kParkedRedelivery:
      for (const auto& e : fx) {
        if (e.kind != EffectKind::kRequeued) continue;
        auto& level = s.queues[e.queue].ready[e.message.priority];
        auto it = std::find_if(level.begin(), level.end(), [&](const Message& x) { return x.id == e.message.id; });
        if (it == level.end()) continue;
        Message parked = *it;
        parked.not_before_ns = s.now_ns + 1'000'000'000'000;
        parked.ttl_ns = 0;
        level.erase(it);
        s.queues[e.queue].delayed.push_back(parked);
        changed = true;
      }
      break;
    case Flaw::kUnboundedRetries:
      for (const auto& e : fx) {
        if (e.kind != EffectKind::kRequeued) continue;
        for (auto& msg : s.queues[e.queue].ready[e.message.priority]) {
          if (msg.id == e.message.id) msg.attempts = 0;
        }
        changed = true;
      }
      break;
    default:
      break;
  }
  if (changed) rebuild(m, std::move(s));
  return fx;
}

}  // namespace

ApplyFn flawed_model(Flaw flaw) {
  return [flaw](Model& m, const Op& op) { return apply_with_flaw(flaw, m, op); };
}

}  // namespace mq
