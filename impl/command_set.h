#pragma once
// CommandSet: mqd's commands as words (docs/protocol.md is the user's statement,
// impl/protocol.h the words themselves), both ways, side by side: the server reads a
// command's arguments as a Request (parse), and a client writes a Request as the
// arguments of its command (args_of; the client library's typed calls through
// send_args and the rest). Each is the other's inverse up to the consumer's session,
// which RESP takes from the connection (sim::RespRoute::same_meaning states what the
// two share, and tests/protocol_test.cc reads every kind of request back): a command's
// shape is stated in this one file, and a new kind of request fails to build here,
// in args_of, until it has its command, and that command is read in parse. Names
// (queues, topics, consumers, producers) are resolved against the broker's config.
//
// Every command becomes exactly one Request, so a connection's answers stay in its
// order: a command the shell need not see (PING, a syntax error, an unknown name) is
// a req::Inline carrying its finished RESP answer. A consumer's commands speak for
// the connection's own session (session = connection id, pull mode): the newest
// connection that names a consumer holds it.
//
// Thread-safety: const after construction; the free functions are pure.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "impl/broker_config.h"
#include "impl/protocol.h"
#include "impl/request.h"

namespace mq::impl {

struct ParsedRequest {
  Request request;
  bool close_after = false;  // QUIT: answer, then close the connection
};

// SEND's and PUBLISH's options as a client gives them.
struct SendOptions {
  uint32_t priority = 0;
  int64_t ttl_ms = 0;    // 0: never expires
  int64_t delay_ms = 0;  // 0: deliverable at once
  std::optional<uint32_t> retries;
  std::string producer;  // empty: the broker's first producer
};

// The arguments of each command, the command's name first, by name rather than by id
// (a client need not hold the broker's config).
std::vector<std::string> send_args(const std::string& queue, uint64_t id, const std::string& payload,
                                   const SendOptions& o);
std::vector<std::string> publish_args(const std::string& topic, uint64_t id, const std::string& payload,
                                      const SendOptions& o);
// block_ms 0: answered at once.
std::vector<std::string> fetch_args(const std::string& consumer, uint32_t count, int64_t block_ms);
std::vector<std::string> ack_args(const std::string& consumer, uint64_t id);
std::vector<std::string> nack_args(const std::string& consumer, uint64_t id, bool requeue);

class CommandSet {
 public:
  explicit CommandSet(const BrokerConfig& config);

  // REQUIRES: !args.empty() (RespReader gives no empty command).
  ParsedRequest parse(const std::vector<std::string>& args, ConnId conn) const;
  // The command parse reads as `r`. REQUIRES: r is not an Inline (the protocol
  // layer's own answer, which no command reads as), its ids name entries of the
  // config, and its times are whole milliseconds (RESP's unit).
  std::vector<std::string> args_of(const Request& r) const;

  const BrokerConfig& config() const { return config_; }

 private:
  ParsedRequest send(const std::vector<std::string>& args, bool topic) const;
  ParsedRequest fetch(const std::vector<std::string>& args, ConnId conn) const;
  ParsedRequest settle(const std::vector<std::string>& args, ConnId conn, bool nack) const;

  BrokerConfig config_;
  std::map<std::string, QueueId, std::less<>> queues_;
  std::map<std::string, TopicId, std::less<>> topics_;
  std::map<std::string, ConsumerId, std::less<>> consumers_;
  std::map<std::string, ProducerId, std::less<>> producers_;
};

}  // namespace mq::impl
