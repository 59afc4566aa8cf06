#pragma once
// Daemon: the broker as a network server (the program mqd), a driver of the server
// shell (impl/server_shell.h) like the simulator's broker node: it moves bytes and
// time, and decides nothing the shell decides. Around the shell it has
//  - a Boost.Asio event loop on one thread: a TCP acceptor on 127.0.0.1 (or the
//    given address), connections speaking RESP (impl/resp_intake.h reads each
//    connection's requests, as the simulator reads its hostile clients' bytes;
//    impl/resp_commands.h maps them to the shell and back),
//    the shell's timers on the steady clock;
//  - a commit thread that carries out the shell's log writes on the write-ahead log
//    over real files (FileStorage: fdatasync; the data directory is locked), and
//    reports each back to the loop.
// Broker time continues from the recovered log's time on the steady clock (downtime
// does not count against TTLs, docs/durability.md).
//
// Durability modes: kAlways syncs every group commit; kBatch syncs too but starts a
// commit at most every batch_delay (fewer syncs, longer waits); kNever appends
// records without syncing, and confirms once the bytes are written (a process crash
// loses nothing, a power loss loses the records the page cache held; checkpoints are
// synced even then, so the log stays readable).
//
// Bad clients cannot hurt the others: a request over max_request_bytes or with more
// than max_args arguments, or malformed RESP, is answered with an error and its
// connection closed; a connection with max_pipeline requests unanswered, or
// max_output_bytes of answers unread, is not read until it catches up
// (back-pressure); a request left incomplete for partial_request_timeout closes its
// connection; beyond max_clients connections a new one is told so and closed.
//
// Shutdown (stop(), SIGTERM or SIGINT with handle_signals): stops accepting and
// reading, lets every record added be synced and every answer be released and
// written (bounded by shutdown_timeout), then closes. A SIGKILL at any moment loses
// nothing that was confirmed: the shell confirms only what is synced.
//
// A failed write (disk full, EIO) fails the shell stop (rule 5 of server_shell.h):
// every connection is closed (its clients learn nothing of what was not confirmed:
// an unknown outcome), and the daemon recovers from its log every retry_interval
// until a new log generation can be written; meanwhile new requests get errors
// ("NOSPACE" for publishes).
//
// Thread-safety: open() and the destructor from one thread; run() on one thread;
// stop() and port() from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "impl/broker_config.h"
#include "impl/resp_reader.h"
#include "impl/wal.h"

namespace mq::impl {

enum class FsyncMode : uint8_t { kAlways, kBatch, kNever };
const char* fsync_mode_name(FsyncMode m);

struct DaemonOptions {
  BrokerConfig config;
  std::string data_dir;
  std::string host = "127.0.0.1";
  uint16_t port = 6390;  // 0: any free port (port() says which)
  FsyncMode fsync = FsyncMode::kAlways;
  std::chrono::microseconds batch_delay{2000};
  WalOptions wal;
  RespLimits limits;
  size_t max_clients = 10000;
  size_t max_pipeline = 1024;
  size_t max_output_bytes = size_t{64} << 20;
  std::chrono::milliseconds partial_request_timeout{30000};
  std::chrono::milliseconds shutdown_timeout{10000};
  std::chrono::milliseconds retry_interval{1000};
  bool handle_signals = false;  // SIGTERM and SIGINT shut down cleanly
  std::string version = "dev";
  // Where the daemon says what it does (one line each); empty: stderr.
  std::function<void(const std::string&)> log;
};

class Daemon {
 public:
  // Locks the data directory, recovers the log, starts a new log generation and
  // binds the listening socket. Errors: kInvalidArgument (config), kFailedPrecondition
  // (directory locked), kCorruption (the log; with file and offset), kIoError (the
  // disk, or the address cannot be bound).
  static Result<std::unique_ptr<Daemon>> open(DaemonOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Serves until shut down; returns then.
  void run();
  // Asks for a clean shutdown; returns at once.
  void stop();
  uint16_t port() const;

  struct Impl;

 private:
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::impl
