#pragma once
// The client side of mqd's protocol (docs/protocol.md; impl/protocol.h holds the words
// it shares with the server), apart from any socket: how each answer (a hiredis
// reply) is read. The arguments each command sends are impl/command_set.h's, beside
// the server's reading of them. Client (impl/client.h) runs it over a connection; the
// simulator runs it over the RESP bytes it carries itself (sim/resp_route.h), so that
// every simulated RESP exchange reads its answer as the project's live tools do.
//
// Outcomes are told apart as a history needs them:
//   ok                     the broker answered, and the answer is in the result
//   kFailedPrecondition    the broker answered "no" and nothing changed (FULL,
//                          NOTHELD, SESSION: see each call)
//   kInvalidArgument       the broker refused the command (ERR: syntax, names, ...),
//                          or the answer is not one this command can get
//   kUnavailable           the broker is starting or stopped on a failed write
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "impl/command_set.h"
#include "impl/protocol.h"

struct redisReply;
struct redisReader;

namespace mq::impl {

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

using NamedValues = std::vector<std::pair<std::string, std::string>>;

namespace client_protocol {

// The answers. kStored/kDuplicate: confirmed (durable queues: synced); kFull/kNoSpace:
// not stored.
Result<SendOutcome> read_send(const redisReply* r);
// Per bound queue: (queue, "stored" | "duplicate" | "full"); every one full: an error.
Result<NamedValues> read_publish(const redisReply* r);
Result<std::vector<ClientDelivery>> read_fetch(const redisReply* r);
// A status answer ("+OK", "+PONG"); kFailedPrecondition (NOTHELD) for an ack or nack
// of a message not in flight at this consumer any more. `what` names the command.
Status read_ok(const redisReply* r, const char* what);
// QSTATS's answer: name/value pairs.
Result<NamedValues> read_pairs(const redisReply* r);
Result<std::string> read_info(const redisReply* r);
// Any answer flattened to text ("+OK" style for status, the string for bulk, "(nil)",
// "(integer) n", arrays as lines).
std::string flatten(const redisReply* r);

// The largest arrays mqd sends: a FETCH of the most deliveries it allows at the top,
// a delivery or a pair (2) inside.
inline constexpr size_t kMaxAnswerArray = protocol::kMaxFetchCount;
inline constexpr size_t kMaxNestedArray = 16;
static_assert(protocol::kDeliveryFields <= kMaxNestedArray);
// Makes `reader` (hiredis's, with its own reply objects, which freeReplyObject frees)
// refuse an array larger than those as a protocol error, before allocating for it: a
// broken or hostile server cannot make the client allocate for a size it only
// declares. hiredis 0.14 has no such bound of its own.
void bound_answers(redisReader* reader);

}  // namespace client_protocol
}  // namespace mq::impl
