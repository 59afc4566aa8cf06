#include "properties/checkers/refinement.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <unordered_set>

#include "model/history_recorder.h"

namespace mq {
namespace {

// A message's max_retries the history leaves open: large enough never to run out.
constexpr uint32_t kOpenBudget = uint32_t{1} << 30;

struct Owed {
  EffectKind kind = EffectKind::kAccepted;
  QueueId queue = 0;
  MessageId id = 0;
  ConsumerId consumer = kNoConsumer;
  std::shared_ptr<const HistoryEvent> cause;  // the event whose step produced it
  bool operator==(const Owed& o) const {
    return kind == o.kind && queue == o.queue && id == o.id && consumer == o.consumer;
  }
};

struct Pending {  // a publish invoked whose acceptance this candidate has not applied
  ProducerId producer = 0;
  QueueId queue = 0;
  MessageSpec spec;
  bool operator==(const Pending&) const = default;
};

struct Candidate {
  Model model;
  std::vector<Owed> owed;
  std::vector<Pending> pending;
  std::vector<uint8_t> free_dispatch;  // [QueueId]: the next push may go to any consumer
};

Topology with_a_producer(Topology t) {
  if (t.producers.empty()) t.producers.push_back(ProducerConfig{"refinement-producer"});
  return t;
}

}  // namespace

struct RefinementChecker::Impl {
  Impl(const Topology& topology, RefinementOptions o) : options(o) {
    auto m = Model::create(with_a_producer(topology));
    MQ_CHECK_MSG(m.ok(), "REQUIRES: a valid topology");
    Candidate c{std::move(m).value(), {}, {}, {}};
    c.free_dispatch.assign(c.model.topology().queues.size(), 0);
    wiring = c.model.wiring();
    candidates.push_back(std::move(c));
    finished_ids.resize(topo().queues.size());
    dead_letter_target.assign(topo().queues.size(), 0);
    for (const auto& d : wiring->dead_letter_of) {
      if (d) dead_letter_target[*d] = 1;
    }
  }

  const Topology& topo() const { return wiring->topology; }
  // The queue and consumer of the event being judged, looked up once in add() rather
  // than per candidate. REQUIRES: the event names them.
  QueueId queue(const std::string& name) const {
    MQ_CHECK(current_queue && name == current->queue);
    return *current_queue;
  }
  ConsumerId consumer(const std::string& name) const {
    MQ_CHECK(current_consumer && name == current->consumer);
    return *current_consumer;
  }
  std::string name_of(ConsumerId c) const { return c == kNoConsumer ? "" : topo().consumers[c].name; }

  void reject(std::string& why, std::string text) const {
    if (why.empty()) why = std::move(text);
  }

  // Every effect of fx from `from` on, except the one at `seen` (the event's own).
  void owe(Candidate& c, const Effects& fx, size_t from, const HistoryEvent& cause, size_t seen = SIZE_MAX) const {
    if (from >= fx.size()) return;
    // The event being judged, shared rather than copied per effect.
    auto ptr = current && current.get() == &cause ? current : std::make_shared<const HistoryEvent>(cause);
    for (size_t i = from; i < fx.size(); ++i) {
      if (i != seen) c.owed.push_back(Owed{fx[i].kind, fx[i].queue, fx[i].message.id, fx[i].consumer, ptr});
    }
  }

  // Where a send's effects say the message was accepted: first, or after the drop
  // that made room for it (drop-oldest); nullopt if refused.
  static std::optional<size_t> acceptance(const Effects& fx) {
    for (size_t i = 0; i < fx.size(); ++i) {
      if (fx[i].kind == EffectKind::kAccepted) return i;
      if (fx[i].kind != EffectKind::kDropped) break;
    }
    return std::nullopt;
  }

  void set_state(Candidate& c, ModelState s) const { c.model = Model(wiring, std::move(s)); }

