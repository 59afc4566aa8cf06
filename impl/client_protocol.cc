#include "impl/client_protocol.h"

#include <hiredis/hiredis.h>

#include <stdexcept>

namespace mq::impl {

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

bool starts_with(const redisReply* r, std::string_view prefix) {
  return r->type == REDIS_REPLY_ERROR && text_of(r).rfind(prefix, 0) == 0;
}

// An error answer as a Status (see the header).
Status error_status(const redisReply* r) {
  const std::string e = text_of(r);
  if (e.rfind("NOTHELD", 0) == 0 || e.rfind("SESSION", 0) == 0 || e.rfind("FULL", 0) == 0) {
    return failed_precondition(e);
  }
  if (e.rfind("UNAVAILABLE", 0) == 0 || e.rfind("NOSPACE", 0) == 0) return unavailable(e);
  return invalid_argument(e);
}

void add_send_options(std::vector<std::string>& args, const SendOptions& o) {
  if (o.priority != 0) args.insert(args.end(), {"PRIORITY", std::to_string(o.priority)});
  if (o.ttl_ms != 0) args.insert(args.end(), {"TTL", std::to_string(o.ttl_ms)});
  if (o.delay_ms != 0) args.insert(args.end(), {"DELAY", std::to_string(o.delay_ms)});
  if (o.retries) args.insert(args.end(), {"RETRIES", std::to_string(*o.retries)});
  if (!o.producer.empty()) args.insert(args.end(), {"PRODUCER", o.producer});
}

Result<uint64_t> parse_u64(const redisReply* r, const char* what) {
  std::string s;
  if (r->type == REDIS_REPLY_INTEGER) {
    if (r->integer < 0) return invalid_argument(std::string("bad ") + what + " in a delivery");
    return static_cast<uint64_t>(r->integer);
  }
  if (r->type != REDIS_REPLY_STRING) return invalid_argument(std::string("bad ") + what + " in a delivery");
  s = text_of(r);
  try {
    size_t used = 0;
    const uint64_t v = std::stoull(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    return invalid_argument(std::string("bad ") + what + " in a delivery: '" + s + "'");
  }
}

Result<ClientDelivery> parse_delivery(const redisReply* r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 9) return invalid_argument("a delivery is an array of 9");
  ClientDelivery d;
  if (r->element[0]->type != REDIS_REPLY_STRING || r->element[2]->type != REDIS_REPLY_STRING) {
    return invalid_argument("a delivery's queue and payload are strings");
  }
  d.queue = text_of(r->element[0]);
  d.payload = text_of(r->element[2]);
  const char* names[] = {"", "id", "", "attempts", "priority", "timestamp", "ttl", "not_before", "max_retries"};
  uint64_t v[9] = {};
  for (size_t k : {1, 3, 4, 5, 6, 7, 8}) {
    auto x = parse_u64(r->element[k], names[k]);
    if (!x.ok()) return x.status();
    v[k] = *x;
  }
  d.id = v[1];
  d.attempts = static_cast<uint32_t>(v[3]);
  d.priority = static_cast<uint32_t>(v[4]);
  d.timestamp_ns = static_cast<int64_t>(v[5]);
  d.ttl_ns = static_cast<int64_t>(v[6]);
  d.not_before_ns = static_cast<int64_t>(v[7]);
  d.max_retries = static_cast<uint32_t>(v[8]);
  return d;
}

Result<NamedValues> pairs_of(const redisReply* r) {
  NamedValues out;
  if (r->type != REDIS_REPLY_ARRAY) return invalid_argument("expected an array");
  for (size_t k = 0; k < r->elements; ++k) {
    const redisReply* e = r->element[k];
    if (e->type == REDIS_REPLY_ARRAY && e->elements == 2) {
      out.emplace_back(text_of(e->element[0]), text_of(e->element[1]));
    } else if (k + 1 < r->elements && e->type == REDIS_REPLY_STRING) {
      const redisReply* v = r->element[++k];
      out.emplace_back(text_of(e), v->type == REDIS_REPLY_INTEGER ? std::to_string(v->integer) : text_of(v));
    } else {
      return invalid_argument("expected pairs");
    }
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

}  // namespace

namespace client_protocol {

std::vector<std::string> send_args(const std::string& queue, uint64_t id, const std::string& payload,
                                   const SendOptions& o) {
  std::vector<std::string> args{"SEND", queue, std::to_string(id), payload};
  add_send_options(args, o);
  return args;
}

std::vector<std::string> publish_args(const std::string& topic, uint64_t id, const std::string& payload,
                                      const SendOptions& o) {
  std::vector<std::string> args{"PUBLISH", topic, std::to_string(id), payload};
  add_send_options(args, o);
  return args;
}

std::vector<std::string> fetch_args(const std::string& consumer, uint32_t count, int64_t block_ms) {
  std::vector<std::string> args{"FETCH", consumer, "COUNT", std::to_string(count)};
  if (block_ms > 0) args.insert(args.end(), {"BLOCK", std::to_string(block_ms)});
  return args;
}

std::vector<std::string> ack_args(const std::string& consumer, uint64_t id) {
  return {"ACK", consumer, std::to_string(id)};
}

std::vector<std::string> nack_args(const std::string& consumer, uint64_t id, bool requeue) {
  return {"NACK", consumer, std::to_string(id), requeue ? "REQUEUE" : "DROP"};
}

Result<SendOutcome> read_send(const redisReply* r) {
  if (r->type == REDIS_REPLY_STATUS) {
    const std::string s = text_of(r);
    if (s == "STORED") return SendOutcome::kStored;
    if (s == "DUPLICATE") return SendOutcome::kDuplicate;
    return invalid_argument("unexpected answer to SEND: " + s);
  }
  if (starts_with(r, "FULL")) return SendOutcome::kFull;
  if (starts_with(r, "NOSPACE")) return SendOutcome::kNoSpace;
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
