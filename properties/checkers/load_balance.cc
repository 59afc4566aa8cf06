#include "properties/checkers/load_balance.h"

#include <algorithm>
#include <map>
#include <set>

#include "properties/checkers/queue_replay.h"

namespace mq {
namespace {

constexpr QueueId kNoQueue = UINT32_MAX;

struct Window {
  size_t opened_by = kNoEvent;  // kNoEvent: the start of the history
  std::map<std::string, uint64_t> pushes;  // per consumer
  std::set<std::string> eligible;
  std::vector<size_t> events;  // the pushes of this window
};

Window open_window(const Topology& topology, QueueId q, const QueueReplay& replay, size_t pos) {
  Window w;
  w.opened_by = pos;
  for (ConsumerId c : topology.consumers_of(q)) {
    const std::string& name = topology.consumers[c].name;
    if (replay.up() && replay.attached(name)) w.eligible.insert(name);
  }
  return w;
}

// nullopt while the eligible consumers of the window are within epsilon.
std::optional<Verdict> judge_window(const HistoryIndex& index, const Window& w, const std::string& queue,
                                    uint32_t epsilon) {
  if (w.eligible.size() < 2) return std::nullopt;
  auto count = [&](const std::string& c) {
    const auto it = w.pushes.find(c);
    return it == w.pushes.end() ? uint64_t{0} : it->second;
  };
  const std::string* most = nullptr;
  const std::string* least = nullptr;
  for (const auto& c : w.eligible) {
    if (most == nullptr || count(c) > count(*most)) most = &c;
    if (least == nullptr || count(c) < count(*least)) least = &c;
  }
  if (count(*most) - count(*least) <= epsilon) return std::nullopt;
  std::vector<HistoryEvent> witness;
  if (w.opened_by != kNoEvent) witness.push_back(index.at(w.opened_by));
  for (size_t pos : w.events) {
    const std::string& c = index.at(pos).consumer;
    if (c == *most || c == *least) witness.push_back(index.at(pos));
  }
  return fail(kLoadBalance, "queue '" + queue + "': consumer '" + *most + "' got " +
                                std::to_string(count(*most)) + " pushes and '" + *least + "' " +
                                std::to_string(count(*least)) + " while both had credit; epsilon = 1 + prefetch window = " +
                                std::to_string(epsilon),
              std::move(witness));
}

}  // namespace

uint32_t load_balance_epsilon(const Topology& topology, QueueId q) {
  uint32_t window = 1;
  for (ConsumerId c : topology.consumers_of(q)) window = std::max(window, topology.consumers[c].prefetch);
  return 1 + window;
}

Verdict check_load_balance(const History& history, const Topology& topology) {
  const HistoryIndex index(history);
  QueueReplay replay(index, topology);
  std::map<std::string, Window> windows;
  for (QueueId q = 0; q < topology.queues.size(); ++q) {
    windows[topology.queues[q].name] = open_window(topology, q, replay, kNoEvent);
  }
  uint64_t pushes = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    const HistoryEvent& e = index.at(i);
    const bool push = e.f == EventF::kDeliver && e.type == EventType::kOk && !e.is_client();
    // A plain id, not an optional: GCC 12 misreads the optional as maybe uninitialized.
    const QueueId q = e.queue.empty() ? kNoQueue : topology.find_queue(e.queue).value_or(kNoQueue);
    if (push && q != kNoQueue) {
      Window& w = windows[e.queue];
      std::erase_if(w.eligible, [&](const std::string& c) { return !replay.has_credit(c); });
    }
    replay.apply(i);
    const bool membership = e.type == EventType::kOk && (e.f == EventF::kAttach || e.f == EventF::kDetach ||
                                                         e.f == EventF::kCrash || e.f == EventF::kRecover);
    if (membership) {
      for (QueueId r = 0; r < topology.queues.size(); ++r) {
        if (q != kNoQueue && q != r) continue;  // attach and detach open a window of their own queue only
        windows[topology.queues[r].name] = open_window(topology, r, replay, i);
      }
    }
    if (!push || q == kNoQueue) continue;
    ++pushes;
    Window& w = windows[e.queue];
    ++w.pushes[e.consumer];
    w.events.push_back(i);
    if (auto v = judge_window(index, w, e.queue, load_balance_epsilon(topology, q))) return std::move(*v);
  }
  std::string epsilons;
  for (QueueId q = 0; q < topology.queues.size(); ++q) {
    epsilons += (q == 0 ? "" : ", ") + topology.queues[q].name + ": " + std::to_string(load_balance_epsilon(topology, q));
  }
  return pass(kLoadBalance, std::to_string(pushes) + " pushes; per window, the counts of consumers with credit "
                                "differ by at most epsilon = 1 + prefetch window (" + epsilons + ")");
}

}  // namespace mq