  // Every way the retry budgets of the in-flight messages `affected` selects can be:
  // exhausted now (max_retries = attempts - 1) or still open.
  std::vector<Candidate> budget_branches(Candidate c, const std::function<bool(const InFlight&)>& affected) {
    std::vector<Candidate> out;
    out.push_back(std::move(c));
    if (options.queue_retry_budget) return out;
    std::vector<std::pair<QueueId, MessageId>> open;
    const ModelState& s = out.front().model.state();
    for (QueueId q = 0; q < s.queues.size(); ++q) {
      for (const auto& f : s.queues[q].in_flight) {
        if (f.message.max_retries >= kOpenBudget && affected(f)) open.emplace_back(q, f.message.id);
      }
    }
    for (const auto& [q, id] : open) {
      if (out.size() * 2 > kMaxRefinementCandidates) {
        truncated_here = true;
        break;
      }
      const size_t n = out.size();
      for (size_t k = 0; k < n; ++k) {
        ModelState copy = out[k].model.state();
        for (auto& f : copy.queues[q].in_flight) {
          if (f.message.id == id) f.message.max_retries = f.message.attempts - 1;
        }
        Candidate b = out[k];
        set_state(b, std::move(copy));
        out.push_back(std::move(b));
      }
    }
    return out;
  }

  Result<Effects> send(Candidate& c, const Pending& p) const {
    // What the model would say had it kept every finished id (see prune_confirmed). A
    // windowed queue forgets ids on its own (the model keeps its window: not pruned).
    if (!topo().queues[p.queue].windowed() && finished_ids[p.queue].ids.contains(p.spec.id)) {
      return already_exists("queue '" + topo().queues[p.queue].name + "': duplicate message id " +
                            std::to_string(p.spec.id) + " (finished earlier in the history)");
    }
    // The message's own budget if its publish said; else its queue's, or open.
    if (p.spec.max_retries || options.queue_retry_budget) return c.model.send(p.producer, p.queue, p.spec);
    MessageSpec spec = p.spec;
    spec.max_retries = kOpenBudget;
    return c.model.send(p.producer, p.queue, spec);
  }

  // Applies the acceptance of a pending publish; false (with why) if the model refuses it.
  bool accept_pending(Candidate& c, size_t p, const HistoryEvent& e, std::string& why) const {
    const Pending pending = std::move(c.pending[p]);
    c.pending.erase(c.pending.begin() + static_cast<std::ptrdiff_t>(p));
    auto fx = send(c, pending);
    if (!fx.ok()) {
      reject(why, "the model refuses the publish of message " + std::to_string(pending.spec.id) + ": " + fx.status().to_string());
      return false;
    }
    const auto at = acceptance(*fx);
    if (!at) {
      const QueueStats st = c.model.stats(pending.queue);
      reject(why, "the model refuses message " + std::to_string(pending.spec.id) + ": queue '" + st.name + "' full (" +
                      std::to_string(st.size) + " of " + std::to_string(st.capacity) + ")");
      return false;
    }
    owe(c, *fx, 0, e, *at);
    return true;
  }

  std::optional<size_t> find_pending(const Candidate& c, QueueId q, MessageId id) const {
    for (size_t i = 0; i < c.pending.size(); ++i) {
      if (c.pending[i].queue == q && c.pending[i].spec.id == id) return i;
    }
    return std::nullopt;
  }

  // A message seen before its publish completed was accepted by then.
  bool sight(Candidate& c, const HistoryEvent& e, std::string& why) const {
    if (!e.id || e.queue.empty() || e.f == EventF::kPublish || e.type != EventType::kOk) return true;
    const auto p = find_pending(c, queue(e.queue), *e.id);
    return !p || accept_pending(c, *p, e, why);
  }

  // c itself, and c with each other pending publish of queue q accepted first: their
  // outcome was still open, so the broker may have taken them before.
  std::vector<Candidate> others_first(Candidate c, QueueId q, const HistoryEvent& e) {
    std::vector<Candidate> out;
    for (size_t i = 0; i < c.pending.size(); ++i) {
      if (c.pending[i].queue != q) continue;
      Candidate b = c;
      std::string ignored;
      if (accept_pending(b, i, e, ignored)) out.push_back(std::move(b));
    }
    out.insert(out.begin(), std::move(c));
    return out;
  }

