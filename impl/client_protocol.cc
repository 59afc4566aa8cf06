#include "impl/client_protocol.h"

#include <hiredis/hiredis.h>

#include <limits>
#include <optional>
#include <string>

#include "base/check.h"
#include "impl/protocol.h"

namespace mq::impl {

using protocol::DeliveryField;
using protocol::ErrorWord;

const char* send_outcome_name(SendOutcome o) {
  switch (o) {
    case SendOutcome::kStored: return "stored";
    case SendOutcome::kDuplicate: return "duplicate";
    case SendOutcome::kFull: return "full";
    case SendOutcome::kNoSpace: return "no-space";
  }
  return "?";
}

namespace {

std::string text_of(const redisReply* r) { return std::string(r->str, r->len); }

bool is_error(const redisReply* r, ErrorWord w) {
  return r->type == REDIS_REPLY_ERROR && protocol::error_word_of(text_of(r)) == w;
}

// An error answer as a Status (see the header): its first word decides the code; a
// word that is not mqd's is a wrong answer.
Status error_status(const redisReply* r) {
  const std::string e = text_of(r);
  const auto w = protocol::error_word_of(e);
  return Status(w ? protocol::error_word_code(*w) : Code::kInvalidArgument, e);
}

// A number of a delivery as mqd writes it: a non-negative integer, or a bulk string of
// plain decimal digits (no sign, space or leading zero) within `max`. Anything else is
// a malformed answer, not a number read some other way.
Result<uint64_t> parse_u64(const redisReply* r, const char* what, uint64_t max) {
  const auto bad = [&] { return invalid_argument(std::string("bad ") + what + " in a delivery"); };
  uint64_t v = 0;
  if (r->type == REDIS_REPLY_INTEGER) {
    if (r->integer < 0) return bad();
    v = static_cast<uint64_t>(r->integer);
  } else {
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || (r->len > 1 && r->str[0] == '0')) return bad();
    for (size_t k = 0; k < r->len; ++k) {
      const char c = r->str[k];
      if (c < '0' || c > '9') return bad();
      const auto digit = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - digit) / 10) return bad();
      v = v * 10 + digit;
    }
  }
  if (v > max) return bad();
  return v;
}

// Reads field f of a delivery from `r` into `d`.
Status read_field(const redisReply* r, DeliveryField f, ClientDelivery& d) {
  const auto max = protocol::delivery_field_max(f);  // none: a string
  uint64_t v = 0;
  if (!max) {
    if (r->type != REDIS_REPLY_STRING) return invalid_argument("a delivery's queue and payload are strings");
  } else {
    auto x = parse_u64(r, protocol::delivery_field_name(f), *max);
    if (!x.ok()) return x.status();
    v = *x;
  }
  // Each number fits its field: delivery_field_max bounds it.
  switch (f) {
    case DeliveryField::kQueue: d.queue = text_of(r); break;
    case DeliveryField::kId: d.id = v; break;
    case DeliveryField::kPayload: d.payload = text_of(r); break;
    case DeliveryField::kAttempts: d.attempts = static_cast<uint32_t>(v); break;
    case DeliveryField::kPriority: d.priority = static_cast<uint32_t>(v); break;
    case DeliveryField::kTimestampNs: d.timestamp_ns = static_cast<int64_t>(v); break;
    case DeliveryField::kTtlNs: d.ttl_ns = static_cast<int64_t>(v); break;
    case DeliveryField::kNotBeforeNs: d.not_before_ns = static_cast<int64_t>(v); break;
    case DeliveryField::kMaxRetries: d.max_retries = static_cast<uint32_t>(v); break;
  }
  return Status();
}

Result<ClientDelivery> parse_delivery(const redisReply* r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != protocol::kDeliveryFields) {
    return invalid_argument("a delivery is an array of " + std::to_string(protocol::kDeliveryFields));
  }
  ClientDelivery d;
  for (int f = 0; f < protocol::kDeliveryFields; ++f) {
    MQ_RETURN_IF_ERROR(read_field(r->element[f], static_cast<DeliveryField>(f), d));
  }
  return d;
}

// A name or value of a pair: a string (bulk or status); a value may be an integer.
std::optional<std::string> pair_text(const redisReply* r, bool value) {
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) return text_of(r);
  if (value && r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  return std::nullopt;
}

