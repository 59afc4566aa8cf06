#pragma once
// BrokerNode: the broker as a node of the simulated world. It runs the real
// BrokerCore (the code production runs) with virtual time, and around it does what
// the production shell does: turns requests that arrive over the network into core
// commands, pushes deliveries to consumers, sets a timer for the core's next
// deadline, and tracks consumer sessions.
//
// After every command it dispatches eagerly: each queue, in index order, is
// dispatched until nothing more is delivered (prefetch credit runs out or nothing is
// ready). Every command is first a tick(now), then the command at the same time, so
// that the time advance and the command are separate steps for the history and for
// the shadow model.
//
// Everything the core does is recorded (HistoryRecorder, the model's mapping) at the
// time the core does it: a client command becomes the client's invoke and its
// completion, adjacent, at the broker's time. The client may learn the outcome later
// or never (a lost reply); its retries are then new commands. See docs/simulator.md.
//
// Sessions: a consumer's packets carry its session; a packet of a newer session
// detaches the old one (its unacked deliveries come back) and attaches the new; a
// packet of an older session is dropped; an attached consumer silent for
// session_timeout_ns is detached; a consumer the broker detached (crash, timeout) is
// attached again by its next packet.
//
// Storage seam: crash() and recover() are the only places where the broker's state
// survives or not. Today they call BrokerCore::crash()/recover() (the core keeps
// durable queues in memory). With the write-ahead log, crash() drops the core and
// recover() rebuilds it from a Storage (a simulated disk that can lose unsynced
// writes): only those two functions and the constructor change.
//
// Thread-safety: none; one node per run.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "impl/broker_core.h"
#include "model/history_recorder.h"
#include "model/op.h"
#include "sim/network.h"
#include "sim/scenario.h"
#include "sim/shadow_model.h"

namespace mq::sim {

struct BrokerNodeOptions {
  bool shadow = true;
  // Test hook: from this 1-based command on, the first effect the core reports is
  // altered (its attempt count bumped) before anyone sees it. 0: never. The shadow
  // must catch it at that step.
  uint64_t corrupt_step = 0;
};

struct BrokerNodeStats {
  uint64_t commands = 0, pushes = 0, publishes = 0, duplicates = 0, refusals = 0;
  uint64_t acks = 0, nacks = 0, stale_acks = 0, session_detaches = 0, crashes = 0;
};

class BrokerNode {
 public:
  BrokerNode(const Scenario& scenario, BrokerNodeOptions options, SimQueue& queue, Network& network,
             HistoryRecorder& recorder);

  void receive(const Packet& packet);
  void wake(uint32_t what, uint64_t token);
  void crash();
  void recover();
  bool up() const { return core_.up(); }

  // Messages accepted and not yet finished (acked, expired, dead-lettered, lost).
  uint64_t live_messages() const { return live_.size(); }
  // Up to `limit` of them, described for a liveness report.
  std::vector<std::string> describe_live(size_t limit) const;
  const ShadowModel* shadow() const { return shadow_ ? &*shadow_ : nullptr; }
  const BrokerNodeStats& stats() const { return stats_; }

 private:
  enum Wakes : uint32_t { kTimer, kSessionCheck };
  struct Live {
    EffectKind last = EffectKind::kAccepted;
    ConsumerId consumer = kNoConsumer;
    TimeNs since_ns = 0;
  };

  Result<Effects> execute(const Op& op);
  Status run_core(const Op& op, TimeNs now, impl::Effects& out);
  void corrupt(Result<Effects>& result);
  void track(const Effects& effects);
  void push_deliveries(const Effects& effects);
  void dispatch_all();
  void arm_timer();
  bool admit(ConsumerId c, uint64_t session);
  void on_publish(const PublishRequest& r);
  void on_ack(const AckRequest& r);
  void check_sessions();
  Endpoint consumer_endpoint(ConsumerId c) const;
  Endpoint producer_endpoint(ProducerId p) const { return 1 + p; }

  const Scenario& scenario_;
  BrokerNodeOptions options_;
  SimQueue& queue_;
  Network& network_;
  HistoryRecorder& recorder_;
  impl::BrokerCore core_;
  std::optional<ShadowModel> shadow_;
  std::vector<uint64_t> session_;     // [ConsumerId]: the newest session seen
  std::vector<TimeNs> last_heard_;    // [ConsumerId]
  std::map<std::pair<QueueId, MessageId>, Live> live_;
  std::optional<TimeNs> timer_at_;
  uint64_t timer_token_ = 0;
  uint64_t dispatch_bound_ = 0;
  bool corrupted_ = false;
  BrokerNodeStats stats_;
};

}  // namespace mq::sim