  // Whether the model refuses `spec` as malformed for e's queue, or for one of the
  // queues bound to e's topic (a topic refuses a message one of them cannot take).
  bool malformed(const Candidate& c, const MessageSpec& spec, const HistoryEvent& e) const {
    const auto refuses = [&](const std::string& name) {
      const auto q = topo().find_queue(name);
      return q && c.model.check_spec(*q, spec).code() == Code::kInvalidArgument;
    };
    return refuses(e.queue) || std::any_of(e.bound.begin(), e.bound.end(), refuses);
  }

  void client_publish(Candidate&& c, const HistoryEvent& e, std::vector<Candidate>& out, std::string& why) {
    const QueueId q = queue(e.queue);
    if (e.type == EventType::kInvoke) {
      const ProducerId producer = topo().find_producer(e.process).value_or(0);
      c.pending.push_back(Pending{producer, q, MessageSpec{*e.id, e.payload.value_or(""), e.priority.value_or(0),
                                                           e.ttl_ns.value_or(0), e.delay_ns.value_or(0), e.max_retries}});
      out.push_back(std::move(c));
      return;
    }
    const auto p = find_pending(c, q, *e.id);
    if (!p) {  // seen (and so accepted) before its completion
      if (e.type == EventType::kOk || e.type == EventType::kInfo) {
        out.push_back(std::move(c));
      } else {
        reject(why, "message " + std::to_string(*e.id) + " was already delivered or handled, so its publish cannot have failed");
      }
      return;
    }
    if (e.type == EventType::kInfo) {
      Candidate now = c;
      std::string ignored;
      out.push_back(std::move(c));  // not (yet) accepted: it may be, at its first sighting
      if (accept_pending(now, *p, e, ignored)) out.push_back(std::move(now));
      return;
    }
    if (e.type == EventType::kFail && e.error != kErrorFull) {
      if (refused_as_malformed(e) && !malformed(c, c.pending[*p].spec, e)) {
        reject(why, "the broker refused message " + std::to_string(*e.id) + " as malformed (" + e.error +
                        "), which the model finds well-formed for every queue it was sent to");
        return;
      }
      c.pending.erase(c.pending.begin() + static_cast<std::ptrdiff_t>(*p));
      out.push_back(std::move(c));
      return;
    }
    const Pending mine = std::move(c.pending[*p]);
    c.pending.erase(c.pending.begin() + static_cast<std::ptrdiff_t>(*p));
    const bool alone = std::none_of(c.pending.begin(), c.pending.end(), [q](const Pending& o) { return o.queue == q; });
    std::vector<Candidate> variants;
    if (alone) {
      variants.push_back(std::move(c));
    } else {
      variants = others_first(std::move(c), q, e);
    }
    for (auto& v : variants) {
      auto fx = send(v, mine);
      if (!fx.ok()) {
        reject(why, "the model rejects the publish: " + fx.status().to_string());
        continue;
      }
      const auto at = acceptance(*fx);
      const bool accepted = at.has_value();
      if (e.type == EventType::kOk && !accepted) {
        const QueueStats st = v.model.stats(q);  // only for the message: stats() is not cheap
        reject(why, "the model refuses it: queue '" + e.queue + "' is full (" + std::to_string(st.size) + " of " +
                        std::to_string(st.capacity) + ")");
        continue;
      }
      if (e.type == EventType::kFail && accepted) {
        const QueueStats st = v.model.stats(q);
        reject(why, "the model accepts it: queue '" + e.queue + "' holds " + std::to_string(st.size - 1) + " of " +
                        std::to_string(st.capacity));
        continue;
      }
      owe(v, *fx, 0, e, at.value_or(0));
      out.push_back(std::move(v));
    }
  }