Result<NamedValues> pairs_of(const redisReply* r) {
  NamedValues out;
  if (r->type != REDIS_REPLY_ARRAY) return invalid_argument("expected an array");
  // Bounded: each round reads one pair, nested ([name, value]) or flat (name, value).
  for (size_t k = 0; k < r->elements; ++k) {
    const redisReply* e = r->element[k];
    std::optional<std::string> name, value;
    if (e->type == REDIS_REPLY_ARRAY && e->elements == 2) {
      name = pair_text(e->element[0], false);
      value = pair_text(e->element[1], true);
    } else if (k + 1 < r->elements && e->type == REDIS_REPLY_STRING) {
      name = text_of(e);
      value = pair_text(r->element[++k], true);
    }
    if (!name || !value) return invalid_argument("expected pairs of strings");
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

void flatten_into(const redisReply* r, std::string& out, int depth) {
  const std::string pad(static_cast<size_t>(depth) * 2, ' ');
  switch (r->type) {
    case REDIS_REPLY_STATUS: out += pad + "+" + text_of(r) + "\n"; break;
    case REDIS_REPLY_ERROR: out += pad + "-" + text_of(r) + "\n"; break;
    case REDIS_REPLY_STRING: out += pad + text_of(r) + "\n"; break;
    case REDIS_REPLY_INTEGER: out += pad + "(integer) " + std::to_string(r->integer) + "\n"; break;
    case REDIS_REPLY_NIL: out += pad + "(nil)\n"; break;
    case REDIS_REPLY_ARRAY:
      out += pad + "(array of " + std::to_string(r->elements) + ")\n";
      for (size_t k = 0; k < r->elements; ++k) flatten_into(r->element[k], out, depth + 1);
      break;
    default: out += pad + "(?)\n"; break;
  }
}

// hiredis's own reply object functions, as every reader it creates gets them.
const redisReplyObjectFunctions& hiredis_functions() {
  static const redisReplyObjectFunctions kDefaults = [] {
    redisReader* r = redisReaderCreate();
    MQ_CHECK_MSG(r != nullptr && r->fn != nullptr, "hiredis makes a reader");
    const redisReplyObjectFunctions f = *r->fn;
    redisReaderFree(r);
    return f;
  }();
  return kDefaults;
}

// A null object makes hiredis stop with an error ("Out of memory"): nothing is
// allocated for the refused size.
void* create_bounded_array(const redisReadTask* task, int elements) {
  const size_t bound = task->parent == nullptr ? client_protocol::kMaxAnswerArray : client_protocol::kMaxNestedArray;
  if (elements < 0 || static_cast<size_t>(elements) > bound) return nullptr;
  return hiredis_functions().createArray(task, elements);
}

redisReplyObjectFunctions bounded_functions() {
  redisReplyObjectFunctions f = hiredis_functions();
  f.createArray = create_bounded_array;
  return f;
}

}  // namespace

namespace client_protocol {

void bound_answers(redisReader* reader) {
  static redisReplyObjectFunctions kBounded = bounded_functions();
  MQ_CHECK(reader != nullptr);
  reader->fn = &kBounded;
}

Result<SendOutcome> read_send(const redisReply* r) {
  if (r->type == REDIS_REPLY_STATUS) {
    const std::string s = text_of(r);
    if (s == protocol::kStored) return SendOutcome::kStored;
    if (s == protocol::kDuplicate) return SendOutcome::kDuplicate;
    return invalid_argument("unexpected answer to SEND: " + s);
  }
  if (is_error(r, ErrorWord::kFull)) return SendOutcome::kFull;
  if (is_error(r, ErrorWord::kNoSpace)) return SendOutcome::kNoSpace;
  if (r->type == REDIS_REPLY_ERROR) return error_status(r);
  return invalid_argument("unexpected answer to SEND");
}

Result<NamedValues> read_publish(const redisReply* r) {
  if (r->type == REDIS_REPLY_ERROR) return error_status(r);
  return pairs_of(r);
}

Result<std::vector<ClientDelivery>> read_fetch(const redisReply* r) {
  if (r->type == REDIS_REPLY_ERROR) return error_status(r);
  if (r->type != REDIS_REPLY_ARRAY) return invalid_argument("unexpected answer to FETCH");
  std::vector<ClientDelivery> out;
  for (size_t k = 0; k < r->elements; ++k) {
    auto d = parse_delivery(r->element[k]);
    if (!d.ok()) return d.status();
    out.push_back(std::move(d).value());
  }
  return out;
}

Status read_ok(const redisReply* r, const char* what) {
  if (r->type == REDIS_REPLY_STATUS) return Status();
  if (r->type == REDIS_REPLY_ERROR) return error_status(r);
  return invalid_argument(std::string("unexpected answer to ") + what);
}

Result<NamedValues> read_pairs(const redisReply* r) {
  if (r->type == REDIS_REPLY_ERROR) return error_status(r);
  return pairs_of(r);
}

Result<std::string> read_info(const redisReply* r) {
  if (r->type != REDIS_REPLY_STRING) return invalid_argument("unexpected answer to INFO");
  return text_of(r);
}

std::string flatten(const redisReply* r) {
  std::string out;
  flatten_into(r, out, 0);
  return out;
}

}  // namespace client_protocol
}  // namespace mq::impl
