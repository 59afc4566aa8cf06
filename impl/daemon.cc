#include "impl/daemon.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>
#include <type_traits>
#include <unistd.h>

#include "impl/file_storage.h"
#include "impl/resp_commands.h"
#include "impl/resp_intake.h"
#include "impl/server_shell.h"

namespace mq::impl {

const char* fsync_mode_name(FsyncMode m) {
  switch (m) {
    case FsyncMode::kAlways: return "always";
    case FsyncMode::kBatch: return "batch";
    case FsyncMode::kNever: return "never";
  }
  return "?";
}

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

// One piece of disk work the shell asked for, done on the commit thread.
struct DiskJob {
  enum class Kind : uint8_t { kWrite, kCheckpoint, kStart, kRecover };
  Kind kind = Kind::kWrite;
  LogBatch batch;
  DurableImage image;
};

struct DiskDone {
  DiskJob::Kind kind = DiskJob::Kind::kWrite;
  Status status;
  std::optional<Recovery> recovery;
};

// The commit thread: the only user of the storage and the Wal once the daemon runs.
class CommitThread {
 public:
  CommitThread(Storage& storage, const BrokerConfig& config, WalOptions options, std::optional<Wal> wal)
      : storage_(storage), config_(config), options_(options), wal_(std::move(wal)) {}
  ~CommitThread() { stop(); }

  void start(std::function<void(DiskDone)> done) {
    done_ = std::move(done);
    thread_ = std::thread([this] { loop(); });
  }
  void submit(DiskJob job) {
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.push_back(std::move(job));
    cv_.notify_one();
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lk(mu_);
    // Bounded: it ends once stopped; each round does one job or waits.
    for (;;) {
      cv_.wait(lk, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      DiskJob job = std::move(jobs_.front());
      jobs_.pop_front();
      lk.unlock();
      DiskDone d = perform(job);
      done_(std::move(d));
      lk.lock();
    }
  }

  DiskDone perform(DiskJob& job) {
    DiskDone d{job.kind, Status(), std::nullopt};
    switch (job.kind) {
      case DiskJob::Kind::kWrite:
        MQ_CHECK(wal_);
        d.status = wal_->write(std::move(job.batch));
        break;
      case DiskJob::Kind::kCheckpoint:
        MQ_CHECK(wal_);
        d.status = wal_->checkpoint(job.image);
        break;
      case DiskJob::Kind::kStart: {
        auto wal = Wal::start(storage_, options_, job.image);
        d.status = wal.status();
        if (wal.ok()) wal_.emplace(std::move(wal).value());
        break;
      }
      case DiskJob::Kind::kRecover: {
        wal_.reset();
        auto r = Wal::recover(storage_, config_, options_);
        d.status = r.status();
        if (r.ok()) d.recovery = std::move(r).value();
        break;
      }
    }
    return d;
  }

  Storage& storage_;
  const BrokerConfig& config_;
  WalOptions options_;
  std::optional<Wal> wal_;
  std::function<void(DiskDone)> done_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<DiskJob> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

constexpr size_t kReadChunk = 8192;

struct Conn {
  Conn(ConnId i, tcp::socket s, const RespCommands& commands, RespLimits limits)
      : id(i), socket(std::move(s)), intake(commands, i, limits) {}
  ConnId id;
  tcp::socket socket;
  RespIntake intake;  // its done(): QUIT or a protocol error, answer what was taken and close
  std::array<char, kReadChunk> in{};
  std::string out;      // answers not yet handed to the socket
  std::string sending;  // answers being written
  size_t outstanding = 0;  // requests given to the shell, not yet answered
  bool reading = false, writing = false, closed = false;
  std::optional<Clock::time_point> partial_since;
};

struct TimerEntry {
  TimeNs at_ns = 0;
  uint64_t seq = 0;
  TimerId id;
  bool operator>(const TimerEntry& o) const { return std::tie(at_ns, seq) > std::tie(o.at_ns, o.seq); }
};

}  // namespace

struct Daemon::Impl {
  DaemonOptions options;
  RespCommands commands;
  std::unique_ptr<Storage> storage;
  std::optional<ServerShell> shell;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer timer{io}, sweep_timer{io}, retry_timer{io}, shutdown_timer{io}, accept_timer{io};
  std::optional<asio::signal_set> signals;
  std::unique_ptr<CommitThread> commit;
  std::map<ConnId, std::shared_ptr<Conn>> conns;
  ConnId next_conn = 1;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
  uint64_t timer_seq = 0;
  std::optional<TimeNs> armed_at;
  Clock::time_point start = Clock::now();
  TimeNs base_ns = 0;
  TimeNs last_ns = 0;
  bool disk_busy = false;
  bool stopping = false;
  Clock::time_point shutdown_deadline;
  std::atomic<uint16_t> port{0};
  uint64_t shell_generation = 0;  // bumped when a recovery replaces the shell
  std::vector<std::shared_ptr<Conn>> dirty;  // answers appended, to write after the drain
  uint64_t connections_total = 0, refused_clients = 0, protocol_errors = 0;

