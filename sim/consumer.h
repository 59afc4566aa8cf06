#pragma once
// Consumer: a client that takes the broker's pushes, processes them one at a time
// (processing_ns per message, times its slow factor), and acks each (or, when its
// processing fails, nacks it: requeue, or dead-letter now). An ack or nack whose
// reply does not come within ack_timeout_ns is sent again, up to max_ack_sends times;
// then the consumer gives up and the visibility timeout takes the message back.
// It says hello every heartbeat_ns so that the broker keeps (or re-establishes) its
// session. With clients.fetch_interval_ns > 0 it also pulls: every interval, when it
// has nothing to work on, it asks for one message (fetch); a delivery comes back as
// a push of its session.
//
// A pull consumer (clients.pull_consumers) holds a pull session instead: whenever it
// has nothing to work on it fetches up to clients.fetch_max deliveries, the fetch
// waiting at the broker up to clients.fetch_block_ns; an empty answer to a fetch that
// did not wait is followed by the next one kEmptyFetchGapNs later, and a fetch whose
// answer does not come (lost, or refused with an error the consumer does not read)
// is given up after fetch_block_ns + ack_timeout_ns. With clients.stats_interval_ns
// it also asks for STATS and INFO (alternately) that often.
//
// A crash loses everything it holds and stops it (with clients.close_on_crash its
// connection closes: a Close goes to the broker); a restart begins a new session
// (the broker then detaches the old one, so its unacked deliveries come back).
// Each processing failure is a choice (sim/choices.h), keyed by the number of the
// delivery processed: a skipped one is acked instead.
//
// Thread-safety: none; one per consumer per run.

#include <cstdint>
#include <deque>
#include <map>

#include "base/prng.h"
#include "sim/choices.h"
#include "sim/network.h"
#include "sim/scenario.h"

namespace mq::sim {

struct ConsumerParams {
  uint32_t slow_factor = 1;    // processing time multiplier (1: not slow)
  uint32_t nack_ppm = 0;       // per delivery while faulty: processing fails
  uint32_t dead_letter_ppm = 0;  // of those: nack without requeue
};

struct ConsumerStats {
  uint64_t received = 0, stale_pushes = 0, processed = 0, acks = 0, nacks = 0;
  uint64_t ack_resends = 0, ack_give_ups = 0, crashes = 0, inbox_overflow = 0, fetches = 0;
  uint64_t fetch_replies = 0, fetch_give_ups = 0, stats_requests = 0;
};

class Consumer {
 public:
  // More queued deliveries than this can only come from duplicated pushes (the broker
  // bounds deliveries by prefetch); further ones are dropped.
  static constexpr size_t kMaxInbox = 4096;
  // A pull consumer whose fetch came back empty at once waits this long to ask again.
  static constexpr TimeNs kEmptyFetchGapNs = 1'000'000;

  Consumer(ConsumerId id, const Scenario& scenario, ConsumerParams params, uint64_t master_seed,
           SimQueue& queue, Network& network, ChoiceSet& choices);

  void start();
  void receive(const Packet& packet);
  void wake(uint32_t what, uint64_t token);
  void crash();
  void restart();
  bool alive() const { return alive_; }
  // Healing: processing failures stop and a slow consumer gets its normal speed.
  void heal();
  const ConsumerStats& stats() const { return stats_; }

 private:
  enum Wakes : uint32_t { kHeartbeat, kProcessed, kAckTimeout, kFetch, kPull, kPullTimeout, kStats };
  struct PendingAck {
    bool nack = false;
    bool requeue = true;
    uint32_t sends = 0;
    uint64_t token = 0;
  };

  void process_next();
  void finish_processing();
  void send_ack(MessageId id);
  void on_ack_timeout(uint64_t token);
  void on_fetch_reply(const FetchReply& reply);
  void pull();
  void ask_stats();
  Endpoint self() const;
  // Sends `r` to the broker on this session's connection.
  void ask(impl::Request r);
  // This consumer, as the current session.
  impl::ConsumerRef me() const;

  ConsumerId id_;
  const Scenario& scenario_;
  ConsumerParams params_;
  Prng prng_;
  SimQueue& queue_;
  Network& network_;
  ChoiceSet& choices_;
  bool auto_ack_;
  bool alive_ = true;
  uint64_t session_ = 1;
  std::deque<Message> inbox_;
  bool busy_ = false;
  Message working_;
  uint64_t work_token_ = 0;  // the live processing wake; a crash makes it stale
  uint64_t ack_token_ = 0;   // numbers ack timeouts
  bool pulls_;               // holds a pull session
  bool fetching_ = false;    // a pull session's fetch is unanswered
  uint64_t fetch_token_ = 0;                 // the live fetch's timeout and retry wakes
  std::map<MessageId, PendingAck> pending_;  // bounded by prefetch plus duplicated pushes
  ConsumerStats stats_;
};

}  // namespace mq::sim
