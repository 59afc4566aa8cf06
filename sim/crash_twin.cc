#include "sim/crash_twin.h"

#include <algorithm>
#include <tuple>

#include "sim/translate.h"

namespace mq::sim {
namespace {

// The first place two images of the durable queues differ, named for a person.
std::optional<std::string> image_difference(const impl::DurableImage& twin, const impl::DurableImage& restored) {
  MQ_CHECK(twin.queues.size() == restored.queues.size());
  for (QueueId q = 0; q < twin.queues.size(); ++q) {
    const impl::QueueImage& a = twin.queues[q];
    const impl::QueueImage& b = restored.queues[q];
    // After a crash nothing is in flight: every delivery came back (or was lost).
    MQ_CHECK(a.in_flight.empty() && b.in_flight.empty());
    const char* part = a.ready != b.ready         ? "ready messages differ"
                       : a.delayed != b.delayed   ? "delayed messages differ"
                       : a.window != b.window     ? "idempotency windows differ"
                                                  : nullptr;
    if (part != nullptr) {
      return "queue " + std::to_string(q) + ": the " + part + " (the core's crash keeps " +
             std::to_string(a.size()) + " messages and " + std::to_string(a.window.size()) +
             " ids, recovery from the log " + std::to_string(b.size()) + " and " + std::to_string(b.window.size()) +
             ")";
    }
  }
  return std::nullopt;
}

// What the image does not show: how much every queue holds, the non-durable ones
// included (nothing, after a crash), and what every consumer has unacked (nothing:
// each delivery came back).
std::optional<std::string> count_difference(const impl::BrokerCore& twin, const impl::BrokerCore& restored) {
  const impl::BrokerConfig& config = twin.config();
  for (QueueId q = 0; q < config.queues.size(); ++q) {
    if (twin.size(q) != restored.size(q)) {
      return "queue " + std::to_string(q) + " holds " + std::to_string(twin.size(q)) + " messages after the core's crash, " +
             std::to_string(restored.size(q)) + " after recovery from the log";
    }
  }
  for (ConsumerId c = 0; c < config.consumers.size(); ++c) {
    if (twin.unacked(c) != 0 || restored.unacked(c) != 0) {
      return "consumer " + std::to_string(c) + " has " + std::to_string(twin.unacked(c)) +
             " deliveries unacked after the core's crash, " + std::to_string(restored.unacked(c)) +
             " after recovery from the log";
    }
  }
  return std::nullopt;
}

Effects sorted(Effects effects) {
  auto key = [](const Effect& e) { return std::tuple(e.queue, e.message.id, e.kind); };
  std::stable_sort(effects.begin(), effects.end(), [&](const Effect& x, const Effect& y) { return key(x) < key(y); });
  return effects;
}

std::optional<std::string> effects_difference(const Effects& twin, const Effects& restored) {
  const Effects a = sorted(twin);
  const Effects b = sorted(restored);
  const size_t n = std::min(a.size(), b.size());
  const auto [x, y] = std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin());
  if (x != a.begin() + static_cast<std::ptrdiff_t>(n)) {
    return "the crash's effects differ: the core's crash reports " + to_string(*x) + ", recovery " + to_string(*y);
  }
  if (a.size() != b.size()) {
    const Effect& extra = a.size() > b.size() ? a[n] : b[n];
    return std::string("the crash's effects differ: only ") +
           (a.size() > b.size() ? "the core's crash" : "recovery") + " reports " + to_string(extra);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> crash_twin_disagreement(impl::BrokerCore twin, TimeNs at_ns,
                                                   const impl::BrokerCore& restored,
                                                   const Effects& restored_effects) {
  MQ_CHECK(twin.up() && twin.now() == at_ns && restored.now() == at_ns);
  impl::Effects out;
  MQ_CHECK(twin.crash(at_ns, out).ok());
  MQ_CHECK(twin.recover(at_ns, out).ok());
  std::optional<std::string> why = image_difference(twin.durable_image(), restored.durable_image());
  if (!why) why = count_difference(twin, restored);
  if (!why) why = effects_difference(to_model_result(Status(), out).value(), restored_effects);
  if (!why) return std::nullopt;
  return "recovery from the log disagrees with the core's crash in memory at " + std::to_string(at_ns) +
         " ns: " + *why;
}

}  // namespace mq::sim
