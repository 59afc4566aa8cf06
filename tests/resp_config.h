#pragma once
// The broker configuration the RESP tests speak to (resp_test, protocol_test): two
// producers, two queues of four priority levels, one consumer, one topic bound to both.

#include "impl/broker_config.h"

namespace mq::test {

inline impl::BrokerConfig resp_config() {
  impl::BrokerConfig c;
  c.producers = {{"default"}, {"p2"}};
  impl::QueueOptions q;
  q.name = "work";
  q.capacity = 10;
  q.priority_levels = 4;
  c.queues = {q};
  q.name = "audit";
  c.queues.push_back(q);
  c.consumers = {{"w1", "work", 1, impl::AckMode::kManual}};
  c.topics = {{"events", {"work", "audit"}}};
  return c;
}

}  // namespace mq::test
