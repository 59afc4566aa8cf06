#pragma once
// RespCommands: mqd's command set over RESP (docs/protocol.md is the user's
// statement, impl/protocol.h its words, shared with the client): a request's arguments (from RespReader) become a ServerShell Request,
// and a shell Response becomes RESP bytes. Names (queues, topics, consumers,
// producers) are resolved here, against the broker's config.
//
// Every request becomes exactly one Request, so a connection's answers stay in its
// order: a command the shell need not see (PING, a syntax error, an unknown name) is
// a req::Inline carrying its finished RESP answer. A consumer's commands speak for
// the connection's own session (session = connection id, pull mode): the newest
// connection that names a consumer holds it.
//
// Thread-safety: const after construction.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "impl/broker_config.h"
#include "impl/protocol.h"
#include "impl/request.h"

namespace mq::impl {

// RESP building blocks (appended to `out`).
void resp_simple(std::string& out, std::string_view s);  // "+s\r\n"; s must not hold CR or LF
void resp_error(std::string& out, std::string_view s);   // "-s\r\n"; CR/LF in s become spaces
void resp_integer(std::string& out, int64_t v);
void resp_bulk(std::string& out, std::string_view s);
void resp_array(std::string& out, size_t n);

struct ParsedRequest {
  Request request;
  bool close_after = false;  // QUIT: answer, then close the connection
};

class RespCommands {
 public:
  explicit RespCommands(const BrokerConfig& config);

  ParsedRequest parse(const std::vector<std::string>& args, ConnId conn) const;
  // Appends the RESP answer to `out`.
  void encode(const Response& r, std::string& out) const;

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
