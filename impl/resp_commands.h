#pragma once
// RespCommands: mqd's command set over RESP (docs/protocol.md is the user's
// statement, impl/protocol.h its words, shared with the client): a request's
// arguments (from RespReader) become a ServerShell Request (impl/command_set.h, where
// a command's words are read and written), and a shell Response becomes RESP bytes.
// Names in the answers (a delivery's queue) are the broker config's.
//
// Thread-safety: const after construction.

#include <string>
#include <vector>

#include "impl/broker_config.h"
#include "impl/command_set.h"
#include "impl/protocol.h"
#include "impl/request.h"
#include "impl/resp_write.h"

namespace mq::impl {

class RespCommands {
 public:
  explicit RespCommands(const BrokerConfig& config) : commands_(config) {}

  ParsedRequest parse(const std::vector<std::string>& args, ConnId conn) const { return commands_.parse(args, conn); }
  // Appends the RESP answer to `out`.
  void encode(const Response& r, std::string& out) const;

  const CommandSet& commands() const { return commands_; }
  const BrokerConfig& config() const { return commands_.config(); }

 private:
  CommandSet commands_;
};

}  // namespace mq::impl
