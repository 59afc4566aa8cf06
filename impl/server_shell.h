#pragma once
// ServerShell: everything a broker server does around BrokerCore, as a second
// deterministic, sans-IO state machine (DESIGN.md, "one deterministic core, one
// deterministic shell, several drivers"). It holds client sessions and their
// timeouts, turns requests into core commands, dispatches eagerly and hands
// deliveries to sessions within their credit, schedules the group commit, releases
// every output only once the log has synced what it depends on, and fails stop on a
// disk error. It reads no clock, touches no file or socket, starts no thread: every
// input carries the driver's time, and every outside effect is an Action the driver
// carries out.
//
// Drivers: the simulator (sim/broker_node.h: virtual time, simulated network and
// disk), the daemon mqd (apps/mqd: Boost.Asio sockets speaking RESP, files, the
// steady clock), the in-process Broker (impl/broker.h). So the code that decides
// what is confirmed when, and what a crash may undo, is the code the simulator checks.
//
// The commit rules (docs/durability.md states them for users):
// 1. Every command is a time advance to `now` (a Tick, its own step) and then the
//    command at that time. Each one's `persist` effects are added to the log
//    (LogBuffer) when it runs; its outputs (its Committed record, the responses and
//    pushes it caused) wait.
// 2. Outputs are released in command order, each once the log has synced every
//    record added up to and including its command. A command that added nothing
//    waits only for the commands before it. So a durable publish is confirmed, and a
//    delivery of a durable message leaves the broker, only after its record is
//    synced, and nothing anybody observed is ever undone by a crash. Acks and nacks
//    obey the same rule: their replies wait too.
// 3. Group commit: one log write is in flight at a time (WriteLog), taking every
//    record added so far; records added meanwhile go in the next. With
//    commit_delay_ns > 0 a write starts no sooner than that long after the previous
//    one started (fewer syncs, longer waits).
// 4. Checkpoint: when the log has grown by checkpoint_bytes since the last
//    checkpoint, the write that completes it is followed by a checkpoint of the
//    core's durable image (WriteCheckpoint) instead of more log; the records added
//    meanwhile are covered by that image and dropped, their outputs released when
//    it is synced.
// 5. A failed write (ENOSPC, EIO) fails the shell stop: it emits Fail and from then
//    on refuses every publish with kNoSpace and every other request with an error,
//    until the driver crashes and restarts it (crash(), restore(), start()).
//
// Lifecycle: ServerShell(options) is a fresh broker (the log starts empty). A
// driver that recovers from a log builds one with recovered(), which restores the
// core from the image (BrokerCore::restore). Either starts with a StartLog action
// (a new log generation, Wal::start); log_started() puts it up. crash() is the
// simulator's: the process dies (unreleased outputs vanish), then restore() and
// start() bring it back.
//
// Every request gets exactly one response, in request order per connection (a
// blocking Fetch holds back the connection's later requests until it is answered:
// they wait in a backlog, bounded by what the driver lets a connection have
// outstanding), except in the kDown state (a dead process reads nothing).
//
// Thread-safety: none; a driver serializes every call. Actions accumulate until the
// driver takes them (take_actions) and must be carried out in order. A driver may
// carry out WriteCheckpoint, StartLog and Fail at once, calling back into the shell
// (synced, log_started, crash): each is the last action of the input that made it.

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "impl/broker_config.h"
#include "impl/broker_core.h"
#include "impl/durable_image.h"
#include "impl/id_map.h"
#include "impl/log_buffer.h"
#include "impl/request.h"

