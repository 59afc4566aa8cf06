#pragma once
// Runs a History in memory through a StreamIndex (and a QueueReplay) into one
// streaming checker: how each check_X(history) function is the streaming checker.
// Private to properties/checkers.

#include <memory>

#include "model/history.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/queue_replay.h"

namespace mq {

// `make(index)` builds the checker; each step goes to on(step).
template <typename Checker, typename Make>
Verdict drive(const History& history, Make&& make) {
  std::unique_ptr<Checker> checker;
  StreamIndex index([&](const Step& s) { checker->on(s); });
  checker = make(index);
  for (const auto& e : history.events) index.add(std::make_shared<const HistoryEvent>(e));
  index.finish();
  return checker->finish();
}

// The same for a checker that judges against a QueueReplay: before(step), the
// replay's apply(step), after(step).
template <typename Checker, typename Configure>
Verdict drive_replayed(const History& history, const Topology& topology, Configure&& configure) {
  std::unique_ptr<Checker> checker;
  std::unique_ptr<QueueReplay> replay;
  StreamIndex index([&](const Step& s) {
    checker->before(s);
    replay->apply(s);
    checker->after(s);
  });
  replay = std::make_unique<QueueReplay>(topology);
  checker = std::make_unique<Checker>(*replay, topology);
  configure(*checker);
  for (const auto& e : history.events) index.add(std::make_shared<const HistoryEvent>(e));
  index.finish();
  return checker->finish();
}

template <typename Checker>
Verdict drive_replayed(const History& history, const Topology& topology) {
  return drive_replayed<Checker>(history, topology, [](Checker&) {});
}

}  // namespace mq
