// The client library's reading of mqd's answers (impl/client_protocol.h): mqd's own
// forms are read as they are, and an answer of another form (a broken or hostile
// server's) is an error, never a value read some other way, nor an allocation for a
// size the server only declares. tests/fuzz/client_fuzz.cc states the same on any bytes.

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

#include "impl/client_protocol.h"

namespace mq::impl {
namespace {

namespace cp = client_protocol;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// The one reply in `bytes`, read as the client's connection reads; null if hiredis
// refuses the bytes (`error` says why).
ReplyPtr reply_of(const std::string& bytes, std::string* error = nullptr) {
  redisReader* reader = redisReaderCreate();
  cp::bound_answers(reader);
  EXPECT_EQ(redisReaderFeed(reader, bytes.data(), bytes.size()), REDIS_OK);
  void* reply = nullptr;
  const int rc = redisReaderGetReply(reader, &reply);
  if (error != nullptr) *error = reader->err != 0 ? reader->errstr : "";
  redisReaderFree(reader);
  if (rc != REDIS_OK) return nullptr;
  return ReplyPtr(static_cast<redisReply*>(reply));
}

const std::string kDelivery = "*9\r\n$4\r\nwork\r\n$2\r\n12\r\n$2\r\nhi\r\n:2\r\n:1\r\n:1000\r\n:0\r\n:5\r\n:3\r\n";

TEST(ClientProtocol, ReadsMqdsOwnForms) {
  auto fetch = reply_of("*1\r\n" + kDelivery);
  ASSERT_NE(fetch, nullptr);
  const auto d = cp::read_fetch(fetch.get());
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].queue, "work");
  EXPECT_EQ((*d)[0].id, 12u);
  EXPECT_EQ((*d)[0].payload, "hi");
  EXPECT_EQ((*d)[0].attempts, 2u);
  EXPECT_EQ((*d)[0].max_retries, 3u);
  auto pairs = reply_of("*4\r\n$4\r\nname\r\n$4\r\nwork\r\n$4\r\nsize\r\n:3\r\n");
  const auto p = cp::read_pairs(pairs.get());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(*p, (NamedValues{{"name", "work"}, {"size", "3"}}));
  auto published = reply_of("*1\r\n*2\r\n$4\r\nwork\r\n$6\r\nstored\r\n");
  const auto q = cp::read_publish(published.get());
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(*q, (NamedValues{{"work", "stored"}}));
}

TEST(ClientProtocol, AnAnswerOfAnotherFormIsAnError) {
  const std::string bad_numbers[] = {"$2\r\n-1\r\n", "$2\r\n 5\r\n", "$2\r\n+5\r\n", "$2\r\n07\r\n", "$0\r\n\r\n",
                                     "$20\r\n18446744073709551616\r\n", ":-3\r\n", "*0\r\n"};
  for (const std::string& id : bad_numbers) {
    auto r = reply_of("*1\r\n*9\r\n$4\r\nwork\r\n" + id + "$2\r\nhi\r\n:2\r\n:1\r\n:1000\r\n:0\r\n:5\r\n:3\r\n");
    ASSERT_NE(r, nullptr) << id;
    const auto d = cp::read_fetch(r.get());
    EXPECT_EQ(d.status().code(), Code::kInvalidArgument) << id;
  }
  // attempts past 32 bits, a timestamp past 63
  for (const char* tail : {":4294967296\r\n:1\r\n:1000\r\n:0\r\n:5\r\n:3\r\n",
                           ":2\r\n:1\r\n$19\r\n9223372036854775808\r\n:0\r\n:5\r\n:3\r\n"}) {
    auto r = reply_of(std::string("*1\r\n*9\r\n$4\r\nwork\r\n$2\r\n12\r\n$2\r\nhi\r\n") + tail);
    ASSERT_NE(r, nullptr) << tail;
    EXPECT_EQ(cp::read_fetch(r.get()).status().code(), Code::kInvalidArgument) << tail;
  }
  for (const char* pairs : {"*1\r\n*2\r\n$4\r\nwork\r\n$-1\r\n", "*1\r\n*2\r\n:1\r\n$1\r\nx\r\n",
                            "*2\r\n$4\r\nsize\r\n*0\r\n", "*1\r\n$4\r\nsize\r\n"}) {
    auto r = reply_of(pairs);
    ASSERT_NE(r, nullptr) << pairs;
    EXPECT_EQ(cp::read_pairs(r.get()).status().code(), Code::kInvalidArgument) << pairs;
  }
}

TEST(ClientProtocol, AnArraySizeOnlyDeclaredIsRefusedBeforeAnyAllocation) {
  std::string error;
  EXPECT_EQ(reply_of("*1101100000\r\n", &error), nullptr);  // 8.8 GB of pointers, unbounded
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(reply_of("*1\r\n*17\r\n", &error), nullptr);  // no nested answer of mqd's has 17
  auto most = reply_of("*" + std::to_string(cp::kMaxAnswerArray) + "\r\n" +
                       [] {
                         std::string s;
                         for (size_t k = 0; k < cp::kMaxAnswerArray; ++k) s += ":1\r\n";
                         return s;
                       }());
  ASSERT_NE(most, nullptr);
  EXPECT_EQ(most->elements, cp::kMaxAnswerArray);
  EXPECT_EQ(reply_of("*" + std::to_string(cp::kMaxAnswerArray + 1) + "\r\n", &error), nullptr);
}

}  // namespace
}  // namespace mq::impl
