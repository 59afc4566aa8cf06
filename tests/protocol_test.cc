// The two halves of mqd's protocol agree (impl/protocol.h): what the client library
// sends, the server's command set reads as the request the client meant; what the
// server answers, the client reads as the outcome the server meant. Each word is
// taken from impl/protocol.h by both halves, and these tests run the bytes between
// them, so a half that spells a word its own way, or writes a field in another
// place, fails here.

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <set>
#include <string>
#include <variant>

#include "impl/client_protocol.h"
#include "impl/protocol.h"
#include "impl/resp_commands.h"
#include "sim/resp_route.h"
#include "tests/resp_config.h"

namespace mq::impl {
namespace {

namespace cp = client_protocol;
namespace pr = protocol;

BrokerConfig config() { return test::resp_config(); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

TEST(Protocol, EveryWordIsReadBackAsItselfInAnyCase) {
  for (int k = 0; k < enum_count<pr::Verb>(pr::verb_name); ++k) {
    const auto v = static_cast<pr::Verb>(k);
    EXPECT_EQ(pr::verb_of(pr::verb_name(v)), v);
    EXPECT_EQ(pr::verb_of(lower(pr::verb_name(v))), v);
  }
  for (int k = 0; k < enum_count<pr::SendOption>(pr::send_option_name); ++k) {
    const auto o = static_cast<pr::SendOption>(k);
    EXPECT_EQ(pr::send_option_of(lower(pr::send_option_name(o))), o);
  }
  for (int k = 0; k < enum_count<pr::ErrorWord>(pr::error_word_name); ++k) {
    const auto w = static_cast<pr::ErrorWord>(k);
    EXPECT_EQ(pr::error_word_of(pr::error_text(w, "why it failed")), w);
    EXPECT_EQ(pr::error_word_of(pr::error_word_name(w)), w);  // with no text after it
  }
  EXPECT_EQ(pr::verb_of("SENDX"), std::nullopt);
  EXPECT_EQ(pr::error_word_of("FULLY booked"), std::nullopt);  // a word, not a prefix
  EXPECT_EQ(pr::kDeliveryFields, 9);
}

// ---- what the client sends, the server reads ----

Request parsed(const std::vector<std::string>& args) {
  const RespCommands server(config());
  return server.parse(args, /*conn=*/7).request;
}

TEST(Protocol, ASendWithEveryOptionIsReadAsTheClientMeantIt) {
  SendOptions o{.priority = 3, .ttl_ms = 2000, .delay_ms = 300, .retries = 4, .producer = "p2"};
  const Request r = parsed(send_args("work", 42, "hello", o));
  ASSERT_TRUE(std::holds_alternative<req::Publish>(r)) << r.index();
  const auto& p = std::get<req::Publish>(r);
  EXPECT_FALSE(p.topic);
  EXPECT_EQ(p.target, 0u);
  EXPECT_EQ(p.producer, 1u);
  EXPECT_EQ(p.spec.id, 42u);
  EXPECT_EQ(p.spec.payload, "hello");
  EXPECT_EQ(p.spec.priority, 3);
  EXPECT_EQ(p.spec.ttl_ns, 2000 * 1'000'000LL);
  EXPECT_EQ(p.spec.delay_ns, 300 * 1'000'000LL);
  EXPECT_EQ(p.spec.max_retries, 4u);

  const Request t = parsed(publish_args("events", 43, "fan", SendOptions{}));
  ASSERT_TRUE(std::holds_alternative<req::Publish>(t));
  EXPECT_TRUE(std::get<req::Publish>(t).topic);
  EXPECT_EQ(std::get<req::Publish>(t).producer, 0u);  // no PRODUCER: the first
}

TEST(Protocol, ConsumerCommandsAreReadAsTheClientMeantThem) {
  const Request f = parsed(fetch_args("w1", 3, 250));
  ASSERT_TRUE(std::holds_alternative<req::Fetch>(f));
  EXPECT_EQ(std::get<req::Fetch>(f).max, 3u);
  EXPECT_EQ(std::get<req::Fetch>(f).block_ns, 250 * 1'000'000LL);
  EXPECT_EQ(std::get<req::Fetch>(f).who.session, 7u);
  EXPECT_EQ(std::get<req::Fetch>(parsed(fetch_args("w1", 1, 0))).block_ns, 0);  // answered at once

  const auto settle = [](const Request& r) { return std::get<req::Settle>(r); };
  EXPECT_FALSE(settle(parsed(ack_args("w1", 9))).nack);
  EXPECT_EQ(settle(parsed(ack_args("w1", 9))).id, 9u);
  EXPECT_TRUE(settle(parsed(nack_args("w1", 9, true))).requeue);
  EXPECT_TRUE(settle(parsed(nack_args("w1", 9, true))).nack);
  EXPECT_FALSE(settle(parsed(nack_args("w1", 9, false))).requeue);
}

// Every kind of request a client sends is written as a command (args_of) that the
// server reads back as that very request, up to the session (same_meaning); and
// same_meaning tells apart requests that differ in any field the server acts on.
TEST(Protocol, EveryRequestIsReadBackFromTheCommandItIsWrittenAs) {
  const ConsumerRef w1{0, 7, SessionMode::kPull};
  MessageSpec spec{42, "hello", 3, 2000 * pr::kNsPerMs, 300 * pr::kNsPerMs, 4};
  const std::vector<Request> requests = {
      req::Publish{1, false, 1, spec},
      req::Publish{0, true, 0, MessageSpec{43, "fan", 0, 0, 0, std::nullopt}},
      req::Hello{w1},
      req::Fetch{w1, 3, 250 * pr::kNsPerMs},
      req::Fetch{w1, 1, 0},
      req::Settle{w1, 9, false, true},
      req::Settle{w1, 9, true, true},
      req::Settle{w1, 9, true, false},
      req::Stats{1},
      req::Info{},
  };
  std::set<size_t> kinds;  // every kind a client sends: all but Inline
  for (const Request& r : requests) kinds.insert(r.index());
  EXPECT_EQ(kinds.size() + 1, std::variant_size_v<Request>) << "a kind of request this test does not send";
  for (size_t k = 0; k < requests.size(); ++k) {
    const std::vector<std::string> args = CommandSet(config()).args_of(requests[k]);
    for (size_t j = 0; j < requests.size(); ++j) {
      EXPECT_EQ(sim::RespRoute::same_meaning(parsed(args), requests[j]), j == k)
          << args[0] << " read as request " << j;
    }
  }
  EXPECT_FALSE(sim::RespRoute::same_meaning(req::Inline{"+PONG\r\n"}, req::Inline{"+PONG\r\n"}));
}

// ---- what the server answers, the client reads ----

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

ReplyPtr answer_to_client(const Response& r) {
  std::string bytes;
  RespCommands(config()).encode(r, bytes);
  redisReader* reader = redisReaderCreate();
  cp::bound_answers(reader);
  EXPECT_EQ(redisReaderFeed(reader, bytes.data(), bytes.size()), REDIS_OK);
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK) << bytes;
  redisReaderFree(reader);
  EXPECT_NE(reply, nullptr) << bytes;
  return ReplyPtr(static_cast<redisReply*>(reply));
}

resp::Published published(PublishOutcome o) {
  return resp::Published{.id = 1, .topic = false, .outcome = o, .queues = {{0, o}}, .reason = "because"};
}

TEST(Protocol, EveryPublishOutcomeIsReadAsTheServerMeantIt) {
  EXPECT_EQ(*cp::read_send(answer_to_client(published(PublishOutcome::kStored)).get()), SendOutcome::kStored);
  EXPECT_EQ(*cp::read_send(answer_to_client(published(PublishOutcome::kDuplicate)).get()), SendOutcome::kDuplicate);
  EXPECT_EQ(*cp::read_send(answer_to_client(published(PublishOutcome::kFull)).get()), SendOutcome::kFull);
  EXPECT_EQ(*cp::read_send(answer_to_client(published(PublishOutcome::kNoSpace)).get()), SendOutcome::kNoSpace);
  const auto refused = cp::read_send(answer_to_client(published(PublishOutcome::kRefused)).get());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "ERR because");

