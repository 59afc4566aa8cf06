#pragma once
// Client: a blocking client of mqd (docs/protocol.md) over hiredis, for the
// project's own tools (the live runner, the example program, the tests). One
// connection; every call sends one command and waits for its answer, up to the
// timeout given at connect.
//
// What it sends and how it reads each answer is impl/client_protocol.h, whose
// outcomes it returns, and one more:
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
#include "impl/client_protocol.h"

struct redisContext;
struct redisReply;

namespace mq::impl {

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
  // Per bound queue: (queue, "stored" | "duplicate" | "full"); every one full: an error
  // (kFailedPrecondition, FULL).
  Result<NamedValues> publish(const std::string& topic, uint64_t id, const std::string& payload,
                              const SendOptions& o = {});
  // Up to `count` deliveries; waits up to block_ms (0: answers at once) for one.
  Result<std::vector<ClientDelivery>> fetch(const std::string& consumer, uint32_t count = 1, int64_t block_ms = 0);
  // kFailedPrecondition (NOTHELD): not in flight at this consumer any more.
  Status ack(const std::string& consumer, uint64_t id);
  Status nack(const std::string& consumer, uint64_t id, bool requeue);
  Status attach(const std::string& consumer);
  Result<NamedValues> qstats(const std::string& queue);
  Result<std::string> info();
  Status ping();
  // Any command; the answer flattened to text ("+OK" style for status, the string
  // for bulk, "(nil)", "(integer) n", arrays as lines). For tools and tests.
  Result<std::string> raw(const std::vector<std::string>& args);

 private:
  explicit Client(redisContext* c);
  Result<redisReply*> command(const std::vector<std::string>& args);
  // Sends `args` and reads the answer with `read` (a client_protocol reader).
  template <typename Read>
  auto call(const std::vector<std::string>& args, Read&& read) -> decltype(read(nullptr));
  Status broken(const std::string& what);

  struct Deleter {
    void operator()(redisContext* c) const;
  };
  std::unique_ptr<redisContext, Deleter> ctx_;
  bool broken_ = false;
};

}  // namespace mq::impl