namespace mq::impl {

enum class TimerKind : uint8_t {
  kDeadline,      // the core's next deadline: time to tick
  kSessionCheck,  // every session_check_ns: detach silent consumers
  kFetchTimeout,  // a blocking fetch waited long enough
  kCommitDelay,   // the next group commit may start
};

struct TimerId {
  TimerKind kind = TimerKind::kDeadline;
  uint64_t token = 0;
};

namespace act {
struct Reply {  // send `response` to connection `to`
  ConnId to = 0;
  Response response;
};
struct WriteLog {  // append and sync; then synced()
  LogBatch batch;
};
struct WriteCheckpoint {  // Wal::checkpoint(image); then synced()
  DurableImage image;
};
struct StartLog {  // Wal::start(storage, options, image); then log_started()
  DurableImage image;
};
struct SetTimer {  // call timer(id) at at_ns (a later SetTimer does not cancel it)
  TimeNs at_ns = 0;
  TimerId id;
};
struct Committed {  // a command's outputs were released: what the core did, as run
                    // (with record_every_command off, only commands with effects)
  Command command;
  Status status;
  Effects effects;  // kTimer effects included
  TimeNs at_ns = 0;
};
struct Noted {  // a note() came out, in order with the released outputs
  uint64_t note = 0;
  TimeNs at_ns = 0;
};
struct Fail {  // a write failed: the shell stopped (rule 5)
  Status why;
};
struct CommitSoon {  // defer_commit: records wait; call commit_now() when idle
};
}  // namespace act

using Action = std::variant<act::Reply, act::WriteLog, act::WriteCheckpoint, act::StartLog, act::SetTimer,
                            act::Committed, act::Noted, act::Fail, act::CommitSoon>;

// A consumer's session when the shell starts fresh (every consumer attached).
struct InitialSession {
  ConnId conn = 0;
  SessionId session = 0;
  SessionMode mode = SessionMode::kPush;
};

struct ShellOptions {
  BrokerConfig config;
  uint64_t checkpoint_bytes = 64u << 20;  // rule 4
  TimeNs commit_delay_ns = 0;             // rule 3
  // Rule 3 again: instead of starting a write the moment a record is added, ask the
  // driver (CommitSoon) to call commit_now() once it has handled the requests already
  // waiting, so that one sync covers all of them (a daemon's event loop does; the
  // simulator starts at once).
  bool defer_commit = false;
  // An attached consumer not heard from for longer than session_timeout_ns is
  // detached, checked every session_check_ns. 0: sessions never time out (the
  // daemon's sessions end when their connection closes).
  TimeNs session_timeout_ns = 0;
  TimeNs session_check_ns = 0;
  // Whether every command's Committed record comes out, also that of a time advance
  // that did nothing: the simulator records and checks each one. A driver that only
  // watches what changed (the embedded Broker, mqd) turns it off; then a Committed
  // comes out only for a command with effects, and an advance with none makes no
  // output at all (two of a message's six outputs each way through the shell).
  bool record_every_command = true;
  // [ConsumerId]; a fresh shell needs one per consumer (the core starts with every
  // consumer attached). Unused by recovered().
  std::vector<InitialSession> initial_sessions;
};

struct ShellStats {
  uint64_t commands = 0, pushes = 0, publishes = 0, duplicates = 0, refusals = 0;
  uint64_t acks = 0, nacks = 0, stale_acks = 0, session_detaches = 0, crashes = 0;
  uint64_t fetches = 0, fetched = 0, stale_requests = 0;
  uint64_t commits = 0, checkpoints = 0, write_failures = 0;
  // Requests handled while up, by kind (their index in Request), and the core's
  // commands run, by kind (their index in Command): what tells a test that a driver's
  // clients ask for every kind the shell serves, and that the shell runs every kind
  // of command the core takes.
  std::array<uint64_t, std::variant_size_v<Request>> handled{};
  std::array<uint64_t, std::variant_size_v<Command>> executed{};
};

class ServerShell {
 public:
  enum class State : uint8_t {
    kStarting,  // StartLog in flight
    kUp,
    kDown,      // crashed (the simulator's): reads nothing
    kFailed,    // stopped on a failed write: refuses everything
  };

  // A fresh broker at time 0. REQUIRES: a valid config; initial_sessions for every
  // consumer. Emits StartLog (empty image) and, with sessions that time out, the
  // first session check.
  explicit ServerShell(ShellOptions options);
  // A broker recovered from its log: the core restored from `image` as of crash_ns
  // (BrokerCore::restore), every consumer detached, down until start().
  // Errors: those of BrokerCore::create and restore (an image that does not fit).
  static Result<ServerShell> recovered(ShellOptions options, TimeNs crash_ns, const DurableImage& image,
                                       Effects& out);

  // ---- inputs (each with the driver's time, never earlier than the last) ----
  void request(TimeNs now, ConnId from, Request r);
  void closed(TimeNs now, ConnId conn);
  void timer(TimeNs now, TimerId id);
  // The WriteLog or WriteCheckpoint in flight completed. REQUIRES: one in flight.
  void synced(TimeNs now, const Status& s);
  // The StartLog completed. REQUIRES: kStarting.
  void log_started(TimeNs now, const Status& s);
  // defer_commit: the driver is idle; the group commit may start now.
  void commit_now(TimeNs now);
  // An opaque marker, released in order with the outputs before it (the simulator
  // orders its fault events this way). Waits for no sync; survives a crash.
  void note(TimeNs now, uint64_t note);

