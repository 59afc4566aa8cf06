#include "properties/checkers/load_balance.h"

#include <algorithm>

#include "properties/checkers/drive.h"

namespace mq {
namespace {

constexpr QueueId kNoQueue = UINT32_MAX;

}  // namespace

uint32_t load_balance_epsilon(const Topology& topology, QueueId q) {
  uint32_t window = 1;
  for (ConsumerId c : topology.consumers_of(q)) window = std::max(window, topology.consumers[c].prefetch);
  return 1 + window;
}

LoadBalanceChecker::Window LoadBalanceChecker::open_window(QueueId q, EventPtr by) const {
  Window w;
  w.opened_by = std::move(by);
  for (ConsumerId c : topology_.consumers_of(q)) {
    const std::string& name = topology_.consumers[c].name;
    if (replay_.up() && replay_.attached(name)) w.eligible.insert(name);
  }
  return w;
}

// nullopt while the eligible consumers of the window are within epsilon.
std::optional<Verdict> LoadBalanceChecker::judge_window(const Window& w, const std::string& queue,
                                                        uint32_t epsilon) const {
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
  // The window's first pushes to the two: the witness is cut at kMaxWitnessEvents
  // anyway, and the window keeps only that many per consumer.
  std::vector<HistoryEvent> witness;
  if (w.opened_by) witness.push_back(*w.opened_by);
  for (const std::string* c : {most, least}) {
    if (const auto it = w.first.find(*c); it != w.first.end()) {
      for (const auto& e : it->second) witness.push_back(*e);
    }
  }
  std::sort(witness.begin(), witness.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  const uint64_t total = (w.opened_by ? 1 : 0) + count(*most) + count(*least);
  std::string cut;
  if (total > kMaxWitnessEvents) {
    witness.resize(kMaxWitnessEvents);
    cut = " (witness cut to " + std::to_string(kMaxWitnessEvents) + " of " + std::to_string(total) + " events)";
  }
  return fail(kLoadBalance, "queue '" + queue + "': consumer '" + *most + "' got " + std::to_string(count(*most)) +
                                " pushes and '" + *least + "' " + std::to_string(count(*least)) +
                                " while both had credit; epsilon = 1 + prefetch window = " + std::to_string(epsilon) +
                                cut,
              std::move(witness));
}

// (1), at a push of the window's queue to e.consumer, judged in the state before it.
std::optional<Verdict> LoadBalanceChecker::judge_turns(Window& w, const HistoryEvent& e, const Step& step) const {
  for (auto& [a, owed] : w.owed) std::erase_if(owed, [&](const std::string& b) { return !replay_.has_credit(b); });
  const auto mine = w.owed.find(e.consumer);
  if (mine != w.owed.end() && !mine->second.empty()) {
    const std::string& b = *mine->second.begin();
    std::vector<HistoryEvent> witness{*w.last_push.at(e.consumer), e};
    if (const auto it = w.last_push.find(b); it != w.last_push.end()) witness.push_back(*it->second);
    return fail(kLoadBalance, "queue '" + e.queue + "': consumer '" + e.consumer + "' got its next push while '" + b +
                                  "' had credit at every push since its previous one and got none (round-robin "
                                  "must give '" + b + "' its turn first)",
                std::move(witness));
  }
  for (auto& [a, owed] : w.owed) owed.erase(e.consumer);  // served: its turn came
  std::set<std::string>& next = w.owed[e.consumer];
  next.clear();
  const auto q = topology_.find_queue(e.queue);
  for (ConsumerId c : topology_.consumers_of(*q)) {
    if (topology_.consumers[c].name != e.consumer) next.insert(topology_.consumers[c].name);
  }
  w.last_push[e.consumer] = step.event;
  return std::nullopt;
}

void LoadBalanceChecker::before(const Step& step) {
  if (violation_) return;
  if (!started_) {
    started_ = true;
    for (QueueId q = 0; q < topology_.queues.size(); ++q) windows_[topology_.queues[q].name] = open_window(q, nullptr);
  }
  const HistoryEvent& e = step.e();
  const bool push = e.f == EventF::kDeliver && e.type == EventType::kOk && !e.is_client();
  if (push && !e.queue.empty() && topology_.find_queue(e.queue)) {
    Window& w = windows_[e.queue];
    std::erase_if(w.eligible, [&](const std::string& c) { return !replay_.has_credit(c); });
    violation_ = judge_turns(w, e, step);
  }
}

void LoadBalanceChecker::after(const Step& step) {
  if (violation_) return;
  const HistoryEvent& e = step.e();
  const bool push = e.f == EventF::kDeliver && e.type == EventType::kOk && !e.is_client();
  // A plain id, not an optional: GCC 12 misreads the optional as maybe uninitialized.
  const QueueId q = e.queue.empty() ? kNoQueue : topology_.find_queue(e.queue).value_or(kNoQueue);
  const bool membership = e.type == EventType::kOk && (e.f == EventF::kAttach || e.f == EventF::kDetach ||
                                                       e.f == EventF::kCrash || e.f == EventF::kRecover);
  if (membership) {
    for (QueueId r = 0; r < topology_.queues.size(); ++r) {
      if (q != kNoQueue && q != r) continue;  // attach and detach open a window of their own queue only
      windows_[topology_.queues[r].name] = open_window(r, step.event);
    }
  }
  if (!push || q == kNoQueue) return;
  ++pushes_;
  Window& w = windows_[e.queue];
  ++w.pushes[e.consumer];
  auto& first = w.first[e.consumer];
  if (first.size() < kMaxWitnessEvents) first.push_back(step.event);
  violation_ = judge_window(w, e.queue, load_balance_epsilon(topology_, q));
}

Verdict LoadBalanceChecker::finish() const {
  if (violation_) return *violation_;
  std::string epsilons;
  for (QueueId q = 0; q < topology_.queues.size(); ++q) {
    epsilons += (q == 0 ? "" : ", ") + topology_.queues[q].name + ": " + std::to_string(load_balance_epsilon(topology_, q));
  }
  return pass(kLoadBalance, std::to_string(pushes_) + " pushes; per window, every consumer with credit got its "
                                "turn, and the counts of consumers with credit differ by at most epsilon = 1 + "
                                "prefetch window (" + epsilons + ")");
}

Verdict check_load_balance(const History& history, const Topology& topology) {
  return drive_replayed<LoadBalanceChecker>(history, topology);
}

}  // namespace mq
