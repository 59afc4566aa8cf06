#pragma once
// BrokerNode: the broker as a node of the simulated world, a thin driver of the
// production server shell (impl/server_shell.h) around the production core: the
// code the daemon mqd runs. The shell decides everything a server decides (sessions,
// eager dispatch, group commit, what is released when, fail-stop on a disk error);
// this node only carries its actions out in the simulated world:
//  - requests come off the simulated network (producer and consumer packets become
//    the shell's requests; a producer's endpoint is its connection, a consumer has
//    one connection per session, a push session or, for clients.pull_consumers, a
//    pull session; a consumer's Close closes its session's connection) and responses
//    go back as packets (the ones the simulated clients do not speak, such as attach
//    confirmations, errors and statistics, are dropped); with clients.resp the
//    producers' and pull sessions' requests and answers go through RESP as mqd and
//    the client library read and write it (sim/resp_route.h);
//  - with disk.defer_commit, the shell's CommitSoon becomes a wake at the same
//    virtual time, after the events already due then (mqd's event loop does the same);
//  - log writes go to the real write-ahead log (impl::Wal) over a simulated disk
//    (impl::MemStorage) and complete after a latency drawn from the scenario;
//    checkpoints complete at once, and so does the start of a log generation unless
//    disk.start_latency_ns says how long a restart's takes (the shell is starting
//    meanwhile);
//  - timers become agenda wakes at virtual times.
// It records what the shell released (impl's Committed actions, translated into the
// model's operations with sim/translate.h) into the history and feeds the shadow
// model, and orders the nemesis's fault events with them (ServerShell::note).
//
// Crashes (docs/simulator.md, "The simulated disk"): the shell drops every output not
// yet released (the clients never learned of them); the node loses the unsynced
// writes (MemStorage::crash; with a torn-write fault, a torn prefix of the write in
// flight stays), may flip a bit at rest, and rebuilds the core from the disk exactly
// as docs/durability.md says: Wal::recover -> ServerShell::restore (BrokerCore::restore
// at the crash time) -> (at restart) ServerShell::start, a new log generation. With
// disk.restart_fresh a crash the nemesis made is instead followed by a new process,
// as mqd starts: ServerShell::recovered (a new shell, every session forgotten, the
// consumers attach again) in place of ServerShell::restore; a fail-stop keeps its
// shell, which answers "no space" until the disk is back. The shadow model, which sees only released
// commands, is then at the last synced point: it advances to the crash time and crashes, and must agree with
// the restored core on the durable queues. Non-durable queues lose what they held at that point; the node
// reports each such message as lost (it tracks what was released).
//
// A recovery that fails takes the broker out of service for the rest of the run, and
// the run stops; never silent. The node tells the damage it injected from a broker
// bug: the failure is "detected corruption" (corruption(), a corruption-detected
// event: correct behaviour) only when recovery stopped at a checksum failure of a
// frame this run flipped a bit of (Wal::recover's `problem`).
// Any other failure (a record that does not fit the state, an undecodable body, a
// missing segment, a recovered image the core refuses) is recovery_failure(), a
// recovery-failed event, which the "recovery" property reports as a violation.
//
// A failed append or sync (ENOSPC while the disk is full, EIO while it fails) makes
// the shell fail-stop: the node crashes it (what it appended after its last sync is
// discarded), and until the disk has space again (or works again) the shell answers
// every publish with "no space" (the producers back off and resend) and does nothing
// else. disk_space() restarts it.
//
// Thread-safety: none; one node per run.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "impl/mem_storage.h"
#include "impl/server_shell.h"
#include "impl/wal.h"
#include "model/history_recorder.h"
#include "model/op.h"
#include "sim/network.h"
#include "sim/resp_route.h"
#include "sim/scenario.h"
#include "sim/shadow_model.h"

