#pragma once
// Client: a blocking client of mqd (docs/protocol.md) over hiredis, for the
// project's own tools (the live runner, the example program, the tests). One
// connection; every call sends one command and waits for its answer, up to the
// timeout given at connect.
//
// Outcomes are told apart as a history needs them:
//   ok                     the broker answered, and the answer is in the result
//   kFailedPrecondition    the broker answered "no" and nothing changed (FULL,
//                          NOTHELD, SESSION: see each call)
//   kInvalidArgument       the broker refused the command (ERR: syntax, names, ...)
//   kUnavailable           the broker is starting or stopped on a failed write
//   kIoError               no answer: the connection failed or timed out. The
//                          command may or may not have taken effect (Jepsen's
//                          `info`); the connection is unusable from then on.
//
// Thread-safety: none; one Client per thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

struct redisContext;
struct redisReply;

namespace mq::impl {

struct SendOptions {
  uint32_t priority = 0;
  int64_t ttl_ms = 0;    // 0: never expires
  int64_t delay_ms = 0;  // 0: deliverable at once
  std::optional<uint32_t> retries;
  std::string producer;  // empty: the broker's first producer
};

enum class SendOutcome : uint8_t { kStored, kDuplicate, kFull, kNoSpace };
const char* send_outcome_name(SendOutcome o);

struct ClientDelivery {
  std::string queue;
  uint64_t id = 0;
  std::string payload;
  uint32_t attempts = 0;  // >= 2: a redelivery
  uint32_t priority = 0;
  int64_t timestamp_ns = 0, ttl_ns = 0, not_before_ns = 0;
  uint32_t max_retries = 0;
};

class Client {
 public:
  static Result<Client> connect(const std::string& host, uint16_t port,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  // kStored/kDuplicate: confirmed (durable queues: synced). kFull/kNoSpace: not stored.
  Result<SendOutcome> send(const std::string& queue, uint64_t id, const std::string& payload,
                           const SendOptions& o = {});
  // Per bound queue: (queue, "stored" | "duplicate" | "full"); every one full: kFull.
  Result<std::vector<std::pair<std::string, std::string>>> publish(const std::string& topic, uint64_t id,
                                                                   const std::string& payload,
                                                                   const SendOptions& o = {});
  // Up to `count` deliveries; waits up to block_ms (0: answers at once) for one.
  Result<std::vector<ClientDelivery>> fetch(const std::string& consumer, uint32_t count = 1, int64_t block_ms = 0);
  // kFailedPrecondition (NOTHELD): not in flight at this consumer any more.
  Status ack(const std::string& consumer, uint64_t id);
  Status nack(const std::string& consumer, uint64_t id, bool requeue);
  Status attach(const std::string& consumer);
  Result<std::vector<std::pair<std::string, std::string>>> qstats(const std::string& queue);
  Result<std::string> info();
  Status ping();
  // Any command; the answer flattened to text ("+OK" style for status, the string
  // for bulk, "(nil)", "(integer) n", arrays as lines). For tools and tests.
  Result<std::string> raw(const std::vector<std::string>& args);

 private:
  explicit Client(redisContext* c);
  Result<redisReply*> command(const std::vector<std::string>& args);
  Status broken(const std::string& what);

  struct Deleter {
    void operator()(redisContext* c) const;
  };
  std::unique_ptr<redisContext, Deleter> ctx_;
  bool broken_ = false;
};

}  // namespace mq::impl