  bool same_delivery(const Effect& x, const HistoryEvent& e, std::string& why, const std::string& who) const {
    if (x.kind != EffectKind::kDelivered) {
      reject(why, "the model " + who + " delivers nothing");
      return false;
    }
    if (x.message.id != *e.id || name_of(x.consumer) != e.consumer) {
      reject(why, "the model " + who + " delivers message " + std::to_string(x.message.id) + " to '" +
                      name_of(x.consumer) + "'");
      return false;
    }
    if (e.attempts && x.message.attempts != *e.attempts) {
      reject(why, "the model " + who + " delivers it with attempts " + std::to_string(x.message.attempts));
      return false;
    }
    if (e.payload && x.message.payload != *e.payload) {
      reject(why, "the model " + who + " delivers it with payload '" + x.message.payload + "'");
      return false;
    }
    return true;
  }

  // The client op of e, applied to c; with `check`, its outputs must be e's.
  void client_op(Candidate&& c, const HistoryEvent& e, bool check, std::vector<Candidate>& out, std::string& why) {
    const ConsumerId cid = consumer(e.consumer);
    const QueueId q = queue(e.queue);
    std::vector<Candidate> variants;
    if (e.f == EventF::kNack && e.requeue.value_or(true)) {
      variants = budget_branches(std::move(c), [&](const InFlight& f) { return f.consumer == cid && f.message.id == *e.id; });
    } else if (e.f == EventF::kDetach) {
      variants = budget_branches(std::move(c), [&](const InFlight& f) { return f.consumer == cid; });
    } else {
      variants.push_back(std::move(c));
    }
    for (auto& v : variants) {
      const std::optional<Op> op = consumer_op_of(e, cid);
      MQ_CHECK_MSG(op.has_value(), "publish is handled by client_publish");
      Result<Effects> fx = v.model.apply(*op);
      if (!fx.ok()) {
        if (check) reject(why, "the model rejects it: " + fx.status().to_string());
        continue;
      }
      size_t first = 0;
      if (e.f == EventF::kDeliver || e.f == EventF::kAck) {
        first = fx->empty() ? 0 : 1;
        if (check && e.f == EventF::kDeliver && (fx->empty() || !same_delivery(fx->front(), e, why, "fetch"))) {
          if (fx->empty()) reject(why, "the model has nothing to deliver to '" + e.consumer + "'");
          continue;
        }
      }
      if (e.f == EventF::kAttach || e.f == EventF::kDetach) v.free_dispatch[q] = 1;
      owe(v, *fx, first, e);
      out.push_back(std::move(v));
    }
  }

  void client_event(Candidate&& c, const HistoryEvent& e, std::vector<Candidate>& out, std::string& why) {
    if (e.f == EventF::kPublish) return client_publish(std::move(c), e, out, why);
    if (e.type == EventType::kInvoke) {
      out.push_back(std::move(c));
      return;
    }
    if (e.type == EventType::kFail) {
      if (e.f != EventF::kDeliver || e.error != kErrorEmpty) {
        out.push_back(std::move(c));  // it did not happen
        return;
      }
      auto fx = c.model.fetch(consumer(e.consumer));
      if (!fx.ok()) return reject(why, "the model rejects the fetch: " + fx.status().to_string());
      if (!fx->empty()) {
        return reject(why, "the model delivers message " + std::to_string(fx->front().message.id) + " to '" +
                               e.consumer + "'");
      }
      out.push_back(std::move(c));
      return;
    }
    if (e.type == EventType::kInfo) {
      Candidate happened = c;
      out.push_back(std::move(c));
      std::string ignored;
      if (sight(happened, e, ignored)) client_op(std::move(happened), e, false, out, ignored);
      return;
    }
    if (!sight(c, e, why)) return;
    client_op(std::move(c), e, true, out, why);
  }

  void push_delivery(Candidate&& c, const HistoryEvent& e, std::vector<Candidate>& out, std::string& why) {
    const QueueId q = queue(e.queue);
    if (c.free_dispatch[q]) {
      c.free_dispatch[q] = 0;
      const auto ring = topo().consumers_of(q);
      const auto it = std::find(ring.begin(), ring.end(), consumer(e.consumer));
      if (it != ring.end()) {
        ModelState s = c.model.state();
        s.queues[q].rr_cursor = static_cast<uint32_t>(it - ring.begin());
        set_state(c, std::move(s));
      }
    }
    auto fx = c.model.dispatch(q);
    if (!fx.ok()) return reject(why, "the model rejects a dispatch: " + fx.status().to_string());
    if (fx->empty()) return reject(why, "the model has nothing to push (no ready message, or no consumer with credit)");
    if (!same_delivery(fx->front(), e, why, "push")) return;
    owe(c, *fx, 1, e);
    out.push_back(std::move(c));
  }