namespace mq::sim {

struct BrokerNodeOptions {
  bool shadow = true;
  // Test hook: from this 1-based command on, the first effect the core reports is
  // altered (its attempt count bumped) before anyone sees it. 0: never. The shadow
  // must catch it at that step.
  uint64_t corrupt_step = 0;
  // Test hook: at the first crash, a well-formed record that does not fit the log
  // (the release of a message no queue holds) is appended to the newest segment, as
  // a broker bug would write it. Recovery must fail, and no injected fault explains it.
  bool inconsistent_log = false;
};

using BrokerNodeStats = impl::ShellStats;

struct DiskStats {
  uint64_t commits = 0, records = 0, bytes = 0, checkpoints = 0;
  uint64_t unsynced_records_lost = 0;  // records added but not synced at a crash
  uint64_t torn_writes = 0, bit_flips = 0, disk_full = 0, write_failures = 0;
  uint64_t no_space_replies = 0, recoveries = 0, torn_tails_seen = 0;
  uint64_t crash_twins = 0;  // recoveries checked against the core's crash in memory (sim/crash_twin.h)
  uint64_t requests_while_starting = 0;  // read while a restart's log start was in flight
};

// With clients.resp: what went over RESP besides the scenario's requests.
struct RespStats {
  uint64_t noise = 0;               // noise commands (RespRoute "Noise")
  uint64_t hostile = 0;             // hostile clients' connections (RespRoute "Hostile clients")
  uint64_t hostile_closed = 0;      // of those, closed after their last answer
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
  // REQUIRES: up().
  void crash(const CrashFaults& faults = {});
  // Restarts the broker; false if it could not (the disk is full: it retries at
  // disk_space()), or it is out of service (corruption).
  bool recover();
  bool up() const { return shell_.up(); }

  // Disk faults: from now on appends fail beyond `slack_bytes` more; then space again.
  void disk_full(uint64_t slack_bytes);
  // ... or every sync fails (EIO) until disk_space().
  void disk_failing();
  void disk_space();
  // A fault event for the history, in order with the broker's released outputs.
  void note_fault(EventF f, const std::string& node, const std::string& detail = "");

  // Messages accepted and not yet finished (acked, expired, dead-lettered, lost), as
  // released to the outside world.
  uint64_t live_messages() const { return live_.size(); }
  // Nothing waits for the log (every output released).
  bool settled() const { return shell_.settled(); }
  // Up to `limit` of them, described for a liveness report.
  std::vector<std::string> describe_live(size_t limit) const;
  const ShadowModel* shadow() const { return shadow_ ? &*shadow_ : nullptr; }
  // Summed over the server shells of the run (see disk.restart_fresh).
  BrokerNodeStats stats() const;
  const DiskStats& disk_stats() const { return disk_stats_; }
  RespStats resp_stats() const;
  // Set when a recovery found the log corrupt where this run flipped a bit: the
  // broker is out of service (a detected fault).
  const std::optional<std::string>& corruption() const { return corruption_; }
  // Set when a recovery failed and no injected fault explains it: out of service.
  const std::optional<std::string>& recovery_failure() const { return recovery_failure_; }
  bool out_of_service() const { return corruption_ || recovery_failure_; }

 private:
  // Wakes of the shell's timers carry their TimerKind and, above kGenerationShift,
  // the generation of the shell that set them; the commit completion its own.
  static constexpr uint32_t kCommitDone = 16;
  static constexpr uint32_t kGenerationShift = 8;
  static constexpr uint32_t kCommitSoon = 17;  // defer_commit: the shell's CommitSoon
  static constexpr uint32_t kStartDone = 18;   // disk.start_latency_ns: a log start completes
  static constexpr uint32_t kHostileClose = 19;  // a hostile client's connection closes (RespRoute)
  struct Live {
    EffectKind last = EffectKind::kAccepted;
    ConsumerId consumer = kNoConsumer;
    TimeNs since_ns = 0;
    Message message;
  };
  struct Fault {
    EventF f = EventF::kCrash;
    std::string node;
    std::string detail;
  };

