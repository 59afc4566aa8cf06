// Checkers, property-based: a history recorded from a random walk of the model passes
// every checker; the same history with ONE injected anomaly is caught by the checker
// made for it, and by no checker outside the set this file states (with the reason)
// for that anomaly. The only translation unit with RapidCheck templates for checkers.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "base/prng.h"
#include "model/history_recorder.h"
#include "properties/checkers/check_all.h"
#include "properties/model_walk.h"

namespace mq {
namespace {

struct Walk {
  Topology topology;
  History history;
};

// A random walk of the model (properties/model_walk.h's random_choice, weighted to
// keep a run busy: sends, dispatches, fetches, acks, time), recorded. RapidCheck
// draws (and shrinks) the topology, the walk's seed and its length.
Walk record_walk() {
  const auto topology_seed = *rc::gen::arbitrary<uint64_t>();
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto steps = *rc::gen::inRange(10, 400);
  Prng topo_prng(topology_seed);
  Walk w{topology_seed % 2 == 0 ? default_topology() : random_topology(topo_prng), {}};
  auto created = Model::create(w.topology);
  RC_ASSERT(created.ok());
  Model model = std::move(created).value();
  HistoryRecorder recorder(w.topology, "walk");
  Prng prng(seed);
  MessageId next_id = 1;
  for (int i = 0; i < steps; ++i) {
    const Op op = interpret(model, random_choice(prng, model), next_id);
    const auto result = model.apply(op);  // before model.now(): argument order is unspecified
    recorder.record(op, result, model.now());
  }
  w.history = recorder.take();
  return w;
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
  const size_t after = *rc::gen::inRange<size_t>(0, w.history.events.size());
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

}  // namespace
}  // namespace mq
