#pragma once
// BrokerNode: the broker as a node of the simulated world. It runs the real
// BrokerCore (the code production runs) with virtual time, persists through the real
// write-ahead log (impl::Wal) over a simulated disk (impl::MemStorage), and around it
// does what the production shell does: turns requests that arrive over the network
// into core commands, pushes deliveries to consumers, sets a timer for the core's next
// deadline, and tracks consumer sessions.
//
// After every command it dispatches eagerly: each queue, in index order, is
// dispatched until nothing more is delivered (prefetch credit runs out or nothing is
// ready). Every command is first a tick(now), then the command at the same time, so
// that the time advance and the command are separate steps for the history and for
// the shadow model.
//
// Durability (output commit, docs/simulator.md "The simulated disk"): the records of
// a command's `persist` effects are added to the log at once; one group commit at a
// time takes every record added so far and completes (append + sync) after a disk
// latency drawn from the scenario. A command's outputs (its history events, its
// replies, its pushes) are released in command order once the log has synced every
// record added up to and including that command; a command that added nothing waits
// only for those before it. So nothing anyone observes is ever undone by a crash.
// The history records a released command at the time the core executed it.
//
// A crash drops every output not yet released (the clients never learned of them),
// loses the unsynced writes (MemStorage::crash; with a torn-write fault, a torn
// prefix of the write in flight stays), may flip a bit at rest, and rebuilds the
// core from the disk exactly as docs/durability.md says: Wal::recover ->
// BrokerCore::restore(crash time) -> (at restart) Wal::start. The shadow model, which
// sees only released commands, is then at the last synced point: it advances to the
// crash time and crashes, and must agree with the restored core on the durable
// queues. Non-durable queues lose what they held at that point; the node reports each
// such message as lost (it tracks what was released).
//
// A recovery that finds corruption (a flipped bit, caught by the CRC) takes the
// broker out of service for the rest of the run: corruption() says where, the
// history ends with a corruption-detected event, and the run stops. Never silent.
//
// A failed append or sync (ENOSPC while the disk is full) makes the broker fail-stop:
// what it appended after its last sync is discarded (as a crash would), and until
// the disk has space again it answers every publish with "no space" (the producers
// back off and resend) and does nothing else. disk_space() brings it back.
//
// Sessions: a consumer's packets carry its session; a packet of a newer session
// detaches the old one (its unacked deliveries come back) and attaches the new; a
// packet of an older session is dropped; an attached consumer silent for
// session_timeout_ns is detached; a consumer the broker detached (crash, timeout) is
// attached again by its next packet.
//
// Thread-safety: none; one node per run.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "impl/broker_core.h"
#include "impl/mem_storage.h"
#include "impl/wal.h"
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
  uint64_t fetches = 0, fetched = 0;
};

struct DiskStats {
  uint64_t commits = 0, records = 0, bytes = 0, checkpoints = 0;
  uint64_t unsynced_records_lost = 0;  // records added but not synced at a crash
  uint64_t torn_writes = 0, bit_flips = 0, disk_full = 0, write_failures = 0;
  uint64_t no_space_replies = 0, recoveries = 0, torn_tails_seen = 0;
};

// What the nemesis decided for one broker crash (draws made whatever the outcome).
struct CrashFaults {
  bool tear = false;       // a write in flight leaves a torn prefix
  uint64_t tear_draw = 0;  // chooses the prefix length
  bool flip = false;       // a bit of a synced record flips at rest
  uint64_t flip_draw = 0;  // chooses the record, byte and bit
};

class BrokerNode {
 public:
  BrokerNode(const Scenario& scenario, BrokerNodeOptions options, uint64_t disk_seed, SimQueue& queue,
             Network& network, HistoryRecorder& recorder);

  void receive(const Packet& packet);
  void wake(uint32_t what, uint64_t token);
  void crash(const CrashFaults& faults = {});
  // Restarts the broker; false if it could not (the disk is full: it retries at
  // disk_space()), or it is out of service (corruption).
  bool recover();
  bool up() const { return up_; }

  // Disk faults: from now on appends fail beyond `slack_bytes` more; then space again.
  void disk_full(uint64_t slack_bytes);
  void disk_space();
  // A fault event for the history, in order with the broker's released outputs.
  void note_fault(EventF f, const std::string& node);

