#pragma once
// QueueReplay: the state of every queue and consumer as the history shows it, event
// by event, for the checkers that judge a step against the state it happened in
// (capacity, priority, no-loss's empty fetch, load balance).
//
// What it tracks, and how it stays on the broker's side when the history is vague:
//  - a message is live in its queue from its publish ok (or broker publish, or its
//    first sighting after an `info` publish) until ack ok, expire, dead-letter or lost;
//  - its place is ready, delayed (until release or its delay has surely passed), in
//    flight at a consumer (deliver ok), or unknown (after a nack, a detach or a crash,
//    until the broker's requeue or dead-letter says where it went): an unknown message
//    is never counted as ready;
//  - publishes invoked but not completed, and `info` ones not yet seen, may already
//    be in the queue: pending() counts them. A message seen before its publish's ok
//    (a history that records completions when the client hears back) was accepted at
//    that sighting; the late ok changes nothing (it neither accepts it again nor
//    counts as a second acceptance);
//  - consumers start attached (as in the model); attach, detach, crash, recover.
//
// Streaming: apply() takes the steps the StreamIndex releases, in order; the replay
// keeps only live messages (memory proportional to messages held), and the events it
// remembers (acceptance, readiness) are shared pointers, not positions.
// REQUIRES: the history is valid; a StreamIndex releases its steps.

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/topology.h"
#include "properties/checkers/history_index.h"

namespace mq {

enum class Place : uint8_t { kReady, kDelayed, kInFlight, kUnknown };

struct LiveMessage {
  PublishPtr publish;                // never null
  EventPtr accepted_at;              // the event that made it live
  EventPtr ready_since;              // the event that made it ready
  Place place = Place::kReady;
  std::string consumer;              // while in flight
};

class QueueReplay {
 public:
  explicit QueueReplay(const Topology& topology);

  // Applies the next step. REQUIRES: called for every step the index releases, in order.
  void apply(const Step& step);

  // Live messages of a queue, by id.
  const std::map<MessageId, LiveMessage>& live(const std::string& queue) const;
  // Publishes to `queue` that may have been accepted without the history saying so.
  uint64_t pending(const std::string& queue) const;
  // Surely ready at `now_ns`: ready (or delayed past its delay), and surely not expired.
  bool surely_ready(const LiveMessage& m, TimeNs now_ns) const;

  bool up() const { return up_; }
  bool attached(const std::string& consumer) const { return !detached_.contains(consumer); }
  uint32_t unacked(const std::string& consumer) const;
  // Attached, and fewer unacked deliveries than its prefetch (0: unlimited).
  bool has_credit(const std::string& consumer) const;

 private:
  void accept(const MessageKey& k, PublishPtr r, const EventPtr& at);
  void set_place(LiveMessage& m, Place place, const std::string& consumer);
  void finish(const MessageKey& k);
  void unknown_in_flight(const std::string& only_consumer);  // "" = every consumer
  LiveMessage* find(const MessageKey& k);

  const Topology& topology_;
  std::map<std::string, std::map<MessageId, LiveMessage>> live_;
  std::map<std::string, uint64_t> pending_;
  std::set<MessageKey> maybe_;  // info or open publishes not yet seen
  // Open publishes whose message was seen (delivered, finished, ...) before the
  // client's ok came: accepted at that sighting, so the ok must not accept it again.
  std::set<MessageKey> seen_early_;
  std::map<std::string, uint32_t> unacked_;
  std::set<std::string> detached_;
  bool up_ = true;
};

}  // namespace mq