  void broker_event(Candidate&& c, const HistoryEvent& e, std::vector<Candidate>& out, std::string& why) {
    if (!sight(c, e, why)) return;
    const auto kind = effect_of_f(e.f);
    const QueueId q = queue(e.queue);
    for (auto it = c.owed.begin(); kind && it != c.owed.end(); ++it) {
      const bool consumer_ok = e.consumer.empty() || it->consumer == kNoConsumer || name_of(it->consumer) == e.consumer;
      if (it->kind == *kind && it->queue == q && it->id == *e.id && consumer_ok) {
        c.owed.erase(it);
        out.push_back(std::move(c));
        return;
      }
    }
    if (e.f == EventF::kDeliver) return push_delivery(std::move(c), e, out, why);
    std::string owed;
    for (const auto& o : c.owed) {
      if (owed.size() > 200) break;
      owed += std::string(owed.empty() ? "" : ", ") + effect_kind_name(o.kind) + " " + std::to_string(o.id);
    }
    reject(why, std::string("the model has no ") + event_f_name(e.f) + " of message " + std::to_string(*e.id) +
                    " in '" + e.queue + "' to report" + (owed.empty() ? "" : " (it owes: " + owed + ")"));
  }

  void nemesis_event(Candidate&& c, const HistoryEvent& e, std::vector<Candidate>& out, std::string& why) {
    std::vector<Candidate> variants;
    if (e.f == EventF::kCrash) {
      const Topology& t = topo();
      variants = budget_branches(std::move(c), [&](const InFlight& f) {
        return t.queues[t.queue_of(f.consumer)].durable;
      });
    } else {
      variants.push_back(std::move(c));
    }
    for (auto& v : variants) {
      auto fx = e.f == EventF::kCrash ? v.model.crash() : v.model.recover();
      if (!fx.ok()) {
        reject(why, "the model rejects it: " + fx.status().to_string());
        continue;
      }
      std::fill(v.free_dispatch.begin(), v.free_dispatch.end(), 1);
      owe(v, *fx, 0, e);
      out.push_back(std::move(v));
    }
  }

  // A message the history finished (its ack ok, expire, dead-letter, lost passed):
  // finished in every candidate that survived the event, so its id may never be
  // accepted again. Kept per queue for the latest kRememberFinished such ids.
  void retain_finished(QueueId q, MessageId id) {
    FinishedIds& f = finished_ids[q];
    if (!f.ids.insert(id).second) return;
    f.order.push_back(id);
    if (f.order.size() > kRememberFinished) {
      f.ids.erase(f.order.front());
      f.order.pop_front();
    }
    ++retained_since_prune;
  }

  // Drops from the model's finished lists the ids finished_ids holds, in every
  // candidate at once (so that equal candidates stay equal). Not for a dead-letter
  // queue: the model itself reads its finished ids to refuse a dead-letter arrival.
  void prune_confirmed() {
    if (retained_since_prune < kPruneBatch) return;
    retained_since_prune = 0;
    for (auto& c : candidates) {
      ModelState s = c.model.state();
      for (QueueId q = 0; q < s.queues.size(); ++q) {
        if (dead_letter_target[q]) continue;
        std::erase_if(s.queues[q].finished, [&](const Finished& f) { return finished_ids[q].ids.contains(f.id); });
      }
      set_state(c, std::move(s));
    }
  }

  // The bound on what is left: finishes the history does not show (an `info` ack a
  // candidate took as done) and a dead-letter queue's.
  void prune_finished(Candidate& c) const {
    bool over = false;
    for (const auto& qs : c.model.state().queues) over = over || qs.finished.size() > 2 * kKeepFinishedIds;
    if (!over) return;
    ModelState s = c.model.state();
    for (auto& qs : s.queues) {
      if (qs.finished.size() > kKeepFinishedIds) {
        qs.finished.erase(qs.finished.begin(), qs.finished.end() - static_cast<std::ptrdiff_t>(kKeepFinishedIds));
      }
    }
    set_state(c, std::move(s));
  }

