#pragma once
// EventBus: the seed's event bus (section 6.2) over the model's topics: an event
// type is a topic, a subscriber is a queue bound to it. publish() fans an event out
// to every subscriber queue and says which took it.
// Thread-safety: none. Lifetime: borrows the Model, which must outlive it.

#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"

namespace mq {

struct PublishReport {
  MessageId id = 0;
  std::vector<QueueId> delivered_to;  // subscriber queues that accepted the event
  std::vector<QueueId> refused_by;    // subscriber queues that were full
};

class EventBus {
 public:
  EventBus(Model& model, ProducerId p) : model_(model), producer_(p) {}

  // REQUIRES nothing: an unknown event type is a NotFound error naming it.
  Result<PublishReport> publish(std::string_view event_type, std::string data);

 private:
  Model& model_;
  ProducerId producer_;
  MessageId next_id_ = 1;
};

}  // namespace mq
