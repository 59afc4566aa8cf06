#pragma once
// Helpers shared by the checker tests: hand-written histories, one JSON line per
// event (docs/history-format.md), the small topology they run against, and the
// witness lines of a verdict.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/history_io.h"
#include "model/topology.h"
#include "properties/checkers/verdict.h"

namespace mq::test {

inline std::string line(TimeNs t, std::string_view process, std::string_view type, std::string_view f,
                        std::string_view rest) {
  std::string s = "{\"v\":1,\"time\":" + std::to_string(t) + ",\"process\":\"" + std::string(process) +
                  "\",\"type\":\"" + std::string(type) + "\",\"f\":\"" + std::string(f) + "\"";
  if (!rest.empty()) s += "," + std::string(rest);
  return s + "}\n";
}
inline std::string msg(MessageId id, std::string_view queue = "q") {
  return "\"queue\":\"" + std::string(queue) + "\",\"id\":" + std::to_string(id) + ",\"payload\":\"m" +
         std::to_string(id) + "\"";
}
inline std::string with(std::string_view extra) {
  return extra.empty() ? "" : "," + std::string(extra);
}
// Two lines: the producer's invoke and ok.
inline std::string publish(TimeNs t, MessageId id, std::string_view extra = "",
                           std::string_view queue = "q") {
  return line(t, "p0", "invoke", "publish", msg(id, queue) + with(extra)) +
         line(t, "p0", "ok", "publish", msg(id, queue) + with(extra));
}
// One line: the broker pushes a message to a consumer.
inline std::string push(TimeNs t, std::string_view consumer, MessageId id, int attempts = 1,
                        std::string_view queue = "q") {
  return line(t, "broker", "ok", "deliver",
              msg(id, queue) + ",\"consumer\":\"" + std::string(consumer) +
                  "\",\"attempts\":" + std::to_string(attempts));
}
// Two lines: the consumer's invoke and ok.
inline std::string ack(TimeNs t, std::string_view consumer, MessageId id, std::string_view queue = "q") {
  const std::string rest = "\"queue\":\"" + std::string(queue) + "\",\"consumer\":\"" +
                           std::string(consumer) + "\",\"id\":" + std::to_string(id);
  return line(t, consumer, "invoke", "ack", rest) + line(t, consumer, "ok", "ack", rest);
}
inline std::string broker(TimeNs t, std::string_view f, MessageId id, std::string_view extra = "",
                          std::string_view queue = "q") {
  return line(t, "broker", "ok", f,
              "\"queue\":\"" + std::string(queue) + "\",\"id\":" + std::to_string(id) + with(extra));
}
inline History parse(const std::string& text) {
  auto h = parse_history(text, "t.jsonl");
  EXPECT_TRUE(h.ok()) << h.status().to_string();
  return h.ok() ? std::move(h).value() : History{};
}
inline std::vector<uint64_t> witness_lines(const Verdict& v) {
  std::vector<uint64_t> out;
  for (const auto& e : v.witness) out.push_back(e.line);
  return out;
}
using Lines = std::vector<uint64_t>;
// One queue "q" (capacity 10, 3 priority levels), consumers c0 and c1, prefetch 1.
inline Topology topology(bool durable = false, uint32_t capacity = 10) {
  Topology t;
  t.producers = {ProducerConfig{"p0"}};
  QueueConfig q;
  q.name = "q";
  q.capacity = capacity;
  q.priority_levels = 3;
  q.durable = durable;
  t.queues = {q};
  t.consumers = {ConsumerConfig{"c0", "q", 1, AckMode::kManual},
                 ConsumerConfig{"c1", "q", 1, AckMode::kManual}};
  return t;
}

}  // namespace mq::test