  // ---- lifecycle (the simulator's faults; the daemon starts a new process) ----
  // The process dies: notes still waiting come out (Noted), every other unreleased
  // output vanishes, the core and the log buffer are gone. kFailed stays kFailed.
  // REQUIRES: not kDown.
  void crash();
  // Restores the core from a recovered log image as of crash_ns (see recovered()).
  // REQUIRES: crash() before, no core. Errors: those of BrokerCore::restore.
  Status restore(TimeNs crash_ns, const DurableImage& image, Effects& out);
  // Starts a new log generation from the restored core (StartLog).
  // REQUIRES: kDown or kFailed, with a core (restore() done).
  void start(TimeNs now);

  // ---- outputs ----
  // Moves the actions accumulated so far into `out`, in order.
  // REQUIRES: out.empty() (a driver carries out one batch before it takes the next).
  void take_actions(std::vector<Action>& out);
  bool has_actions() const { return !actions_.empty(); }

  // ---- queries ----
  State state() const { return state_; }
  bool up() const { return state_ == State::kUp; }
  bool has_core() const { return core_.has_value(); }
  // Nothing waits for the log (every output released, no write in flight).
  bool settled() const { return outputs_.empty() && !writing_ && !delay_armed_ && !commit_wanted_; }
  // The time of the last output released: a crash is recorded at this time, since
  // nobody outside saw anything later.
  TimeNs released_ns() const { return released_ns_; }
  uint64_t added_lsn() const { return log_.added_lsn(); }
  uint64_t synced_lsn() const { return synced_lsn_; }
  const ShellStats& stats() const { return stats_; }
  const BrokerConfig& config() const { return options_.config; }
  // REQUIRES: has_core().
  const BrokerCore& core() const;

 private:
  struct ParkedFetch {  // a pull session's blocking fetch waiting for a delivery
    ConnId conn = 0;
    uint32_t max = 1;
    TimeNs block_ns = 0;
    uint64_t token = 0;
  };
  // A pull session's released deliveries not yet fetched, in release order, and
  // their ids, so that a message taken back (above all an ack of a fetched message,
  // which the outbox no longer holds) is looked for in O(1): a search of the outbox
  // per ack made a busy pull consumer's acks cost the outbox's length each.
  class Outbox {
   public:
    bool empty() const { return deliveries_.empty(); }
    // REQUIRES: the outbox does not hold d's message (a message is in flight at one
    // consumer at most once; the core takes it back before it goes out again).
    void push(Delivery d);
    // REQUIRES: !empty().
    Delivery pop();
    void clear();
    void forget(MessageId id);

   private:
    std::deque<Delivery> deliveries_;
    IdMap ids_;  // the ids of deliveries_ (value 1): no allocation per delivery
  };
  struct Session {
    SessionId id = 0;
    ConnId conn = 0;
    SessionMode mode = SessionMode::kPush;
    bool open = true;  // false once its connection closed
    TimeNs last_heard_ns = 0;
    Outbox outbox;  // pull only: a push session's deliveries go out at release
    std::optional<ParkedFetch> parked;
  };
  // What a released output sends: a response; a delivery, routed to its session at
  // release (a push, or a pull session's outbox); or the answer to a fetch, made at
  // release from the outbox.
  struct SendResponse {
    ConnId to = 0;
    Response response;
  };
  struct SendDelivery {
    SessionId session = 0;
    ConnId conn = 0;
    SessionMode mode = SessionMode::kPush;
    Delivery delivery;
  };
  struct AnswerFetch {
    ConnId to = 0;
    ConsumerRef who;
    uint32_t max = 1;
    TimeNs block_ns = 0;
    TimeNs asked_ns = 0;  // when the fetch was read: its wait ends at asked_ns + block_ns
  };
  using Send = std::variant<SendResponse, SendDelivery, AnswerFetch>;
  struct Output {
    uint64_t lsn = 0;     // released once synced_lsn_ reaches it
    bool note = false;    // waits for no sync; survives a crash
    uint64_t note_id = 0;
    std::optional<act::Committed> committed;
    TimeNs at_ns = 0;
    std::vector<Send> sends;
  };
  struct Conn {  // a connection whose later requests wait behind a blocking fetch
    bool blocked = false;
    std::deque<Request> backlog;
  };
  // A command's outcome, read off its effects before they are handed on.
  struct Ran {
    Status status;
    bool delivered = false, accepted = false, refused = false, duplicate = false;
    std::vector<QueueOutcome> queues;  // send and publish: per queue reached
  };
  enum class Writing : uint8_t { kLog, kCheckpoint };

