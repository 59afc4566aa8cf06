#pragma once
// TaskQueue: the seed's task queue (section 6.1) as a thin layer over the model:
// submit a task with a priority, a worker takes one, then completes or fails it.
// A failed task is retried until the queue's max_retries, then dead-lettered.
// Thread-safety: none. Lifetime: borrows the Model, which must outlive it.

#include <optional>
#include <string>

#include "model/model.h"

namespace mq {

class TaskQueue {
 public:
  // REQUIRES: q and p exist in model's topology.
  TaskQueue(Model& model, QueueId q, ProducerId p) : model_(model), queue_(q), producer_(p) {}

  // The id of the submitted task, or the error; a full queue is the error
  // FailedPrecondition "task queue full", never a silent drop.
  Result<MessageId> submit(std::string task, Priority priority);
  // The next task for this worker, if any is ready and the worker has credit.
  Result<std::optional<Message>> take(ConsumerId worker);
  Status complete(ConsumerId worker, MessageId task);
  Status fail(ConsumerId worker, MessageId task);

 private:
  Model& model_;
  QueueId queue_;
  ProducerId producer_;
  MessageId next_id_ = 1;
};

}  // namespace mq