  explicit Impl(DaemonOptions o) : options(std::move(o)), commands(options.config) {}

  void say(const std::string& line) const {
    if (options.log) return options.log(line);
    std::fprintf(stderr, "mqd: %s\n", line.c_str());
  }

  TimeNs now() {
    const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
    last_ns = std::max(last_ns, base_ns + static_cast<TimeNs>(elapsed));
    return last_ns;
  }

  ShellOptions shell_options() const {
    ShellOptions o;
    o.config = options.config;
    o.defer_commit = true;
    o.record_every_command = false;  // mqd records no history
    if (options.fsync == FsyncMode::kBatch) {
      o.commit_delay_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options.batch_delay).count();
    }
    return o;
  }

  // ---- the shell's actions ----

  // Carries out the shell's actions; answers are written once per round, each
  // connection's together (one write for a pipelined batch).
  void drain() {
    std::vector<Action> batch;
    // Bounded: each round carries out what the shell asked since the last (a write
    // that closes a connection may ask for more).
    for (size_t round = 0; shell && (shell->has_actions() || !dirty.empty()); ++round) {
      MQ_CHECK(round < (size_t{1} << 32));
      batch.clear();
      shell->take_actions(batch);
      for (Action& a : batch) perform(a);
      std::vector<std::shared_ptr<Conn>> written;
      written.swap(dirty);
      for (auto& c : written) flush(c);
    }
  }

  void perform(Action& a) {
    std::visit(
        [&](auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, act::Reply>) {
            answer(x);
          } else if constexpr (std::is_same_v<T, act::WriteLog>) {
            submit(DiskJob{DiskJob::Kind::kWrite, std::move(x.batch), {}});
          } else if constexpr (std::is_same_v<T, act::WriteCheckpoint>) {
            submit(DiskJob{DiskJob::Kind::kCheckpoint, {}, std::move(x.image)});
          } else if constexpr (std::is_same_v<T, act::StartLog>) {
            submit(DiskJob{DiskJob::Kind::kStart, {}, std::move(x.image)});
          } else if constexpr (std::is_same_v<T, act::SetTimer>) {
            timers.push(TimerEntry{x.at_ns, ++timer_seq, x.id});
            arm_timer();
          } else if constexpr (std::is_same_v<T, act::Committed>) {
            // mqd records no history.
          } else if constexpr (std::is_same_v<T, act::Noted>) {
            // The daemon writes no notes.
          } else if constexpr (std::is_same_v<T, act::CommitSoon>) {
            // After the handlers already queued (the requests that arrived with this
            // one): one sync for all of them.
            asio::post(io, [this, generation = shell_generation] {
              if (!shell || generation != shell_generation) return;
              shell->commit_now(now());
              drain();
            });
          } else {
            static_assert(std::is_same_v<T, act::Fail>);
            failed(x.why);
          }
        },
        a);
  }

  void submit(DiskJob job) {
    MQ_CHECK_MSG(!disk_busy, "the shell keeps one disk job in flight");
    disk_busy = true;
    commit->submit(std::move(job));
  }

  void answer(act::Reply& r) {
    auto it = conns.find(r.to);
    if (it == conns.end()) return;  // closed meanwhile
    const std::shared_ptr<Conn> c = it->second;  // flush() may close it
    MQ_CHECK(c->outstanding > 0);
    --c->outstanding;
    if (auto* info = std::get_if<resp::Info>(&r.response)) info->text = server_info() + info->text;
    if (c->out.empty()) dirty.push_back(c);
    commands.encode(r.response, c->out);
  }

