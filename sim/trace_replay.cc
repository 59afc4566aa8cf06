#include "sim/trace_replay.h"

#include <algorithm>
#include <fstream>
#include <variant>

#include "formats/history_io.h"
#include "formats/json_config.h"
#include "impl/broker_core.h"
#include "model/history_recorder.h"
#include "sim/translate.h"

namespace mq::sim {
namespace {

Status run_core(impl::BrokerCore& core, const Op& op, impl::Effects& out) {
  return apply_to_core(core, op, core.now(), out);
}

std::string json_or_text(const HistoryEvent& e) {
  auto j = to_json(e);
  return j.ok() ? *j : to_string(e);
}

Status unexplained(const HistoryEvent& e, const std::string& why) {
  return invalid_argument(where(e) + ": " + why + ": " + to_string(e));
}

// The consecutive publish pairs of one process, id and time (and topic, when the
// history names it: version 2) from `i`, each queue once, with the broker's drops
// that made room for them in between (effects of the same publish): their queues and
// the positions of their invokes.
std::vector<QueueId> publish_group(const History& h, const Topology& t, size_t i, size_t& next,
                                   std::vector<size_t>& at) {
  const HistoryEvent& first = h.events[i];
  std::vector<QueueId> queues;
  size_t k = i;
  // Bounded by the history: each round consumes a pair (and the drops after it).
  while (k + 1 < h.events.size()) {
    const HistoryEvent& inv = h.events[k];
    const HistoryEvent& done = h.events[k + 1];
    if (inv.type != EventType::kInvoke || inv.f != EventF::kPublish || inv.process != first.process ||
        inv.id != first.id || inv.time_ns != first.time_ns || inv.topic != first.topic ||
        done.process != first.process) {
      break;
    }
    const auto q = t.find_queue(inv.queue);
    if (!q || std::find(queues.begin(), queues.end(), *q) != queues.end()) break;
    queues.push_back(*q);
    at.push_back(k);
    k += 2;
    const size_t pair_end = k;
    while (k < h.events.size() && h.events[k].f == EventF::kDrop) ++k;
    // Drops are effects; a group that ends here resumes reading after its last pair.
    next = pair_end;
  }
  if (queues.empty()) next = k;
  return queues;
}

Status publish_op(const History& h, const Topology& t, size_t i, size_t& next, std::vector<Op>& ops) {
  const HistoryEvent& e = h.events[i];
  const auto p = t.find_producer(e.process);
  if (!p) return unexplained(e, "no producer of that name");
  std::vector<size_t> at;
  const std::vector<QueueId> queues = publish_group(h, t, i, next, at);
  if (queues.empty()) return unexplained(e, "a publish invoke without its completion, or of an unknown queue");
  MessageSpec spec{*e.id, e.payload.value_or(""), e.priority.value_or(0), e.ttl_ns.value_or(0),
                   e.delay_ns.value_or(0), std::nullopt};
  // The recorder writes each queue's default when the spec has none.
  bool defaults = true;
  for (size_t k = 0; k < queues.size(); ++k) {
    const auto& ev = h.events[at[k]];
    defaults = defaults && ev.max_retries.value_or(t.queues[queues[k]].max_retries) == t.queues[queues[k]].max_retries;
  }
  if (!defaults) spec.max_retries = e.max_retries;
  // A version 2 history names the topic; an older one is a topic publish when its
  // queues are exactly a topic's bound queues.
  if (!e.topic.empty()) {
    const auto topic = t.find_topic(e.topic);
    if (!topic) return unexplained(e, "no topic of that name");
    ops.emplace_back(op::Publish{*p, *topic, std::move(spec)});  // braces: clang 14 has no parenthesized aggregate init
    return Status();
  }
  for (TopicId k = 0; k < t.topics.size() && queues.size() > 1; ++k) {
    if (t.queues_of(k) == queues) {
      ops.emplace_back(op::Publish{*p, k, std::move(spec)});
      return Status();
    }
  }
  if (queues.size() > 1) {
    next = at[1];  // not a topic: one send; the next pair is read on its own
  }
  ops.emplace_back(op::Send{*p, queues.front(), std::move(spec)});
  return Status();
}

Status client_op(const History& h, const Topology& t, size_t i, size_t& next, std::vector<Op>& ops) {
  const HistoryEvent& e = h.events[i];
  if (e.f == EventF::kPublish) return publish_op(h, t, i, next, ops);
  const auto c = t.find_consumer(e.process);
  if (!c) return unexplained(e, "no consumer of that name");
  next = i + 2;  // the invoke and its completion
  std::optional<Op> op = consumer_op_of(e, *c);
  if (!op) return unexplained(e, "a client does not do that");
  ops.push_back(std::move(*op));
  return Status();
}

}  // namespace

History trace_history(const Topology& topology, const std::vector<TraceStep>& steps, const std::string& source) {
  HistoryRecorder recorder(topology, source);
  TimeNs now = 0;
  for (const auto& s : steps) {
    if (const auto* a = std::get_if<op::Advance>(&s.op); a != nullptr && s.result.ok()) now = std::max(now, a->now_ns);
    recorder.record(s.op, s.result, now);
  }
  return recorder.take();
}

Status write_trace(const std::string& path, const Topology& topology, const std::vector<TraceStep>& steps) {
  return write_trace_history(path, topology, trace_history(topology, steps, path));
}

Status write_trace_history(const std::string& path, const Topology& topology, const History& history) {
  MQ_RETURN_IF_ERROR(write_history_file(history, path));
  std::ofstream out(path + ".topology.json", std::ios::binary | std::ios::trunc);
  out << topology_to_json(topology).dump(2) << "\n";
  out.close();
  if (!out) return io_error(path + ".topology.json: cannot write");
  return Status();
}

Result<std::vector<Op>> trace_ops(const History& h, const Topology& t) {
  std::vector<Op> ops;
  TimeNs now = 0;
  // Bounded: every round consumes at least one event.
  for (size_t i = 0; i < h.events.size();) {
    const HistoryEvent& e = h.events[i];
    if (e.time_ns > now) {
      ops.push_back(op::Advance{e.time_ns});
      now = e.time_ns;
    }
    if (e.process == kNemesisProcess) {
      if (e.f == EventF::kCrash) ops.push_back(op::Crash{});
      if (e.f == EventF::kRecover) ops.push_back(op::Recover{});
      ++i;
    } else if (e.process == kBrokerProcess) {
      if (e.f == EventF::kDeliver) {
        const auto q = t.find_queue(e.queue);
        if (!q) return unexplained(e, "unknown queue");
        ops.push_back(op::Dispatch{*q});
      }
      ++i;  // any other broker event is an effect of the op before it
    } else {
      if (e.type != EventType::kInvoke) return unexplained(e, "a completion without its invoke just before it");
      size_t next = i + 1;
      MQ_RETURN_IF_ERROR(client_op(h, t, i, next, ops));
      i = next;
    }
  }
  return ops;
}

History run_on_core(const Topology& topology, const std::vector<Op>& ops, const std::string& source) {
  auto created = impl::BrokerCore::create(to_broker_config(topology));
  MQ_CHECK_MSG(created.ok(), "a valid topology makes a valid broker config");
  impl::BrokerCore core = std::move(created).value();
  HistoryRecorder recorder(topology, source);
  for (const Op& o : ops) {
    impl::Effects effects;
    const Status s = run_core(core, o, effects);
    recorder.record(o, to_model_result(s, effects), core.now());
  }
  return recorder.take();
}

TraceComparison compare_histories(const History& recorded, const History& replayed) {
  TraceComparison c;
  const auto& a = recorded.events;
  const auto& b = replayed.events;
  c.events = std::max(a.size(), b.size());
  for (size_t i = 0; i < c.events; ++i) {
    std::string was = i < a.size() ? json_or_text(a[i]) : "(end of the recorded history)";
    std::string now = i < b.size() ? json_or_text(b[i]) : "(end of the replayed history)";
    if (was == now) continue;
    c.diverges_at = i;
    c.recorded = std::move(was);
    c.replayed = std::move(now);
    return c;
  }
  return c;
}

}  // namespace mq::sim
