#pragma once
// Fan-out: a topic publish reaches every queue bound to the topic.
//
// Precisely: a topic publish is the run of consecutive publish operations (invoke and
// completion) of one process that carry the same `topic` and id, each queue at most
// once (a queue met again starts the next run: a resend). Every such run covers
// exactly the queues its events list in `bound` (the topic's bindings when it was
// published, version 2 of the history format): each bound queue has accepted it
// (ok), refused it (fail) or left it open (info), and no other queue appears. So a
// broker that silently skips a bound queue, or delivers to one it is not bound to,
// is caught from the history alone, without the model. An invoke left open at the
// end of the history (its run unfinished) is not judged. Version 1 histories carry
// no topic: nothing to judge.
// Witness: the run's events and the queue missing or extra.
//
// REQUIRES: the history is well formed (check_well_formed); events come in order.
// Thread-safety: none; one checker per history.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kFanOut = history_check_name(HistoryCheck::kFanOut);

class FanOutChecker {
 public:
  void add(const HistoryEvent& e);
  Verdict finish();

 private:
  struct Run {  // a topic publish of one process in progress
    std::string topic;
    MessageId id = 0;
    std::vector<std::string> bound;
    std::vector<std::string> reached;  // queues whose publish completed
    std::vector<HistoryEvent> events;  // at most kMaxWitnessEvents
    bool open = false;                 // an invoke without its completion yet
  };
  void close(const std::string& process);
  std::map<std::string, Run> runs_;  // process -> its current run
  std::optional<Verdict> violation_;
  uint64_t topic_publishes_ = 0;
};

Verdict check_fan_out(const History& history);

}  // namespace mq