  // c at time t (later than now: each visibility timeout due by then has its retry
  // budget open or exhausted), each branch passed to `then`.
  template <typename Then>
  void advance_to(Candidate&& c, TimeNs t, const HistoryEvent& e, Then&& then) {
    if (t <= c.model.now()) return then(std::move(c));
    for (auto& b : budget_branches(std::move(c), [t](const InFlight& f) { return f.deadline_ns != 0 && f.deadline_ns <= t; })) {
      auto fx = b.model.advance(t);
      MQ_CHECK(fx.ok());
      owe(b, *fx, 0, e);
      then(std::move(b));
    }
  }

  // The broker's acceptance time of a client's publish completion, when the event
  // stamps one before the completion and not before what c has already judged: the
  // publish is then applied at that time (its TTL and delay run from it, and what
  // fell due between it and the completion comes after it).
  static std::optional<TimeNs> acceptance_time(const Candidate& c, const HistoryEvent& e) {
    if (!e.is_client() || e.f != EventF::kPublish || e.type == EventType::kInvoke || !e.timestamp_ns) {
      return std::nullopt;
    }
    if (*e.timestamp_ns >= e.time_ns || *e.timestamp_ns < c.model.now()) return std::nullopt;
    return e.timestamp_ns;
  }

  void step(Candidate&& c, const HistoryEvent& e, std::vector<Candidate>& out, std::string& why) {
    const size_t before = out.size();
    if (const auto at = acceptance_time(c, e)) {
      std::vector<Candidate> judged;
      advance_to(std::move(c), *at, e, [&](Candidate&& b) { judge(std::move(b), e, judged, why); });
      for (auto& j : judged) advance_to(std::move(j), e.time_ns, e, [&](Candidate&& b) { out.push_back(std::move(b)); });
    } else {
      advance_to(std::move(c), e.time_ns, e, [&](Candidate&& b) { judge(std::move(b), e, out, why); });
    }
    for (size_t i = before; i < out.size(); ++i) prune_finished(out[i]);
  }

  void judge(Candidate&& c, const HistoryEvent& e, std::vector<Candidate>& out, std::string& why) {
    if (e.f == EventF::kCrash || e.f == EventF::kRecover) {
      nemesis_event(std::move(c), e, out, why);
    } else if (e.is_client()) {
      client_event(std::move(c), e, out, why);
    } else {
      broker_event(std::move(c), e, out, why);
    }
  }

  static bool same(const Candidate& a, const Candidate& b) {
    return a.owed == b.owed && a.pending == b.pending && a.free_dispatch == b.free_dispatch &&
           a.model.state() == b.model.state();
  }

  void dedupe(std::vector<Candidate>& cs) const {
    if (cs.size() < 2) return;
    std::vector<uint64_t> hashes;
    std::vector<Candidate> kept;
    for (auto& c : cs) {
      const uint64_t h = hash_state(c.model.state());
      bool dup = false;
      for (size_t i = 0; i < kept.size() && !dup; ++i) dup = hashes[i] == h && same(kept[i], c);
      if (dup) continue;
      hashes.push_back(h);
      kept.push_back(std::move(c));
    }
    cs = std::move(kept);
  }

