#include "properties/checkers/queue_linearizability.h"

#include <algorithm>
#include <map>

namespace mq {
namespace {

std::string show(const QueueOperation& op) {
  std::string s = "line " + std::to_string(op.call_line) + (op.completed() ? "-" + std::to_string(op.ret_line) : "-?") +
                  " " + op.process + " " + (op.enqueue ? "enqueue " : "dequeue ");
  s += op.value ? *op.value : "(empty)";
  if (!op.completed()) s += " (outcome unknown)";
  return s;
}

LinearizabilityReport violation(std::string pattern, std::string message, std::vector<QueueOperation> witness) {
  std::stable_sort(witness.begin(), witness.end(),
                   [](const QueueOperation& a, const QueueOperation& b) { return a.call_line < b.call_line; });
  return LinearizabilityReport{false, std::move(pattern), std::move(message), std::move(witness)};
}

struct Index {
  std::map<std::string, size_t> enq;    // value -> its enqueue
  std::map<std::string, size_t> deq;    // value -> its first dequeue (ok)
  size_t first_pending_deq = kNoEvent;  // call of the earliest dequeue of unknown outcome
};

// When v (enqueued ok) surely stops being in the queue: its dequeue's call, or the
// first call of a dequeue that may have taken it.
size_t presence_end(const QueueHistory& h, const Index& x, const std::string& v) {
  const auto d = x.deq.find(v);
  const size_t own = d == x.deq.end() ? kNoEvent : h.ops[d->second].call;
  return std::min(own, x.first_pending_deq);
}

std::optional<LinearizabilityReport> fresh_or_repeated(const QueueHistory& h, Index& x) {
  for (size_t i = 0; i < h.ops.size(); ++i) {
    const QueueOperation& op = h.ops[i];
    if (op.enqueue || !op.value) continue;
    const auto e = x.enq.find(*op.value);
    if (e == x.enq.end()) {
      return violation("fresh", "dequeue of " + *op.value + " that no enqueue ever offered", {op});
    }
    const QueueOperation& enq = h.ops[e->second];
    if (op.ret < enq.call) {
      return violation("fresh", "dequeue of " + *op.value + " returned before its enqueue was called", {op, enq});
    }
    const auto [it, first] = x.deq.try_emplace(*op.value, i);
    if (!first) {
      return violation("repeated", "value " + *op.value + " dequeued twice", {enq, h.ops[it->second], op});
    }
  }
  return std::nullopt;
}

std::optional<LinearizabilityReport> order(const QueueHistory& h, const Index& x) {
  std::vector<std::string> firsts;  // candidates v1: enqueued ok
  std::vector<std::string> seconds;  // candidates v2: dequeued
  for (const auto& [v, i] : x.enq) {
    if (h.ops[i].completed()) firsts.push_back(v);
    if (x.deq.contains(v)) seconds.push_back(v);
  }
  const auto enq_of = [&](const std::string& v) -> const QueueOperation& { return h.ops[x.enq.at(v)]; };
  std::sort(firsts.begin(), firsts.end(), [&](const auto& a, const auto& b) { return enq_of(a).ret < enq_of(b).ret; });
  std::sort(seconds.begin(), seconds.end(), [&](const auto& a, const auto& b) { return enq_of(a).call < enq_of(b).call; });
  size_t next = 0;
  const std::string* latest = nullptr;  // among v1 enqueued before, the one surely present longest
  for (const auto& v2 : seconds) {
    // Bounded by |firsts|: each v1 is added once.
    while (next < firsts.size() && enq_of(firsts[next]).ret < enq_of(v2).call) {
      if (latest == nullptr || presence_end(h, x, firsts[next]) > presence_end(h, x, *latest)) latest = &firsts[next];
      ++next;
    }
    const QueueOperation& d2 = h.ops[x.deq.at(v2)];
    if (latest == nullptr || presence_end(h, x, *latest) <= d2.ret) continue;
    const auto d1 = x.deq.find(*latest);
    std::vector<QueueOperation> w{enq_of(*latest), enq_of(v2), d2};
    std::string how = "is never dequeued";
    if (d1 != x.deq.end()) {
      w.push_back(h.ops[d1->second]);
      how = "is dequeued only after";
    }
    return violation("order", "FIFO: " + *latest + " was enqueued before " + v2 + " was, but " + *latest + " " + how +
                                  " " + v2 + " was dequeued",
                     std::move(w));
  }
  return std::nullopt;
}

std::optional<LinearizabilityReport> empty(const QueueHistory& h, const Index& x, size_t positions) {
  // covered[g] > 0: in the gap between positions g and g + 1 some value is surely present.
  std::vector<int64_t> diff(positions + 2, 0);
  struct Presence { size_t from, to; std::string v; };
  std::vector<Presence> present;
  for (const auto& [v, i] : x.enq) {
    if (!h.ops[i].completed()) continue;
    const size_t from = h.ops[i].ret;
    const size_t to = std::min(presence_end(h, x, v), positions);
    if (to <= from) continue;
    ++diff[from];
    --diff[to];
    present.push_back({from, to, v});
  }
  std::vector<size_t> uncovered(positions + 1, 0);  // prefix count of uncovered gaps
  int64_t level = 0;
  for (size_t g = 0; g < positions; ++g) {
    level += diff[g];
    uncovered[g + 1] = uncovered[g] + (level > 0 ? 0 : 1);
  }
  for (const auto& op : h.ops) {
    if (op.enqueue || op.value || !op.completed()) continue;
    if (uncovered[op.ret] - uncovered[op.call] > 0) continue;
    // A chain of surely present values over the whole interval: the witness.
    std::vector<QueueOperation> w{op};
    size_t g = op.call;
    for (size_t steps = 0; g < op.ret && steps < present.size(); ++steps) {
      const Presence* best = nullptr;
      for (const auto& p : present) {
        if (p.from <= g && p.to > g && (best == nullptr || p.to > best->to)) best = &p;
      }
      MQ_CHECK(best != nullptr);
      w.push_back(h.ops[x.enq.at(best->v)]);
      if (x.deq.contains(best->v)) w.push_back(h.ops[x.deq.at(best->v)]);
      g = best->to;
    }
    const std::string chain = std::to_string(w.size() - 1);
    return violation("empty", "dequeue found the queue empty while it surely held a value at every moment of the "
                              "dequeue (" + chain + " operations show it)",
                     std::move(w));
  }
  return std::nullopt;
}

}  // namespace

Result<QueueHistory> queue_history_from_jepsen(const std::vector<JepsenOp>& ops, std::string_view file) {
  // "FILE:N" as the readers say it ("line N" when the ops have no file).
  auto line_of = [&](uint64_t n) {
    return (file.empty() ? "line " : std::string(file) + ":") + std::to_string(n);
  };
  QueueHistory h;
  std::map<std::string, size_t> open;  // process -> its invoke
  std::vector<size_t> pending;         // indices into h.ops of operations still open
  for (size_t i = 0; i < ops.size(); ++i) {
    const JepsenOp& op = ops[i];
    if (op.f != "enqueue" && op.f != "dequeue" && op.f != "drain") continue;
    const std::string at = line_of(op.line);
    if (op.type == EventType::kInvoke) {
      if (open.contains(op.process)) {
        return corruption(at + ": field 'type': process " + op.process + " invokes while its previous operation is open");
      }
      open[op.process] = i;
      continue;
    }
    const auto it = open.find(op.process);
    if (it == open.end()) return corruption(at + ": field 'type': a completion without an invoke by process " + op.process);
    const size_t invoke_at = it->second;
    const JepsenOp& inv = ops[invoke_at];
    open.erase(it);
    if (inv.f != op.f) return corruption(at + ": field 'f': completes " + inv.f + " with " + op.f);
    if (op.type == EventType::kFail) continue;  // did not happen
    const bool known = op.type == EventType::kOk;
    QueueOperation q{op.f == "enqueue", std::nullopt, invoke_at, known ? i : kNoEvent, inv.line, known ? op.line : 0, op.process};
    if (q.enqueue) {
      q.value = inv.value;
      if (!q.value) return corruption(line_of(inv.line) + ": field 'value': an enqueue needs a value");
      h.ops.push_back(q);
    } else if (op.f == "drain") {
      for (const auto& v : op.drained) {
        q.value = v;
        h.ops.push_back(q);
      }
    } else {
      if (known && op.value && *op.value != "null") q.value = op.value;
      h.ops.push_back(q);
    }
  }
  for (const auto& [process, i] : open) {  // never completed: unknown outcome
    const JepsenOp& inv = ops[i];
    if (inv.f == "drain") continue;
    QueueOperation q{inv.f == "enqueue", std::nullopt, i, kNoEvent, inv.line, 0, process};
    if (q.enqueue) q.value = inv.value;
    if (q.enqueue && !q.value) return corruption(line_of(inv.line) + ": field 'value': an enqueue needs a value");
    h.ops.push_back(q);
  }
  return h;
}

LinearizabilityReport check_queue_linearizability(const QueueHistory& h) {
  Index x;
  size_t positions = 0;
  for (size_t i = 0; i < h.ops.size(); ++i) {
    const QueueOperation& op = h.ops[i];
    positions = std::max({positions, op.call + 1, op.completed() ? op.ret + 1 : 0});
    if (!op.enqueue && !op.completed()) x.first_pending_deq = std::min(x.first_pending_deq, op.call);
    if (!op.enqueue) continue;
    if (!x.enq.try_emplace(*op.value, i).second) {
      return LinearizabilityReport{true, "", "not judged: value " + *op.value + " enqueued twice (the check needs distinct values)", {}};
    }
  }
  if (auto v = fresh_or_repeated(h, x)) return *v;
  if (auto v = order(h, x)) return *v;
  if (auto v = empty(h, x, positions)) return *v;
  return LinearizabilityReport{true, "", std::to_string(h.ops.size()) + " operations, no fresh, repeated, order or empty violation", {}};
}

std::string to_string(const LinearizabilityReport& r) {
  std::string s = std::string(kQueueLinearizability) + (r.valid ? ": valid (" + r.message + ")\n"
                                                                 : ": INVALID: " + r.pattern + ": " + r.message + "\n");
  for (const auto& op : r.witness) s += "    " + show(op) + "\n";
  return s;
}

}  // namespace mq
