#pragma once
// RabbitMQ targets over librabbitmq-c (AMQP 0-9-1): one node started by the run
// (its own Erlang node name, ports, epmd, mnesia directory), a durable queue on the
// default exchange, persistent messages (delivery mode 2), publisher confirms (one
// publish in flight per connection: the next confirm frame is its answer), consumers
// with basic.consume, manual acks and a prefetch of kPrefetch.
//
//  - rabbitmq-classic/durable: a durable classic queue;
//  - rabbitmq-quorum/durable: a quorum queue (x-queue-type quorum; Raft log, one member).
//
// Both claim: a confirmed persistent message routed to a durable queue is on disk
// (RabbitMQ's publisher-confirms documentation: "for persistent messages routed to
// durable queues, this means persisting to disk"), so it survives a kill and a power
// loss; unacked deliveries of a closed channel are requeued.
//
// Outcome mapping: rabbit_rpc_outcome for synchronous methods (a server exception is
// `fail`: the method was refused; a library timeout or a lost connection is `info`
// once the request was sent), rabbit_confirm_outcome for publishes (basic.ack `ok`,
// basic.nack `fail`, no confirm in time or a closed channel or connection `info`).

#include <amqp.h>

#include "live/target.h"

namespace mq::live {

inline constexpr uint16_t kPrefetch = 10;

enum class RabbitQueueType : uint8_t { kClassic, kQuorum };

Outcome rabbit_rpc_outcome(const amqp_rpc_reply_t& reply, bool sent);
// `wait_status`: what amqp_simple_wait_frame_noblock returned; `method`: the method
// of the frame it read (when it read one).
Outcome rabbit_confirm_outcome(int wait_status, amqp_method_number_t method);

class RabbitTarget final : public Target {
 public:
  explicit RabbitTarget(RabbitQueueType type) : type_(type) {}
  std::string name() const override {
    return type_ == RabbitQueueType::kClassic ? "rabbitmq-classic" : "rabbitmq-quorum";
  }
  std::string config() const override { return "durable"; }
  std::string describe() const override;
  std::string version() const override;
  std::optional<std::string> unavailable() const override;
  Launch launch(const LaunchContext& ctx) const override;
  std::unique_ptr<TargetClient> client(const Endpoint& endpoint, const ClientOptions& options) const override;
  Claim claim(FaultKind fault) const override;

 private:
  RabbitQueueType type_;
};

}  // namespace mq::live
