#include "properties/checkers/fan_out.h"

#include <algorithm>

namespace mq {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

// Judges the process's finished run against its bound queues.
void FanOutChecker::close(const std::string& process) {
  const auto it = runs_.find(process);
  if (it == runs_.end()) return;
  Run run = std::move(it->second);
  runs_.erase(it);
  ++topic_publishes_;
  if (violation_ || run.open) return;
  for (const auto& q : run.bound) {
    if (contains(run.reached, q)) continue;
    violation_ = fail(kFanOut,
                      "topic '" + run.topic + "': the publish of message " + std::to_string(run.id) +
                          " by '" + process + "' never reached bound queue '" + q + "' (neither " +
                          "accepted nor refused there)",
                      std::move(run.events));
    return;
  }
}

void FanOutChecker::add(const HistoryEvent& e) {
  if (violation_ || !e.is_client()) return;
  const auto it = runs_.find(e.process);
  const bool topic_publish = e.f == EventF::kPublish && !e.topic.empty() && e.id;
  if (it != runs_.end()) {
    const Run& run = it->second;
    // The same run goes on: the next queue of the same topic publish.
    const bool same = topic_publish && e.topic == run.topic && *e.id == run.id &&
                      (run.open || (e.type == EventType::kInvoke && !contains(run.reached, e.queue)));
    if (!same) close(e.process);
  }
  if (!topic_publish || violation_) return;
  Run& run = runs_[e.process];
  if (run.topic.empty()) {
    run.topic = e.topic;
    run.id = *e.id;
    run.bound = e.bound;
  }
  if (run.events.size() < kMaxWitnessEvents) run.events.push_back(e);
  if (!contains(run.bound, e.queue) || e.bound != run.bound) {
    violation_ = fail(kFanOut,
                      "topic '" + e.topic + "': message " + std::to_string(*e.id) + " published to '" +
                          e.queue + "', which its topic publish does not list as bound (or the events " +
                          "of one publish disagree on the bound queues)",
                      run.events);
    return;
  }
  if (e.type == EventType::kInvoke) {
    run.open = true;
    return;
  }
  run.open = false;
  run.reached.push_back(e.queue);
}

Verdict FanOutChecker::finish() {
  std::vector<std::string> processes;
  for (const auto& [p, run] : runs_) processes.push_back(p);
  for (const auto& p : processes) close(p);
  if (violation_) return *violation_;
  return pass(kFanOut, std::to_string(topic_publishes_) + " topic publishes, each reached every bound queue");
}

Verdict check_fan_out(const History& history) {
  FanOutChecker c;
  for (const auto& e : history.events) c.add(e);
  return c.finish();
}

}  // namespace mq
