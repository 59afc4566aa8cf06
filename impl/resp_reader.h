#pragma once
// RespReader: client requests off a byte stream in RESP (the Redis protocol), parsed
// by hiredis's reader (redisReader) with bounds of our own, so that a hostile client
// cannot make the server hold more than it allows:
//  - a request is an array of at most max_args bulk strings (hiredis's depth limit
//    bounds nesting; anything but an array of strings is a protocol error);
//  - the bytes held for one incomplete request never exceed max_request_bytes
//    (hiredis 0.14 has no bulk length limit of its own: a declared 1 GB bulk is
//    refused once that many bytes are buffered, not allocated up front).
// Inline commands (plain text lines) are not RESP arrays and are refused.
//
// After a protocol error the reader is spent: the connection answers the error and
// closes.
//
// Thread-safety: none; one per connection.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

struct redisReader;

namespace mq::impl {

struct RespLimits {
  size_t max_request_bytes = size_t{64} << 20;
  size_t max_args = 256;
};

class RespReader {
 public:
  explicit RespReader(RespLimits limits = {});
  ~RespReader();
  RespReader(const RespReader&) = delete;
  RespReader& operator=(const RespReader&) = delete;

  // Buffers bytes read off the connection.
  void feed(std::string_view bytes);
  // The next complete request (its arguments, the command name first), nullopt if
  // none is complete yet, or kInvalidArgument for a protocol error (the message is
  // fit to send back after "ERR Protocol error: ").
  Result<std::optional<std::vector<std::string>>> next();
  // Bytes fed and not yet consumed as complete requests.
  size_t buffered() const;

 private:
  Status fail(std::string why);

  RespLimits limits_;
  redisReader* reader_;
  bool failed_ = false;
  bool too_many_args_ = false;
  // What the array callback reads (hiredis's privdata). hiredis copies the reader's
  // privdata into each task when the task starts, and a task started in one next()
  // may finish in a later one, so this lives as long as the reader.
  std::pair<size_t, bool*> array_bound_{limits_.max_args, &too_many_args_};
};

}  // namespace mq::impl