  ServerShell(ShellOptions options, BrokerCore core, State state);

  // Requests.
  void handle(TimeNs now, ConnId from, Request& r);
  void on_publish(TimeNs now, ConnId from, req::Publish& r);
  void on_hello(TimeNs now, ConnId from, const req::Hello& r);
  void on_fetch(TimeNs now, ConnId from, const req::Fetch& r);
  void on_settle(TimeNs now, ConnId from, const req::Settle& r);
  void refuse_while_failed(ConnId from, const Request& r);
  std::optional<std::string> check_ids(const Request& r) const;
  bool admit(TimeNs now, ConnId from, const ConsumerRef& who);
  void take_over(TimeNs now, ConsumerId c);
  void check_sessions(TimeNs now);
  void after_input(TimeNs now);
  void resume_backlogs(TimeNs now);
  std::string info_text() const;

  // Commands and output commit.
  Ran execute(TimeNs now, Command&& c);
  void emit(Output&& out, TimeNs now);
  void emit_command(uint64_t lsn, TimeNs now, act::Committed* committed, std::vector<Send>&& sends);
  // Rule 2: an output may go out (once those before it have) when it is a note or the
  // log has synced every record up to its own.
  bool may_release(bool note, uint64_t lsn) const { return note || lsn <= synced_lsn_; }
  // An output's record, then its sends, released at at_ns.
  void release_parts(TimeNs at_ns, act::Committed* committed, std::vector<Send>& sends, TimeNs now);
  void send_after(Send&& s, TimeNs now);
  void release(Output& out, TimeNs now);
  void carry_out(Send& s, TimeNs now);
  void release_ready(TimeNs now);
  void drop_unreleased();
  void route(SendDelivery& d, TimeNs now);
  void answer(const AnswerFetch& f, TimeNs now);
  void reply(ConnId to, Response&& r);
  void unblock(ConnId conn);
  void forget_delivery(ConsumerId c, MessageId id);
  void forget_taken_back(const Effects& effects);

  // The log.
  void start_commit(TimeNs now, bool asked = false);
  void fail_stop(const Status& why);

  // Timers and dispatch.
  void dispatch_all(TimeNs now);
  void arm_timer(TimeNs now);
  void set_timer(TimeNs at_ns, TimerKind kind, uint64_t token);

  ShellOptions options_;
  std::optional<BrokerCore> core_;
  State state_;
  bool fresh_start_ = true;  // the first start of a fresh broker: nothing was recovered
  LogBuffer log_;
  std::optional<Writing> writing_;
  uint64_t writing_lsn_ = 0;    // what the write in flight covers
  uint64_t writing_bytes_ = 0;
  uint64_t synced_lsn_ = 0;
  uint64_t bytes_since_checkpoint_ = 0;
  std::optional<TimeNs> last_commit_start_ns_;  // none yet: the first may start at once
  bool delay_armed_ = false;
  bool commit_wanted_ = false;  // defer_commit: CommitSoon emitted, commit_now() not yet called
  uint64_t delay_token_ = 0;
  TimeNs released_ns_ = 0;
  std::deque<Output> outputs_;                    // not yet released, in command order
  std::vector<std::optional<Session>> sessions_;  // [ConsumerId]
  std::vector<QueueId> queue_of_consumer_;        // [ConsumerId]
  std::map<ConnId, Conn> conns_;                  // connections blocked or with a backlog
  std::vector<ConnId> resume_;                    // unblocked, with a backlog to run
  std::optional<TimeNs> timer_at_;
  uint64_t timer_token_ = 0;
  uint64_t fetch_token_ = 0;
  uint64_t dispatch_bound_ = 0;
  std::vector<Action> actions_;
  ShellStats stats_;
};

const char* state_name(ServerShell::State s);

}  // namespace mq::impl