  std::string server_info() {
    std::string s = "# Server\r\nmqd_version:" + options.version + "\r\nprocess_id:" + std::to_string(::getpid()) +
                    "\r\ntcp_port:" + std::to_string(port.load()) + "\r\nfsync:" + fsync_mode_name(options.fsync) +
                    "\r\nuptime_ns:" + std::to_string(now() - base_ns) +
                    "\r\nconnected_clients:" + std::to_string(conns.size()) +
                    "\r\ntotal_connections:" + std::to_string(connections_total) +
                    "\r\nrefused_clients:" + std::to_string(refused_clients) +
                    "\r\nprotocol_errors:" + std::to_string(protocol_errors) + "\r\n# Broker\r\n";
    return s;
  }

  // ---- disk completions (posted from the commit thread) ----

  void disk_done(DiskDone d) {
    disk_busy = false;
    switch (d.kind) {
      case DiskJob::Kind::kWrite:
      case DiskJob::Kind::kCheckpoint: shell->synced(now(), d.status); break;
      case DiskJob::Kind::kStart:
        shell->log_started(now(), d.status);
        if (shell->up()) {
          say("restarted from the log");
        } else {
          say("cannot start a new log generation: " + d.status.to_string() + "; retrying");
          schedule_retry();
        }
        break;
      case DiskJob::Kind::kRecover: recovered(std::move(d)); break;
    }
    drain();
    resume_all();
  }

  // ---- disk failure and recovery ----

  void failed(const Status& why) {
    say("a write failed, stopping: " + why.to_string() +
        " (connections closed; their unconfirmed requests have unknown outcomes)");
    std::vector<std::shared_ptr<Conn>> all;
    for (auto& [id, c] : conns) all.push_back(c);
    for (auto& c : all) close(c);
    schedule_retry();
  }

  void schedule_retry() {
    if (stopping) return;
    retry_timer.expires_after(options.retry_interval);
    retry_timer.async_wait([this](error_code ec) {
      if (ec || stopping || disk_busy || !shell || shell->up()) return;
      submit(DiskJob{DiskJob::Kind::kRecover, {}, {}});
    });
  }

  void recovered(DiskDone d) {
    if (!d.status.ok()) {
      say("recovery failed: " + d.status.to_string() + "; retrying");
      return schedule_retry();
    }
    Effects effects;
    auto fresh = ServerShell::recovered(shell_options(), d.recovery->image.time_ns, d.recovery->image, effects);
    if (!fresh.ok()) {
      say("the recovered log does not fit the config: " + fresh.status().to_string());
      return schedule_retry();
    }
    base_ns = std::max(base_ns, d.recovery->image.time_ns);
    shell.emplace(std::move(fresh).value());
    ++shell_generation;
    timers = {};  // the old shell's
    armed_at.reset();
    shell->start(now());
  }

  // ---- timers ----

  void arm_timer() {
    if (timers.empty()) return;
    const TimeNs at = timers.top().at_ns;
    if (armed_at && *armed_at <= at) return;
    armed_at = at;
    timer.expires_at(start + std::chrono::nanoseconds(std::max<TimeNs>(at - base_ns, 0)));
    timer.async_wait([this](error_code ec) {
      if (ec) return;  // re-armed earlier, or shutting down
      armed_at.reset();
      fire_timers();
    });
  }

  void fire_timers() {
    const TimeNs t = now();
    // Bounded by the heap: each round pops one entry.
    while (!timers.empty() && timers.top().at_ns <= t) {
      const TimerId id = timers.top().id;
      timers.pop();
      if (shell) shell->timer(t, id);
    }
    drain();
    resume_all();
    arm_timer();
  }

  // ---- connections ----

  void accept() {
    if (stopping) return;
    acceptor.async_accept([this](error_code ec, tcp::socket s) {
      if (stopping) return;
      if (ec) {
        if (ec == asio::error::no_descriptors) {
          say("out of file descriptors; accepting again in 100 ms");
          accept_timer.expires_after(std::chrono::milliseconds(100));
          accept_timer.async_wait([this](error_code e) {
            if (!e) accept();
          });
          return;
        }
        return accept();
      }
      if (conns.size() >= options.max_clients) {
        refuse(std::move(s));
        return accept();
      }
      error_code ignored;
      s.set_option(tcp::no_delay(true), ignored);
      auto c = std::make_shared<Conn>(next_conn++, std::move(s), commands, options.limits);
      ++connections_total;
      conns[c->id] = c;
      read(c);
      accept();
    });
  }

  void refuse(tcp::socket s) {
    ++refused_clients;
    auto sock = std::make_shared<tcp::socket>(std::move(s));
    static const std::string kMsg = [] {
      std::string out;
      resp_error(out, protocol::error_text(protocol::ErrorWord::kErr, "max number of clients reached"));
      return out;
    }();
    asio::async_write(*sock, asio::buffer(kMsg), [sock](error_code, size_t) {
      error_code ignored;
      sock->close(ignored);
    });
  }