  static impl::ShellOptions shell_options(const Scenario& scenario);
  void drain();
  void perform(impl::Action& a, bool last);
  void send(impl::act::Reply& r);
  void record(impl::act::Committed& c);
  void corrupt(Result<Effects>& result);
  void write_log(impl::LogBatch batch);
  void finish_commit(uint64_t token);
  void start_log(const impl::DurableImage& image);
  void crash_now(const CrashFaults& faults, bool fresh);
  void lose_unsynced(const CrashFaults& faults, TimeNs at_ns, uint64_t unsynced);
  void flip_bit(uint64_t draw, TimeNs at_ns);
  void append_inconsistent_record();
  // The newest segment's name on disk; empty: none.
  std::string newest_segment();
  bool restore_from_disk(TimeNs crash_ns, bool fresh, std::optional<impl::BrokerCore> twin);
  Status start_fresh(TimeNs crash_ns, const impl::DurableImage& image, impl::Effects& out);
  bool flip_explains(const impl::CorruptionReport& problem) const;
  // Records the crash (nothing came of it) and takes the broker out of service:
  // corruption() when `explained` by a fault this run injected, else fail_recovery().
  void take_out_of_service(TimeNs crash_ns, const std::string& why, bool explained);
  // A failed recovery (the crash already recorded): recovery_failure(), and a
  // recovery-failed event; the broker stays out of service.
  void fail_recovery(TimeNs crash_ns, const std::string& why);
  Effects lost_in_volatile_queues() const;
  void track(const Effects& effects, TimeNs at_ns);
  // With clients.resp: whether the connection's client speaks RESP (sim/resp_route.h).
  bool speaks_resp(impl::ConnId conn) const;

  const Scenario& scenario_;
  BrokerNodeOptions options_;
  SimQueue& queue_;
  Network& network_;
  HistoryRecorder& recorder_;
  Prng disk_prng_;  // commit latencies
  impl::BrokerConfig config_;
  impl::WalOptions wal_options_;
  impl::MemStorage disk_;
  std::vector<bool> durable_;  // [QueueId]
  impl::ServerShell shell_;
  uint32_t generation_ = 0;               // shells built so far, after the first
  impl::ShellStats earlier_shells_;       // what the shells before this one counted
  std::optional<impl::Wal> wal_;          // the writing half; gone at a crash
  std::optional<impl::LogBatch> writing_;  // the log write in flight
  uint64_t commit_token_ = 0;
  uint64_t commit_soon_token_ = 0;  // the live CommitSoon; a crash makes it stale
  uint64_t start_token_ = 0;        // the log start in flight; a crash makes it stale
  std::optional<impl::DurableImage> starting_;  // its image, until it completes
  bool first_start_done_ = false;   // the first start of a run completes at once
  uint64_t synced_lsn_ = 0;       // as the disk has it (for the stats)
  bool disk_is_full_ = false;
  bool restart_pending_ = false;  // a restart failed for lack of space
  std::optional<std::string> corruption_;
  std::optional<std::string> recovery_failure_;
  struct Flip {  // a bit this run flipped: the frame it lies in (0: the segment's header)
    std::string segment;
    uint64_t frame_offset = 0;
  };
  std::vector<Flip> flips_;
  std::optional<ShadowModel> shadow_;
  std::optional<RespRoute> resp_;  // clients.resp
  std::map<uint64_t, Fault> faults_;  // notes given to the shell, by id
  uint64_t next_note_ = 0;
  std::map<std::pair<QueueId, MessageId>, Live> live_;
  // [QueueId]: ids the non-durable queues accepted (released), oldest first. The log
  // keeps only the durable queues' idempotency windows; the node hands these to the
  // restored core, so that a producer's retry after a crash is still recognized, as
  // the model specifies (docs/simulator.md, "The simulated disk"). The daemon has no
  // such memory: its non-durable queues forget their window at a crash
  // (docs/durability.md, "Known limits").
  std::vector<std::vector<impl::WindowEntry>> volatile_ids_;
  uint64_t released_commands_ = 0;  // for the corrupt_step hook
  bool corrupted_ = false;
  DiskStats disk_stats_;
};

}  // namespace mq::sim
