#pragma once
// RespIntake: one connection's requests, from the bytes read off it to the Requests
// the ServerShell takes, as mqd reads them (impl/daemon.cc) and as the simulator reads
// its hostile clients' bytes (sim/resp_route.h): RespReader frames the bytes within
// its bounds, RespCommands::parse resolves the names.
//
// A connection ends its reading in one of two ways, each with a last request:
//  - QUIT: its answer (+OK), then nothing more is read;
//  - a protocol error (bytes that are not RESP, a bound exceeded, or a request left
//    incomplete too long: abandon()): a req::Inline answering "-ERR Protocol error:
//    ...", then nothing more is read.
// The connection then answers what it took, in order, and closes.
//
// Flow control stays with the caller: next() hands over one request at a time, so a
// caller that holds a connection back (mqd: its pipeline and output bounds) simply
// stops calling it; the bytes wait in the reader's buffer.
//
// Thread-safety: none; one per connection. The RespCommands must outlive it.

#include <cstdint>
#include <optional>
#include <string_view>

#include "impl/request.h"
#include "impl/resp_commands.h"
#include "impl/resp_reader.h"

namespace mq::impl {

class RespIntake {
 public:
  RespIntake(const RespCommands& commands, ConnId conn, RespLimits limits);

  // Bytes read off the connection; ignored once done().
  void feed(std::string_view bytes);
  // The next request for the shell, or nullopt: no complete request is buffered, or
  // the connection is done().
  std::optional<Request> next();
  // A request left incomplete (partial()) for too long: its answer is a protocol
  // error naming `why`, and it is the connection's last. REQUIRES: !done().
  Request abandon(std::string_view why);

  // QUIT or a protocol error was handed over: nothing more is read.
  bool done() const { return done_; }
  // Part of a request is buffered and the connection still reads.
  bool partial() const { return !done_ && reader_.buffered() > 0; }
  // Whether the connection's reading ended on a protocol error.
  bool protocol_error() const { return protocol_error_; }

 private:
  Request refuse(std::string_view why);

  const RespCommands& commands_;
  ConnId conn_;
  RespReader reader_;
  bool done_ = false;
  bool protocol_error_ = false;
};

}  // namespace mq::impl
