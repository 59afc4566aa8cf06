// Checkers, property-based: a history recorded from a random walk of the model passes
// every checker; the same history with ONE injected anomaly is caught by the checker
// made for it, and by no checker outside the set this file states (with the reason)
// for that anomaly. The only translation unit with RapidCheck templates for checkers.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/prng.h"
#include "model/history_recorder.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/load_balance.h"
#include "properties/model_walk.h"

namespace mq {
namespace {

struct Walk {
  Topology topology;
  History history;
};

// A walk in progress: the model, what it recorded, and the next fresh message id.
struct Run {
  Topology topology;
  std::optional<Model> model;
  std::optional<HistoryRecorder> recorder;
  MessageId next_id = 1;

  Result<Effects> apply(const Op& op) {
    auto result = model->apply(op);  // before model->now(): argument order is unspecified
    recorder->record(op, result, model->now());
    return result;
  }
  // An op whose refusal is part of the walk: the recorder writes it as a fail.
  void step(const Op& op) { static_cast<void>(apply(op)); }
  size_t recorded() const { return recorder->history().events.size(); }
};

// A random walk of the model (properties/model_walk.h's random_choice, weighted to
// keep a run busy: sends, dispatches, fetches, acks, time), recorded. RapidCheck
// draws (and shrinks) the topology, the walk's seed and its length.
Run record_run() {
  const auto topology_seed = *rc::gen::arbitrary<uint64_t>();
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto steps = *rc::gen::inRange(10, 400);
  Prng topo_prng(topology_seed);
  Run r;
  r.topology = topology_seed % 2 == 0 ? default_topology() : random_topology(topo_prng);
  auto created = Model::create(r.topology);
  RC_ASSERT(created.ok());
  r.model.emplace(std::move(created).value());
  r.recorder.emplace(r.topology, "walk");
  Prng prng(seed);
  for (int i = 0; i < steps; ++i) r.step(interpret(*r.model, random_choice(prng, *r.model), r.next_id));
  return r;
}

Walk record_walk() {
  Run r = record_run();
  return Walk{r.topology, r.recorder->take()};
}

// Faults stop and the run drains, recorded (as properties/model_walk.h's drain): the
// broker recovers, every consumer attaches, every queue is dispatched and every
// delivery acked, time advances to the next due event, until nothing moves.
constexpr int kMaxQuiesceRounds = 10000;
void quiesce(Run& r) {
  if (!r.model->state().up) r.step(op::Recover{});
  for (ConsumerId c = 0; c < r.model->state().attached.size(); ++c) {
    if (!r.model->state().attached[c]) r.step(op::Attach{c});
  }
  for (int round = 0; round < kMaxQuiesceRounds; ++round) {
    bool progress = false;
    for (QueueId q = 0; q < r.model->state().queues.size(); ++q) {
      const auto result = r.apply(op::Dispatch{q});
      progress = progress || (result.ok() && !result->empty());
    }
    std::vector<std::pair<ConsumerId, MessageId>> held;
    for (const auto& qs : r.model->state().queues) {
      for (const auto& f : qs.in_flight) held.emplace_back(f.consumer, f.message.id);
    }
    for (const auto& [c, id] : held) r.step(op::Ack{c, id});
    if (progress) continue;
    const auto next = r.model->next_event_time();
    if (!next) return;
    r.step(op::Advance{*next});
  }
}

std::string describe(const History& h) {
  std::string out = "history:\n";
  for (const auto& e : h.events) out += "  " + to_string(e) + "\n";
  return out;
}

void renumber(History& h) {
  for (size_t i = 0; i < h.events.size(); ++i) {
    h.events[i].index = i;
    h.events[i].line = 0;
  }
}

// The anomaly was caught by `must`, and nothing outside `must` + `may` fired.
void expect_caught(const Walk& w, const std::string& must, const std::set<std::string>& may) {
  const auto verdicts = check_all(w.history, w.topology);
  bool caught = false;
  for (const auto& v : verdicts) {
    if (v.valid) continue;
    caught = caught || v.property == must;
    if (v.property != must && !may.contains(v.property)) {
      RC_FAIL("should not fire: " + to_string(v) + describe(w.history));
    }
  }
  if (!caught) RC_FAIL(must + " missed the anomaly; " + describe(w.history));
}

bool is_push(const HistoryEvent& e) {
  return e.f == EventF::kDeliver && e.type == EventType::kOk && !e.is_client();
}

RC_GTEST_PROP(CheckerProperty, RecordedWalksOfTheModelPassEveryChecker, ()) {
  const Walk w = record_walk();
  for (const auto& v : check_all(w.history, w.topology)) {
    if (!v.valid) RC_FAIL(to_string(v) + describe(w.history));
  }
}

// Duplicate: a push delivered twice in a row, same attempt count.
//  must: duplicates (nothing gave it back between the two, attempts not above).
//  may:  refinement (the model owes no second push); load-balance (one more push to
//        one consumer can widen a window's spread past epsilon).
//  not:  integrity, ttl-delay (the copy has the original's message and time, which
//        passed); order (not a first delivery); priority (the copy is judged in the
//        state the original was, but with its own message in flight: no more ready
//        messages); capacity, no-loss, completeness (the replay's sizes and places
//        do not change: in flight stays in flight).
RC_GTEST_PROP(CheckerProperty, ADuplicatedPushIsCaughtByDuplicates, ()) {
  Walk w = record_walk();
  std::vector<size_t> pushes;
  for (size_t i = 0; i < w.history.events.size(); ++i) {
    if (is_push(w.history.events[i])) pushes.push_back(i);
  }
  RC_PRE(!pushes.empty());
  const size_t at = *rc::gen::elementOf(pushes);
  w.history.events.insert(w.history.events.begin() + static_cast<std::ptrdiff_t>(at) + 1, w.history.events[at]);
  renumber(w.history);
  expect_caught(w, "duplicates", {"refinement", "load-balance"});
}

// Invent: a push of an id never published in its queue.
//  must: integrity (delivered but never published).
//  may:  refinement (the model has no such message); load-balance (an extra push);
//        priority (the invented message has priority 0: a higher one may be ready).
//  not:  duplicates (a first delivery); ttl-delay, order (no publish to judge it
//        against); capacity, no-loss (never accepted, so never live in the replay);
//        completeness (held from its sighting, but the history is not complete).
RC_GTEST_PROP(CheckerProperty, AnInventedMessageIsCaughtByIntegrity, ()) {
  Walk w = record_walk();
  RC_PRE(!w.history.events.empty());
  size_t after = *rc::gen::inRange<size_t>(0, w.history.events.size());
  // Not between a publish to a full drop-oldest queue and the drop that made room for
  // it, which the history records next to each other (capacity would rightly see the
  // pair broken).
  while (after + 1 < w.history.events.size() && w.history.events[after + 1].f == EventF::kDrop) ++after;
  const ConsumerId c = *rc::gen::inRange<ConsumerId>(0, static_cast<ConsumerId>(w.topology.consumers.size()));
  MessageId fresh = 1;
  for (const auto& e : w.history.events) fresh = std::max(fresh, e.id.value_or(0) + 1);
  HistoryEvent push;
  push.process = std::string(kBrokerProcess);
  push.type = EventType::kOk;
  push.f = EventF::kDeliver;
  push.time_ns = w.history.events[after].time_ns;
  push.queue = w.topology.consumers[c].queue;
  push.consumer = w.topology.consumers[c].name;
  push.id = fresh + 1000;
  push.payload = "invented";
  push.attempts = 1;
  w.history.events.insert(w.history.events.begin() + static_cast<std::ptrdiff_t>(after) + 1, push);
  renumber(w.history);
  expect_caught(w, "integrity", {"refinement", "load-balance", "priority"});
}

// A client publish (invoke, ok) of a message later delivered at a later time.
struct Published {
  size_t invoke = 0, ok = 0, delivered = 0;
};
std::vector<Published> published_then_delivered_later(const History& h) {
  std::vector<Published> out;
  for (size_t i = 0; i + 1 < h.events.size(); ++i) {
    const HistoryEvent& inv = h.events[i];
    const HistoryEvent& ok = h.events[i + 1];
    if (!inv.is_client() || inv.f != EventF::kPublish || inv.type != EventType::kInvoke || ok.type != EventType::kOk ||
        ok.process != inv.process || !ok.timestamp_ns || inv.delay_ns.value_or(0) != 0 || inv.ttl_ns.value_or(0) != 0) {
      continue;
    }
    for (size_t j = i + 2; j < h.events.size(); ++j) {
      const HistoryEvent& d = h.events[j];
      // A queue whose window forgot the id (or that finished it) may take the id again:
      // a later publish of it is another message.
      if (d.f == EventF::kPublish && d.type == EventType::kOk && d.queue == ok.queue && d.id == ok.id) break;
      if (d.f == EventF::kDeliver && d.type == EventType::kOk && d.queue == ok.queue && d.id == ok.id) {
        if (d.time_ns > *ok.timestamp_ns) out.push_back(Published{i, i + 1, j});
        break;
      }
    }
  }
  return out;
}

// Early delivery: the message's publish asked for a delay that ends after its
// first delivery.
//  must: ttl-delay (delivered before accepted + delay_ns).
//  may:  refinement (the model would have held it back).
//  not:  the replay now places the message delayed, never surely ready (no release
//        event), and order leaves out a delayed message without release: each of
//        priority, no-loss and order judges fewer pairs than in the valid history;
//        integrity, duplicates, capacity, load-balance and completeness do not read
//        the delay.
RC_GTEST_PROP(CheckerProperty, AnEarlyDeliveryIsCaughtByTtlDelay, ()) {
  Walk w = record_walk();
  const auto candidates = published_then_delivered_later(w.history);
  RC_PRE(!candidates.empty());
  const Published p = *rc::gen::elementOf(candidates);
  auto& events = w.history.events;
  const TimeNs accepted = *events[p.ok].timestamp_ns;
  const TimeNs delay = events[p.delivered].time_ns - accepted + 1;
  events[p.invoke].delay_ns = delay;
  events[p.ok].delay_ns = delay;
  events[p.ok].not_before_ns = accepted + delay;
  expect_caught(w, "ttl-delay", {"refinement"});
}

// Late delivery: the message's publish had a TTL that ends by its first delivery.
//  must: ttl-delay (delivered at or after accepted + ttl_ns).
//  may:  refinement (the model would have expired it).
//  not:  a TTL only shortens the time a message is surely ready (priority, no-loss)
//        and order and the others do not read it.
RC_GTEST_PROP(CheckerProperty, ALateDeliveryIsCaughtByTtlDelay, ()) {
  Walk w = record_walk();
  const auto candidates = published_then_delivered_later(w.history);
  RC_PRE(!candidates.empty());
  const Published p = *rc::gen::elementOf(candidates);
  auto& events = w.history.events;
  const TimeNs ttl = events[p.delivered].time_ns - *events[p.ok].timestamp_ns;
  events[p.invoke].ttl_ns = ttl;
  events[p.ok].ttl_ns = ttl;
  expect_caught(w, "ttl-delay", {"refinement"});
}

// Drop: a message the broker confirmed is reported lost at the end while the broker
// is up (or by a durable queue).
//  must: no-loss (lost while up, or by a durable queue).
//  may:  refinement (the model owes no such loss).
//  not:  the event is the last one, and a loss only finishes the message: nothing
//        later is judged against it; completeness accepts lost as a finish.
RC_GTEST_PROP(CheckerProperty, ADroppedMessageIsCaughtByNoLoss, ()) {
  Walk w = record_walk();
  std::set<std::pair<std::string, MessageId>> live;
  bool up = true;
  for (const auto& e : w.history.events) {
    if (e.f == EventF::kCrash) up = false;
    if (e.f == EventF::kRecover) up = true;
    if (e.type != EventType::kOk || !e.id) continue;
    if (e.f == EventF::kPublish) live.emplace(e.queue, *e.id);
    if (e.f == EventF::kAck || e.f == EventF::kExpire || e.f == EventF::kDeadLetter || e.f == EventF::kLost) {
      live.erase({e.queue, *e.id});
    }
  }
  std::vector<std::pair<std::string, MessageId>> droppable;
  for (const auto& m : live) {
    if (up || w.topology.queues[*w.topology.find_queue(m.first)].durable) droppable.push_back(m);
  }
  RC_PRE(!droppable.empty());
  const auto [queue, id] = *rc::gen::elementOf(droppable);
  HistoryEvent lost;
  lost.process = std::string(kBrokerProcess);
  lost.type = EventType::kOk;
  lost.f = EventF::kLost;
  lost.time_ns = w.history.events.back().time_ns;
  lost.queue = queue;
  lost.id = id;
  w.history.events.push_back(lost);
  renumber(w.history);
  expect_caught(w, "no-loss", {"refinement"});
}

// Two messages of one queue and priority level, each published once by a client (no
// TTL, no delay, the same retry budget, never dead-lettered), a surely ready before b
// was published (a's ok precedes b's invoke), both accepted before a's first
// delivery, which precedes b's. Swapping them from a's first delivery on makes the
// broker deliver b first.
struct Swappable {
  std::string queue;
  MessageId a = 0, b = 0;
  size_t from = 0;  // a's first delivery
};
struct Life {
  int publishes = 0;
  size_t invoke = kNoEvent, ok = kNoEvent, first = kNoEvent;
  const HistoryEvent* accepted = nullptr;  // the publish ok
  bool dead_lettered = false;
};
std::vector<Swappable> swappable(const History& h) {
  std::map<std::pair<std::string, MessageId>, Life> lives;
  for (size_t i = 0; i < h.events.size(); ++i) {
    const HistoryEvent& e = h.events[i];
    if (!e.id || e.queue.empty()) continue;
    Life& l = lives[{e.queue, *e.id}];
    if (e.f == EventF::kPublish && e.type == EventType::kInvoke) {
      ++l.publishes;
      l.invoke = i;
    }
    if (e.f == EventF::kPublish && e.type == EventType::kOk && e.is_client()) {
      l.ok = i;
      l.accepted = &e;
    }
    if (e.f == EventF::kDeliver && e.type == EventType::kOk && l.first == kNoEvent) l.first = i;
    if (e.f == EventF::kDeadLetter) l.dead_lettered = true;
  }
  auto plain = [](const Life& l) {
    return l.publishes == 1 && l.accepted != nullptr && l.first != kNoEvent && !l.dead_lettered &&
           l.accepted->ttl_ns.value_or(0) == 0 && l.accepted->delay_ns.value_or(0) == 0;
  };
  std::vector<Swappable> out;
  for (const auto& [ka, a] : lives) {
    if (!plain(a)) continue;
    for (const auto& [kb, b] : lives) {
      if (kb.first != ka.first || !plain(b) || a.ok > b.invoke || b.ok > a.first || a.first > b.first) continue;
      if (a.accepted->priority.value_or(0) != b.accepted->priority.value_or(0) ||
          a.accepted->max_retries != b.accepted->max_retries) {
        continue;
      }
      out.push_back(Swappable{ka.first, ka.second, kb.second, a.first});
    }
  }
  return out;
}

// Swap: two first deliveries of one queue and level exchanged. From a's first
// delivery on, a and b trade every event of their queue (id, payload, acceptance
// stamps; the attempt counts follow the events), so b is delivered first and a where
// b was, and each goes on consistently.
//  must: order (a was ready before b was published, but first delivered after it).
//  may:  refinement (the model delivers in FIFO order).
//  not:  integrity (each delivery carries its message's own payload, after its
//        publish); duplicates and completeness (each message's deliveries, attempts,
//        acks, nacks and requeues are the other's, and the two had the same retry
//        budget and were both accepted before either was delivered); priority,
//        capacity, load-balance (same level, same sizes, same consumers); no-loss (a
//        is surely ready from earlier than b was, where b was ready before: an empty
//        fetch there would already be a violation); ttl-delay (no TTL, no delay).
RC_GTEST_PROP(CheckerProperty, ASwapIsCaughtByOrder, ()) {
  Walk w = record_walk();
  const auto candidates = swappable(w.history);
  RC_PRE(!candidates.empty());
  const Swappable p = *rc::gen::elementOf(candidates);
  auto stamps = [&](MessageId id) {
    HistoryEvent out;
    for (const auto& e : w.history.events) {
      if (e.f == EventF::kPublish && e.type == EventType::kOk && e.queue == p.queue && e.id == id) out = e;
    }
    return out;
  };
  const HistoryEvent a = stamps(p.a);
  const HistoryEvent b = stamps(p.b);
  for (size_t i = p.from; i < w.history.events.size(); ++i) {
    HistoryEvent& e = w.history.events[i];
    if (e.queue != p.queue || (e.id != p.a && e.id != p.b)) continue;
    const HistoryEvent& to = e.id == p.a ? b : a;
    e.id = to.id;
    if (e.payload) e.payload = to.payload;
    if (e.timestamp_ns) e.timestamp_ns = to.timestamp_ns;
    if (e.not_before_ns) e.not_before_ns = to.not_before_ns;
  }
  expect_caught(w, "order", {"refinement"});
}

// Unfair dispatch: after the run drains, one consumer x of a queue gets pushes that
// round-robin gave to others. A consumer of the queue detaches and attaches again
// (a window of its own, every consumer attached and with credit); then, one message
// at a time, the model takes a fresh message, pushes it to the consumer whose turn it
// is, and that consumer acks it; each push (and its ack) to a consumer with x's ack
// mode is recorded as x's, until x has epsilon + 1 pushes in the window. At least one
// other consumer with x's ack mode gets none.
//  must: load-balance (x got epsilon + 1 more pushes than a consumer with credit).
//  may:  refinement (the model pushes to the consumer whose turn it is).
//  not:  the queue is empty when the fresh messages start, each is published,
//        delivered once and acked before the next: integrity, no-loss, duplicates,
//        order, priority, capacity, ttl-delay and completeness judge a plain run.
RC_GTEST_PROP(CheckerProperty, AnUnfairDispatchIsCaughtByLoadBalance, ()) {
  Run r = record_run();
  quiesce(r);
  const Topology& t = r.topology;
  std::vector<std::pair<QueueId, ConsumerId>> candidates;
  for (QueueId q = 0; q < t.queues.size(); ++q) {
    if (r.model->state().queues[q].size() != 0) continue;
    const auto consumers = t.consumers_of(q);
    for (ConsumerId x : consumers) {
      for (ConsumerId y : consumers) {
        if (y != x && t.consumers[y].ack_mode == t.consumers[x].ack_mode) {
          candidates.emplace_back(q, x);
          break;
        }
      }
    }
  }
  RC_PRE(r.model->state().up && !candidates.empty() && !t.producers.empty());
  const auto [q, x] = *rc::gen::elementOf(candidates);
  const ConsumerId other = t.consumers_of(q).front() == x ? t.consumers_of(q).back() : t.consumers_of(q).front();
  r.step(op::Detach{other});
  r.step(op::Attach{other});
  const std::string& x_name = t.consumers[x].name;
  const uint32_t epsilon = load_balance_epsilon(t, q);
  std::vector<std::pair<size_t, ConsumerId>> moved;  // (first event of the push, its consumer)
  uint32_t to_x = 0;
  const size_t max_rounds = (epsilon + 1) * t.consumers_of(q).size();
  for (size_t round = 0; to_x <= epsilon && round < max_rounds; ++round) {
    MessageSpec spec;
    spec.id = r.next_id++;
    spec.payload = "fresh" + std::to_string(spec.id);
    RC_ASSERT(r.apply(op::Send{0, q, spec}).ok());
    const size_t pushed_at = r.recorded();
    RC_ASSERT(r.apply(op::Dispatch{q}).ok());
    RC_ASSERT(r.recorded() > pushed_at);
    const HistoryEvent& push = r.recorder->history().events[pushed_at];
    RC_ASSERT(is_push(push) && push.id == spec.id);
    const ConsumerId z = *t.find_consumer(push.consumer);
    if (t.consumers[z].ack_mode == AckMode::kManual) RC_ASSERT(r.apply(op::Ack{z, spec.id}).ok());
    if (t.consumers[z].ack_mode != t.consumers[x].ack_mode) continue;
    moved.emplace_back(pushed_at, z);
    ++to_x;
  }
  RC_ASSERT(to_x == epsilon + 1);
  Walk w{r.topology, r.recorder->take()};
  for (size_t m = 0; m < moved.size(); ++m) {
    const size_t end = m + 1 < moved.size() ? moved[m + 1].first : w.history.events.size();
    const std::string& z_name = t.consumers[moved[m].second].name;
    for (size_t i = moved[m].first; i < end; ++i) {
      HistoryEvent& e = w.history.events[i];
      if (e.consumer == z_name) e.consumer = x_name;
      if (e.process == z_name) e.process = x_name;
    }
  }
  expect_caught(w, "load-balance", {"refinement"});
}

}  // namespace
}  // namespace mq
