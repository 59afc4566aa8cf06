// Fuzz target: the client library's reading of a server's answers
// (impl/client_protocol.h), as a broken or hostile server would send them. The bytes
// go through hiredis's reader with the library's array bounds (bound_answers), as
// impl::Client's connection reads them, and every reply (up to 64) through every
// read_* of the library and through flatten.
//
// Whatever the bytes: no crash; each read_* gives a value or one of the codes its
// header promises (kFailedPrecondition, kInvalidArgument, kUnavailable); and a value
// is only ever read from a reply of mqd's own form (docs/protocol.md), which the
// checks below state again on their own: a delivery is an array of 9 whose queue and
// payload are bulk strings and whose numbers are non-negative integers or bulk strings
// of plain decimal digits, each within its field's range; a pair is two strings (or a
// string and an integer). So a malformed answer is an error, never a value read wrong.
#include <hiredis/hiredis.h>

#include <limits>
#include <memory>
#include <string>

#include "impl/client_protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace mq;
using namespace mq::impl;
namespace cp = mq::impl::client_protocol;

void expect_promised(const Status& s, const std::string& what) {
  const Code c = s.code();
  FUZZ_EXPECT(c == Code::kFailedPrecondition || c == Code::kInvalidArgument || c == Code::kUnavailable,
              what + ": a code its header does not promise: " + s.to_string());
}

std::string text(const redisReply* r) { return std::string(r->str, r->len); }

// A number of a delivery as mqd writes it, or nothing.
std::optional<uint64_t> number(const redisReply* r) {
  if (r->type == REDIS_REPLY_INTEGER) {
    if (r->integer < 0) return std::nullopt;
    return static_cast<uint64_t>(r->integer);
  }
  if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20) return std::nullopt;
  const std::string s = text(r);
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

void check_delivery(const redisReply* r, const ClientDelivery& d) {
  FUZZ_EXPECT(r->type == REDIS_REPLY_ARRAY && r->elements == 9, "a delivery read from " + cp::flatten(r));
  FUZZ_EXPECT(r->element[0]->type == REDIS_REPLY_STRING && r->element[2]->type == REDIS_REPLY_STRING,
              "queue and payload read from " + cp::flatten(r));
  FUZZ_EXPECT(d.queue == text(r->element[0]) && d.payload == text(r->element[2]), "queue or payload altered");
  constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
  constexpr uint64_t kI64 = std::numeric_limits<int64_t>::max();
  const uint64_t bound[9] = {0, UINT64_MAX, 0, kU32, kU32, kI64, kI64, kI64, kU32};
  const uint64_t got[9] = {0,
                           d.id,
                           0,
                           d.attempts,
                           d.priority,
                           static_cast<uint64_t>(d.timestamp_ns),
                           static_cast<uint64_t>(d.ttl_ns),
                           static_cast<uint64_t>(d.not_before_ns),
                           d.max_retries};
  for (size_t k : {1, 3, 4, 5, 6, 7, 8}) {
    const auto n = number(r->element[k]);
    FUZZ_EXPECT(n.has_value() && *n <= bound[k], "field " + std::to_string(k) + " read from " + cp::flatten(r));
    FUZZ_EXPECT(*n == got[k], "field " + std::to_string(k) + " read as another value: " + cp::flatten(r));
  }
}

void check_pairs(const redisReply* r, const NamedValues& pairs) {
  FUZZ_EXPECT(r->type == REDIS_REPLY_ARRAY, "pairs read from " + cp::flatten(r));
  size_t at = 0;
  for (size_t k = 0; k < r->elements; ++k, ++at) {
    FUZZ_EXPECT(at < pairs.size(), "fewer pairs than the answer holds");
    const redisReply* e = r->element[k];
    const redisReply* key = e;
    const redisReply* value = nullptr;
    if (e->type == REDIS_REPLY_ARRAY) {
      FUZZ_EXPECT(e->elements == 2, "a pair read from " + cp::flatten(e));
      key = e->element[0];
      value = e->element[1];
    } else {
      FUZZ_EXPECT(k + 1 < r->elements, "half a pair read");
      value = r->element[++k];
    }
    const bool key_ok = key->type == REDIS_REPLY_STRING || key->type == REDIS_REPLY_STATUS;
    const bool value_ok = value->type == REDIS_REPLY_STRING || value->type == REDIS_REPLY_STATUS ||
                          value->type == REDIS_REPLY_INTEGER;
    FUZZ_EXPECT(key_ok && value_ok, "a pair read from " + cp::flatten(r));
    const std::string v = value->type == REDIS_REPLY_INTEGER ? std::to_string(value->integer) : text(value);
    FUZZ_EXPECT(pairs[at].first == text(key) && pairs[at].second == v, "a pair read as another");
  }
  FUZZ_EXPECT(at == pairs.size(), "more pairs than the answer holds");
}

void read_every_way(const redisReply* r) {
  const std::string flat = cp::flatten(r);
  FUZZ_EXPECT(!flat.empty() && flat == cp::flatten(r), "flatten");
  if (auto s = cp::read_send(r); !s.ok()) expect_promised(s.status(), "read_send");
  if (auto f = cp::read_fetch(r); f.ok()) {
    FUZZ_EXPECT(r->type == REDIS_REPLY_ARRAY && f->size() == r->elements, "deliveries read from " + flat);
    for (size_t k = 0; k < f->size(); ++k) check_delivery(r->element[k], (*f)[k]);
  } else {
    expect_promised(f.status(), "read_fetch");
  }
  for (auto read : {cp::read_publish, cp::read_pairs}) {
    if (auto p = read(r); p.ok()) {
      check_pairs(r, *p);
    } else {
      expect_promised(p.status(), "read_publish/read_pairs");
    }
  }
  if (const Status s = cp::read_ok(r, "ACK"); !s.ok()) expect_promised(s, "read_ok");
  if (auto i = cp::read_info(r); i.ok()) {
    FUZZ_EXPECT(r->type == REDIS_REPLY_STRING && *i == text(r), "INFO read from " + flat);
  } else {
    expect_promised(i.status(), "read_info");
  }
}

struct ReaderDeleter {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<redisReader, ReaderDeleter> reader(redisReaderCreate());
  FUZZ_EXPECT(reader != nullptr, "hiredis reader");
  cp::bound_answers(reader.get());  // as impl::Client's connection reads
  if (redisReaderFeed(reader.get(), reinterpret_cast<const char*>(data), size) != REDIS_OK) return 0;
  for (int k = 0; k < 64; ++k) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader.get(), &reply) != REDIS_OK || reply == nullptr) return 0;
    read_every_way(static_cast<const redisReply*>(reply));
    freeReplyObject(reply);
  }
  return 0;
}