  bool can_take(const Conn& c) const {
    return !c.closed && !c.intake.done() && !stopping && c.outstanding < options.max_pipeline &&
           c.out.size() + c.sending.size() < options.max_output_bytes;
  }

  void read(const std::shared_ptr<Conn>& c) {
    if (c->reading || !can_take(*c)) return;
    c->reading = true;
    c->socket.async_read_some(asio::buffer(c->in), [this, c](error_code ec, size_t n) {
      c->reading = false;
      if (c->closed || stopping) return;
      if (ec) {
        close(c);
        drain();
        return;
      }
      c->intake.feed(std::string_view(c->in.data(), n));
      take_requests(c);
      drain();
      read(c);
    });
  }

  // Complete requests go to the shell while the connection is within its bounds.
  void take_requests(const std::shared_ptr<Conn>& c) {
    // Bounded: each round takes one complete request out of the reader's buffer.
    while (can_take(*c)) {
      std::optional<Request> r = c->intake.next();
      if (!r) break;
      if (c->intake.protocol_error()) ++protocol_errors;
      to_shell(c, std::move(*r));
    }
    if (!c->intake.partial()) {
      c->partial_since.reset();
    } else if (!c->partial_since) {
      c->partial_since = Clock::now();
    }
  }

  void to_shell(const std::shared_ptr<Conn>& c, Request r) {
    ++c->outstanding;
    shell->request(now(), c->id, std::move(r));
  }

  void flush(const std::shared_ptr<Conn>& c) {
    if (c->closed) return;
    if (!c->writing && !c->out.empty()) {
      c->writing = true;
      c->sending.swap(c->out);
      asio::async_write(c->socket, asio::buffer(c->sending), [this, c](error_code ec, size_t) {
        c->writing = false;
        c->sending.clear();
        if (c->closed) return;
        if (ec) {
          close(c);
          drain();
          return;
        }
        flush(c);
        resume(c);
        drain();
      });
      return;
    }
    if (!c->writing && c->out.empty() && c->intake.done() && c->outstanding == 0) close(c);
  }

  // A connection that was held back may go on: requests already buffered first.
  void resume(const std::shared_ptr<Conn>& c) {
    if (!can_take(*c)) return;
    take_requests(c);
    read(c);
  }

  void resume_all() {
    std::vector<std::shared_ptr<Conn>> all;
    for (auto& [id, c] : conns) {
      if (!c->reading && can_take(*c)) all.push_back(c);
    }
    for (auto& c : all) resume(c);
    if (!all.empty()) drain();
  }

  void close(const std::shared_ptr<Conn>& c) {
    if (c->closed) return;
    c->closed = true;
    error_code ignored;
    c->socket.close(ignored);
    conns.erase(c->id);
    if (shell) shell->closed(now(), c->id);
  }

  // Connections left with half a request for too long are closed.
  void sweep() {
    sweep_timer.expires_after(std::chrono::milliseconds(250));
    sweep_timer.async_wait([this](error_code ec) {
      if (ec || stopping) return;
      const auto limit = Clock::now() - options.partial_request_timeout;
      std::vector<std::shared_ptr<Conn>> stale;
      for (auto& [id, c] : conns) {
        if (c->partial_since && *c->partial_since < limit && c->intake.partial()) stale.push_back(c);
      }
      for (auto& c : stale) {
        c->partial_since.reset();
        // Answered in order with what came before, then the connection closes.
        ++protocol_errors;
        to_shell(c, c->intake.abandon("request incomplete for " +
                                      std::to_string(options.partial_request_timeout.count()) + " ms"));
      }
      drain();
      sweep();
    });
  }

  // ---- shutdown ----

  void begin_shutdown() {
    if (stopping) return;
    stopping = true;
    say("shutting down: syncing what was added and answering what was asked");
    error_code ignored;
    acceptor.close(ignored);
    if (signals) signals->cancel(ignored);
    sweep_timer.cancel();
    retry_timer.cancel();
    accept_timer.cancel();
    shutdown_deadline = Clock::now() + options.shutdown_timeout;
    poll_shutdown();
  }

