#pragma once
// Op: every input the model accepts, as data. The RapidCheck suites, the random walk
// and the explorer generate Ops; Model::apply interprets them, and to_string (beside
// it, in model/model.cc) spells them.

#include <string>
#include <variant>

#include "model/message.h"

namespace mq::op {

struct Send {  // Def. 3.1: send(p, q, m) = enqueue(q, m)
  ProducerId producer = 0;
  QueueId queue = 0;
  MessageSpec spec;
  friend bool operator==(const Send&, const Send&) = default;
};
struct Publish {  // fan-out to every queue bound to the topic
  ProducerId producer = 0;
  TopicId topic = 0;
  MessageSpec spec;
  friend bool operator==(const Publish&, const Publish&) = default;
};
struct Dispatch {  // push the next message to the next consumer with credit (round-robin)
  QueueId queue = 0;
  friend bool operator==(const Dispatch&, const Dispatch&) = default;
};
struct Fetch {  // a consumer pulls one message from its queue
  ConsumerId consumer = 0;
  friend bool operator==(const Fetch&, const Fetch&) = default;
};
struct Ack {
  ConsumerId consumer = 0;
  MessageId id = 0;
  friend bool operator==(const Ack&, const Ack&) = default;
};
struct Nack {  // requeue: try again (until out of retries); else dead-letter now
  ConsumerId consumer = 0;
  MessageId id = 0;
  bool requeue = true;
  friend bool operator==(const Nack&, const Nack&) = default;
};
struct Advance {  // time passes: delays release, TTLs expire, visibility timeouts fire
  TimeNs now_ns = 0;
  friend bool operator==(const Advance&, const Advance&) = default;
};
struct Crash {  // the broker stops; non-durable queues lose what they hold
  friend bool operator==(const Crash&, const Crash&) = default;
};
struct Recover {
  friend bool operator==(const Recover&, const Recover&) = default;
};
struct Attach {  // a consumer (re)connects
  ConsumerId consumer = 0;
  friend bool operator==(const Attach&, const Attach&) = default;
};
struct Detach {  // a consumer disconnects; its unacked deliveries are failed attempts
  ConsumerId consumer = 0;
  friend bool operator==(const Detach&, const Detach&) = default;
};

}  // namespace mq::op

namespace mq {

using Op = std::variant<op::Send, op::Publish, op::Dispatch, op::Fetch, op::Ack, op::Nack, op::Advance,
                        op::Crash, op::Recover, op::Attach, op::Detach>;

std::string to_string(const Op& op);

}  // namespace mq
