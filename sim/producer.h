#pragma once
// Producer: a client that publishes its share of the workload, one message at a
// time: send, wait for the confirm; on a timeout resend with the SAME message id
// (the broker's idempotent publish confirms a resend of an accepted id as a
// duplicate, storing nothing); on "queue full" back off and resend; then wait the
// scenario's send gap and go on with the next message.
//
// Its messages are drawn from its own workload stream (derive_seed(seed,
// "workload/<name>")), its timing from its own client stream, so a change in one
// producer's timing does not change what any producer sends. A message's own retry
// budget and a malformed field (workload.retries_ppm, invalid_ppm) come from a
// third stream (derive_seed(seed, "options/<name>")), so that scenarios without them
// send what they sent before they existed. Each message is a choice
// (sim/choices.h): a skipped one is drawn as usual, then not sent (it counts as
// finished), and the producer goes on after its send gap.
//
// Thread-safety: none; one per producer per run.

#include <cstdint>
#include <optional>
#include <vector>

#include "base/prng.h"
#include "sim/choices.h"
#include "sim/network.h"
#include "sim/scenario.h"

namespace mq::sim {

struct ProducerStats {
  uint64_t generated = 0, attempts = 0, resends = 0, full_backoffs = 0;
  uint64_t confirmed = 0, duplicates = 0, given_up = 0, no_space = 0;
  uint64_t skipped = 0;  // not sent: skipped choices (a shrinker's cut)
  uint64_t malformed = 0;  // sent malformed on purpose (workload.invalid_ppm)
};

class Producer {
 public:
  Producer(ProducerId id, const Scenario& scenario, uint64_t messages, uint64_t master_seed, SimQueue& queue,
           Network& network, ChoiceSet& choices);

  void start();
  void receive(const Packet& packet);
  void wake(uint32_t what, uint64_t token);
  // Every message of its share confirmed (or given up on a non-retryable error).
  bool done() const { return stats_.generated == total_ && !current_; }
  uint64_t unfinished() const { return total_ - stats_.confirmed - stats_.given_up - stats_.skipped; }
  const ProducerStats& stats() const { return stats_; }

 private:
  enum Wakes : uint32_t { kNext, kTimeout, kBackoff };
  struct Current {
    bool topic = false;
    uint32_t target = 0;
    MessageSpec spec;
    uint32_t attempt = 0;
  };

  Current next_message();
  Priority max_priority(const Target& t) const;
  // Makes `spec` malformed in `field` for target `t`; false: it cannot be (the target
  // takes every priority).
  bool make_malformed(const Target& t, MalformedField field, MessageSpec& spec) const;
  void send_current();
  void finish_current();
  Endpoint self() const { return producer_endpoint(id_); }

  ProducerId id_;
  const Scenario& scenario_;
  uint64_t total_;
  Prng workload_;
  Prng options_;
  Prng prng_;
  SimQueue& queue_;
  Network& network_;
  ChoiceSet& choices_;
  const std::vector<MalformedField> malformed_fields_;  // what a malformed message may get wrong
  std::optional<Current> current_;
  uint64_t token_ = 0;  // the live timeout or backoff; older wakes are stale
  uint64_t weight_sum_ = 0;
  ProducerStats stats_;
};

}  // namespace mq::sim
