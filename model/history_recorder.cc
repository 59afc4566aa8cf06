#include "model/history_recorder.h"

#include <variant>

#include "base/huge_pages.h"
#include "base/overloaded.h"

namespace mq {
namespace {

// `queue_max_retries`: the budget of a message sent without its own.
void put_spec(HistoryEvent& e, const MessageSpec& spec, uint32_t queue_max_retries) {
  e.id = spec.id;
  e.payload = spec.payload;
  e.priority = spec.priority;
  e.ttl_ns = spec.ttl_ns;
  e.delay_ns = spec.delay_ns;
  e.max_retries = spec.max_retries.value_or(queue_max_retries);
}

void put_message(HistoryEvent& e, const Message& m) {
  e.id = m.id;
  e.payload = m.payload;
  e.priority = m.priority;
  e.ttl_ns = m.ttl_ns;
  e.timestamp_ns = m.timestamp_ns;
  e.not_before_ns = m.not_before_ns;
  if (m.attempts > 0) e.attempts = m.attempts;
}

EventF broker_f_of(EffectKind kind) {
  const auto f = event_f_of(kind);
  // Only a send is refused, and record_send consumes that effect itself.
  MQ_CHECK_MSG(f.has_value(), "a refusal outside a send");
  return *f;
}

std::string error_of(const Result<Effects>& result) { return result.status().to_string(); }

}  // namespace

HistoryRecorder::HistoryRecorder(Topology topology, std::string source)
    : topology_(std::move(topology)) {
  MQ_CHECK(topology_.validate().ok());
  for (const auto& p : topology_.producers) MQ_CHECK(p.name != kBrokerProcess && p.name != kNemesisProcess);
  for (const auto& c : topology_.consumers) MQ_CHECK(c.name != kBrokerProcess && c.name != kNemesisProcess);
  history_.source = std::move(source);
}

void HistoryRecorder::reserve(size_t events) {
  if (events <= history_.events.capacity()) return;
  history_.events.reserve(events);
  advise_huge_pages(history_.events.data(), history_.events.capacity() * sizeof(HistoryEvent));
}

HistoryEvent& HistoryRecorder::push(EventType type, EventF f, std::string process, std::string queue) {
  HistoryEvent e;
  e.index = history_.events.size();
  e.process = std::move(process);
  e.type = type;
  e.f = f;
  e.time_ns = now_ns_;
  e.queue = std::move(queue);
  history_.events.push_back(std::move(e));
  return history_.events.back();
}

void HistoryRecorder::broker_events(const Effects& effects, size_t first) {
  for (size_t i = first; i < effects.size(); ++i) {
    const Effect& x = effects[i];
    HistoryEvent& e = push(EventType::kOk, broker_f_of(x.kind), std::string(kBrokerProcess),
                           topology_.queues[x.queue].name);
    put_message(e, x.message);
    if (x.kind == EffectKind::kAccepted) {
      e.delay_ns = x.message.not_before_ns - x.message.timestamp_ns;
      e.max_retries = x.message.max_retries;
    }
    if (x.consumer != kNoConsumer) e.consumer = topology_.consumers[x.consumer].name;
  }
}

// One invoke and one completion per queue the message was sent to, in queue order;
// a topic publish (`topic` set) names the topic and its bound queues on each. A drop
// that made room for the message (drop-oldest) comes right after its completion.
void HistoryRecorder::record_send(ProducerId p, const std::vector<QueueId>& queues, const MessageSpec& spec,
                                  const Result<Effects>& result, const TopicConfig* topic) {
  const std::string& process = topology_.producers[p].name;
  auto pair = [&](QueueId q, EventType outcome) -> HistoryEvent& {
    const uint32_t budget = topology_.queues[q].max_retries;
    HistoryEvent* e = nullptr;
    for (const EventType type : {EventType::kInvoke, outcome}) {
      e = &push(type, EventF::kPublish, process, topology_.queues[q].name);
      put_spec(*e, spec, budget);
      if (topic != nullptr) {
        e->topic = topic->name;
        e->bound = topic->queues;
      }
    }
    return *e;
  };
  if (!result.ok()) {
    for (QueueId q : queues) pair(q, EventType::kFail).error = error_of(result);
    return;
  }
  const Effects& fx = *result;
  size_t flushed = 0;  // effects before this one are recorded
  for (size_t i = 0; i < fx.size(); ++i) {
    const Effect& x = fx[i];
    if (x.kind != EffectKind::kAccepted && x.kind != EffectKind::kRefused) continue;
    const bool accepted = x.kind == EffectKind::kAccepted;
    HistoryEvent& done = pair(x.queue, accepted ? EventType::kOk : EventType::kFail);
    if (accepted) {
      done.timestamp_ns = x.message.timestamp_ns;
      done.not_before_ns = x.message.not_before_ns;
    } else {
      done.error = std::string(kErrorFull);
    }
    broker_events(Effects(fx.begin() + static_cast<std::ptrdiff_t>(flushed),
                          fx.begin() + static_cast<std::ptrdiff_t>(i)),
                  0);
    flushed = i + 1;
  }
  broker_events(Effects(fx.begin() + static_cast<std::ptrdiff_t>(flushed), fx.end()), 0);
}

// Fetch, Ack, Nack, Attach, Detach: the consumer's invoke, its completion (which
// consumes the op's own effect: the delivery or the ack), then the broker's effects.
void HistoryRecorder::record_client(EventF f, ConsumerId c, const Op& op, const Result<Effects>& result) {
  const std::string& process = topology_.consumers[c].name;
  const std::string& queue = topology_.consumers[c].queue;
  auto fill = [&](HistoryEvent& e) -> HistoryEvent& {
    e.consumer = process;
    if (const auto* a = std::get_if<op::Ack>(&op)) e.id = a->id;
    if (const auto* n = std::get_if<op::Nack>(&op)) {
      e.id = n->id;
      e.requeue = n->requeue;
    }
    return e;
  };
  fill(push(EventType::kInvoke, f, process, queue));
  if (!result.ok()) {
    fill(push(EventType::kFail, f, process, queue)).error = error_of(result);
    return;
  }
  const Effects& effects = *result;
  size_t first = 0;
  if (f == EventF::kDeliver) {
    if (effects.empty() || effects[0].kind != EffectKind::kDelivered) {
      fill(push(EventType::kFail, f, process, queue)).error = std::string(kErrorEmpty);
      return;
    }
    put_message(fill(push(EventType::kOk, f, process, queue)), effects[0].message);
    first = 1;
  } else if (f == EventF::kAck) {
    MQ_CHECK(!effects.empty() && effects[0].kind == EffectKind::kAcked);
    put_message(fill(push(EventType::kOk, f, process, queue)), effects[0].message);
    first = 1;
  } else {
    fill(push(EventType::kOk, f, process, queue));
  }
  broker_events(effects, first);
}

void HistoryRecorder::record_fault(EventF f, const std::string& node, TimeNs now_ns, const std::string& detail) {
  MQ_CHECK(is_fault_f(f));
  MQ_CHECK(now_ns >= now_ns_);
  now_ns_ = now_ns;
  HistoryEvent& e = push(EventType::kOk, f, std::string(kNemesisProcess), "");
  e.node = node;
  e.error = detail;
}

void HistoryRecorder::record(const Op& op, const Result<Effects>& result, TimeNs now_ns) {
  MQ_CHECK(now_ns >= now_ns_);
  now_ns_ = now_ns;
  const auto producers = topology_.producers.size();
  const auto consumers = topology_.consumers.size();
  auto client = [&](EventF f, ConsumerId c) {
    if (c < consumers) record_client(f, c, op, result);
  };
  auto nemesis = [&](EventF f) {
    if (!result.ok()) return;
    push(EventType::kOk, f, std::string(kNemesisProcess), "");
    broker_events(*result, 0);
  };
  auto broker = [&] {
    if (result.ok()) broker_events(*result, 0);
  };
  std::visit(Overloaded{
                 [&](const op::Send& s) {
                   if (s.producer < producers && s.queue < topology_.queues.size()) {
                     record_send(s.producer, {s.queue}, s.spec, result, nullptr);
                   }
                 },
                 [&](const op::Publish& p) {
                   if (p.producer < producers && p.topic < topology_.topics.size()) {
                     record_send(p.producer, topology_.queues_of(p.topic), p.spec, result,
                                 &topology_.topics[p.topic]);
                   }
                 },
                 [&](const op::Dispatch&) { broker(); },
                 [&](const op::Advance&) { broker(); },
                 [&](const op::Crash&) { nemesis(EventF::kCrash); },
                 [&](const op::Recover&) { nemesis(EventF::kRecover); },
                 [&](const op::Fetch& o) { client(EventF::kDeliver, o.consumer); },
                 [&](const op::Ack& o) { client(EventF::kAck, o.consumer); },
                 [&](const op::Nack& o) { client(EventF::kNack, o.consumer); },
                 [&](const op::Attach& o) { client(EventF::kAttach, o.consumer); },
                 [&](const op::Detach& o) { client(EventF::kDetach, o.consumer); },
             },
             op);
}

std::optional<Op> consumer_op_of(const HistoryEvent& e, ConsumerId c) {
  switch (event_f_consumer_op(e.f)) {
    case ConsumerOpKind::kFetch: return op::Fetch{c};
    case ConsumerOpKind::kAck: return op::Ack{c, e.id.value_or(0)};
    case ConsumerOpKind::kNack: return op::Nack{c, e.id.value_or(0), e.requeue.value_or(true)};
    case ConsumerOpKind::kAttach: return op::Attach{c};
    case ConsumerOpKind::kDetach: return op::Detach{c};
    case ConsumerOpKind::kNone:  // a producer's publish is one op per group of queues (sim/trace_replay.h)
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace mq