  void poll_shutdown() {
    bool quiet = !disk_busy && (!shell || !shell->up() || shell->settled());
    for (auto& [id, c] : conns) quiet = quiet && c->out.empty() && !c->writing;
    if (quiet || Clock::now() >= shutdown_deadline) {
      if (!quiet) say("shutdown timeout: closing with work left");
      std::vector<std::shared_ptr<Conn>> all;
      for (auto& [id, c] : conns) all.push_back(c);
      for (auto& c : all) close(c);
      timer.cancel();
      io.stop();
      return;
    }
    shutdown_timer.expires_after(std::chrono::milliseconds(5));
    shutdown_timer.async_wait([this](error_code ec) {
      if (!ec) poll_shutdown();
    });
  }
};

// ---- Daemon ----

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Daemon::~Daemon() {
  if (!impl_) return;
  impl_->io.stop();
  impl_->commit.reset();
}

Result<std::unique_ptr<Daemon>> Daemon::open(DaemonOptions options) {
  MQ_RETURN_IF_ERROR(options.config.validate());
  if (options.data_dir.empty()) return invalid_argument("mqd needs a data directory");
  auto impl = std::make_unique<Impl>(std::move(options));
  Impl& d = *impl;
  auto files = FileStorage::open(d.options.data_dir);
  if (!files.ok()) return files.status();
  d.storage = std::move(files).value();
  // fsync never: records are appended without a sync; checkpoints are still synced,
  // so that a power loss leaves a log recovery can read (impl/wal.h).
  if (d.options.fsync == FsyncMode::kNever) d.options.wal.sync_appends = false;
  auto recovery = Wal::recover(*d.storage, d.options.config, d.options.wal);
  if (!recovery.ok()) return recovery.status();
  Effects effects;
  auto shell = ServerShell::recovered(d.shell_options(), recovery->image.time_ns, recovery->image, effects);
  if (!shell.ok()) {
    return Status(shell.status().code(), "the log in " + d.options.data_dir +
                                             " does not fit the configuration: " + shell.status().message());
  }
  d.base_ns = recovery->image.time_ns;
  d.start = Clock::now();
  d.shell.emplace(std::move(shell).value());
  uint64_t held = 0;
  for (const QueueImage& q : recovery->image.queues) held += q.size();
  // The first generation is written here, before anything is served.
  d.shell->start(d.now());
  std::vector<Action> actions;
  d.shell->take_actions(actions);
  MQ_CHECK(actions.size() == 1 && std::holds_alternative<act::StartLog>(actions[0]));
  auto wal = Wal::start(*d.storage, d.options.wal, std::get<act::StartLog>(actions[0]).image);
  if (!wal.ok()) return wal.status();
  d.shell->log_started(d.now(), Status());
  d.commit = std::make_unique<CommitThread>(*d.storage, d.options.config, d.options.wal, std::move(wal).value());
  error_code ec;
  const auto address = asio::ip::make_address(d.options.host, ec);
  if (ec) return invalid_argument("mqd: bad listen address '" + d.options.host + "': " + ec.message());
  const tcp::endpoint endpoint(address, d.options.port);
  d.acceptor.open(endpoint.protocol(), ec);
  if (!ec) d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) d.acceptor.bind(endpoint, ec);
  if (!ec) d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return io_error("mqd: cannot listen on " + d.options.host + ":" + std::to_string(d.options.port) + ": " +
                    ec.message());
  }
  d.port = d.acceptor.local_endpoint().port();
  d.say("recovered " + std::to_string(held) + " messages from " + d.options.data_dir + " (" +
        std::to_string(recovery->records) + " log records" +
        (recovery->torn_tail ? ", torn tail at " + recovery->torn_tail->to_string() : std::string()) +
        "); fsync " + fsync_mode_name(d.options.fsync) + "; listening on " + d.options.host + ":" +
        std::to_string(d.port.load()));
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

void Daemon::run() {
  Impl& d = *impl_;
  d.commit->start([&d](DiskDone done) {
    asio::post(d.io, [&d, done = std::move(done)]() mutable { d.disk_done(std::move(done)); });
  });
  if (d.options.handle_signals) {
    d.signals.emplace(d.io, SIGTERM, SIGINT);
    d.signals->async_wait([&d](error_code ec, int) {
      if (!ec) d.begin_shutdown();
    });
  }
  d.drain();
  d.accept();
  d.sweep();
  d.io.run();
  d.commit->stop();
}

void Daemon::stop() {
  asio::post(impl_->io, [d = impl_.get()] { d->begin_shutdown(); });
}

uint16_t Daemon::port() const { return impl_->port.load(); }

}  // namespace mq::impl