  // Messages accepted and not yet finished (acked, expired, dead-lettered, lost), as
  // released to the outside world.
  uint64_t live_messages() const { return live_.size(); }
  // Nothing waits for the log (every output released).
  bool settled() const { return outputs_.empty() && !writing_; }
  // Up to `limit` of them, described for a liveness report.
  std::vector<std::string> describe_live(size_t limit) const;
  const ShadowModel* shadow() const { return shadow_ ? &*shadow_ : nullptr; }
  const BrokerNodeStats& stats() const { return stats_; }
  const DiskStats& disk_stats() const { return disk_stats_; }
  // Set when a recovery found the log corrupt: the broker is out of service.
  const std::optional<std::string>& corruption() const { return corruption_; }

 private:
  enum Wakes : uint32_t { kTimer, kSessionCheck, kCommitDone };
  struct Live {
    EffectKind last = EffectKind::kAccepted;
    ConsumerId consumer = kNoConsumer;
    TimeNs since_ns = 0;
    Message message;
  };
  // One command's outputs (or one fault event), released when the log has synced `lsn`.
  struct Output {
    uint64_t lsn = 0;
    bool tick = false;              // the time-advance step of a command
    bool nemesis = false;           // a fault event or the restart: waits for nothing, survives a crash
    std::optional<EventF> fault;    // a fault event instead of a command
    std::string node;               // the fault's node
    Op op;
    Result<Effects> result = Effects{};
    TimeNs at_ns = 0;
    std::vector<std::pair<Endpoint, Packet>> sends;
  };

  Result<Effects> execute(const Op& op);
  Status run_core(const Op& op, TimeNs now, impl::Effects& out);
  void corrupt(Result<Effects>& result);
  void emit(Output out);
  void send_after(Endpoint to, Packet packet);
  void release(Output& out);
  void release_ready();
  void track(const Effects& effects, TimeNs at_ns);
  void dispatch_all();
  void arm_timer();
  void start_commit();
  void finish_commit(uint64_t token);
  void fail_stop(const Status& why);
  void lose_unsynced(const CrashFaults& faults, TimeNs at_ns);
  void flip_bit(uint64_t draw, TimeNs at_ns);
  bool restore_from_disk(TimeNs crash_ns);
  Effects lost_in_volatile_queues() const;
  bool admit(ConsumerId c, uint64_t session);
  void on_publish(const PublishRequest& r);
  void on_ack(const AckRequest& r);
  void on_fetch(const FetchRequest& r);
  void check_sessions();
  Endpoint consumer_endpoint(ConsumerId c) const;
  Endpoint producer_endpoint(ProducerId p) const { return 1 + p; }

  const Scenario& scenario_;
  BrokerNodeOptions options_;
  SimQueue& queue_;
  Network& network_;
  HistoryRecorder& recorder_;
  Prng disk_prng_;  // commit latencies
  impl::BrokerConfig config_;
  impl::WalOptions wal_options_;
  impl::MemStorage disk_;
  std::optional<impl::BrokerCore> core_;
  std::optional<impl::Wal> wal_;
  std::optional<impl::Wal::Batch> writing_;  // the group commit in flight
  uint64_t commit_token_ = 0;
  uint64_t synced_lsn_ = 0;
  TimeNs released_ns_ = 0;      // the time of the last output released (recorded)
  std::deque<Output> outputs_;  // not yet released, in command order
  std::vector<bool> durable_;   // [QueueId]
  bool up_ = true;
  bool no_space_ = false;         // fail-stopped on a full disk: refuses publishes
  bool disk_is_full_ = false;
  bool restart_pending_ = false;  // recover() failed for lack of space
  std::optional<std::string> corruption_;
  std::optional<ShadowModel> shadow_;
  std::vector<uint64_t> session_;     // [ConsumerId]: the newest session seen
  std::vector<TimeNs> last_heard_;    // [ConsumerId]
  std::map<std::pair<QueueId, MessageId>, Live> live_;
  // [QueueId]: ids the non-durable queues accepted (released), oldest first. The log
  // keeps only the durable queues' idempotency windows; the node hands these to the
  // restored core, so that a producer's retry after a crash is still recognized, as
  // the model specifies (docs/simulator.md, "The simulated disk").
  std::vector<std::vector<impl::WindowEntry>> volatile_ids_;
  std::optional<TimeNs> timer_at_;
  uint64_t timer_token_ = 0;
  uint64_t dispatch_bound_ = 0;
  bool corrupted_ = false;
  BrokerNodeStats stats_;
  DiskStats disk_stats_;
};

}  // namespace mq::sim