  void add(const EventPtr& ptr) {
    const HistoryEvent& e = *ptr;
    current = ptr;
    if (stopped) return;
    if (is_fault_f(e.f)) return;  // a fault (partition, disk, ...) is no step of the model
    ++events;
    current_queue = e.queue.empty() ? std::nullopt : topo().find_queue(e.queue);
    current_consumer = e.consumer.empty() ? std::nullopt : topo().find_consumer(e.consumer);
    std::vector<Candidate>& next = scratch;  // reused: no allocation per event
    next.clear();
    std::string why;
    truncated_here = false;
    for (auto& c : candidates) step(std::move(c), e, next, why);
    dedupe(next);
    if (next.size() > kMaxRefinementCandidates) {
      next.erase(next.begin() + static_cast<std::ptrdiff_t>(kMaxRefinementCandidates), next.end());
      truncated_here = true;
    }
    if (truncated_here) truncated = true;
    max_candidates = std::max(max_candidates, next.size());
    if (next.empty()) {
      stopped = true;
      if (truncated) {
        inconclusive_at = e;
        return;
      }
      std::vector<HistoryEvent> witness{e};
      if (e.id) {
        if (auto it = last_seen.find(key_of(e)); it != last_seen.end()) witness.push_back(*it->second);
      }
      violation = fail(kRefinement, where(e) + ": the model does not allow this " + event_f_name(e.f) + ": " + why,
                       std::move(witness));
      return;
    }
    std::swap(candidates, next);
    next.clear();
    if (e.id && current_queue && finishes_message(e)) retain_finished(*current_queue, *e.id);
    prune_confirmed();
    if (e.id && !e.queue.empty()) {
      if (finishes_message(e)) {
        last_seen.erase(key_of(e));
      } else {
        last_seen.insert_or_assign(key_of(e), ptr);
      }
    }
  }

  Verdict finish() const {
    if (violation) return *violation;
    if (inconclusive_at) {
      return pass(kRefinement, "not judged from " + where(*inconclusive_at) + " on: the history left more than " +
                                   std::to_string(kMaxRefinementCandidates) + " model states open (inconclusive)");
    }
    if (options.complete) {
      const Candidate* best = nullptr;
      for (const auto& c : candidates) {
        if (c.owed.empty()) best = &c;
      }
      if (best == nullptr) {
        const Owed& o = candidates.front().owed.front();
        return fail(kRefinement, std::string("the model owes ") + effect_kind_name(o.kind) + " of message " +
                                     std::to_string(o.id) + " in '" + topo().queues[o.queue].name + "' (since " +
                                     where(*o.cause) + "), but the complete history ends without it",
                    {*o.cause});
      }
    }
    return pass(kRefinement, std::to_string(events) + " events, each allowed by the model (at most " +
                                 std::to_string(max_candidates) + " candidate states at once)");
  }

  RefinementOptions options;
  std::shared_ptr<const Wiring> wiring;
  std::vector<Candidate> candidates;
  std::vector<Candidate> scratch;  // the next candidates, built while judging an event
  std::unordered_map<MessageKey, EventPtr, MessageKeyHash> last_seen;
  EventPtr current;  // the event add() is judging
  std::optional<QueueId> current_queue;        // its queue's id
  std::optional<ConsumerId> current_consumer;  // its consumer's id
  struct FinishedIds {
    std::unordered_set<MessageId> ids;
    std::deque<MessageId> order;  // oldest first
  };
  std::vector<FinishedIds> finished_ids;     // [QueueId]
  std::vector<uint8_t> dead_letter_target;   // [QueueId]: some queue dead-letters into it
  uint64_t retained_since_prune = 0;
  std::optional<Verdict> violation;
  std::optional<HistoryEvent> inconclusive_at;
  bool stopped = false;
  bool truncated = false;
  bool truncated_here = false;
  uint64_t events = 0;
  size_t max_candidates = 1;
};

RefinementChecker::RefinementChecker(const Topology& topology, RefinementOptions options)
    : impl_(std::make_unique<Impl>(topology, options)) {}
RefinementChecker::~RefinementChecker() = default;
RefinementChecker::RefinementChecker(RefinementChecker&&) noexcept = default;

void RefinementChecker::add(const HistoryEvent& e) { impl_->add(std::make_shared<const HistoryEvent>(e)); }
void RefinementChecker::add(const EventPtr& e) { impl_->add(e); }
Verdict RefinementChecker::finish() const { return impl_->finish(); }
size_t RefinementChecker::candidates() const { return impl_->candidates.size(); }

Verdict check_refinement(const History& history, const Topology& topology, const RefinementOptions& options) {
  RefinementChecker c(topology, options);
  for (const auto& e : history.events) c.add(e);
  return c.finish();
}

}  // namespace mq