  resp::Published topic = published(PublishOutcome::kDuplicate);
  topic.topic = true;
  const auto per_queue = cp::read_publish(answer_to_client(topic).get());
  ASSERT_TRUE(per_queue.ok()) << per_queue.status().to_string();
  EXPECT_EQ(*per_queue, (NamedValues{{"work", publish_outcome_name(PublishOutcome::kDuplicate)}}));
}

TEST(Protocol, EveryErrorIsReadWithTheCodeItsWordMeans) {
  const auto code_of = [](const Response& r) { return cp::read_ok(answer_to_client(r).get(), "ACK").code(); };
  EXPECT_EQ(code_of(resp::Settled{.id = 1, .ok = true, .reason = ""}), Code::kOk);
  EXPECT_EQ(code_of(resp::Settled{.id = 1, .ok = false, .reason = "gone"}),
            pr::error_word_code(pr::ErrorWord::kNotHeld));
  EXPECT_EQ(code_of(resp::Error{Code::kFailedPrecondition, "newer"}), pr::error_word_code(pr::ErrorWord::kSession));
  EXPECT_EQ(code_of(resp::Error{Code::kUnavailable, "starting"}), pr::error_word_code(pr::ErrorWord::kUnavailable));
  EXPECT_EQ(code_of(resp::Error{Code::kInvalidArgument, "no"}), pr::error_word_code(pr::ErrorWord::kErr));
  EXPECT_EQ(pr::error_word_code(pr::ErrorWord::kNotHeld), Code::kFailedPrecondition);
  EXPECT_EQ(pr::error_word_code(pr::ErrorWord::kUnavailable), Code::kUnavailable);
}

TEST(Protocol, EveryFieldOfADeliveryIsReadIntoItsOwnPlace) {
  Message m;
  m.id = uint64_t{1} << 63;  // above every signed integer: sent as a string
  m.payload = std::make_shared<const std::string>("body");
  m.attempts = 2;
  m.priority = 3;
  m.timestamp_ns = 1'000;
  m.ttl_ns = 2'000;
  m.not_before_ns = 3'000;
  m.max_retries = 5;
  const auto got = cp::read_fetch(answer_to_client(resp::Fetched{{Delivery{0, 0, m}}}).get());
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  ASSERT_EQ(got->size(), 1u);
  const ClientDelivery& d = got->front();
  EXPECT_EQ(d.queue, "work");
  EXPECT_EQ(d.id, uint64_t{1} << 63);
  EXPECT_EQ(d.payload, "body");
  EXPECT_EQ(d.attempts, 2u);
  EXPECT_EQ(d.priority, 3u);
  EXPECT_EQ(d.timestamp_ns, 1'000);
  EXPECT_EQ(d.ttl_ns, 2'000);
  EXPECT_EQ(d.not_before_ns, 3'000);
  EXPECT_EQ(d.max_retries, 5u);
}

}  // namespace
}  // namespace mq::impl
