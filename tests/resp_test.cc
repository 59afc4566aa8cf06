// RESP on mqd's side: the request reader (hiredis's reader with our bounds) on whole,
// split and hostile input, a connection's intake (impl/resp_intake.h: QUIT and protocol
// errors end its reading), and the command set (docs/protocol.md): every command,
// its errors (arity, numbers, names), and the encoding of every response.

#include <gtest/gtest.h>

#include "impl/resp_commands.h"
#include "impl/resp_intake.h"
#include "impl/resp_reader.h"
#include "tests/resp_config.h"

namespace mq::impl {
namespace {

std::vector<std::vector<std::string>> read_all(RespReader& r, std::string* error = nullptr) {
  std::vector<std::vector<std::string>> out;
  for (int k = 0; k < 1000; ++k) {
    auto next = r.next();
    if (!next.ok()) {
      if (error != nullptr) *error = next.status().message();
      break;
    }
    if (!next->has_value()) break;
    out.push_back(**next);
  }
  return out;
}

TEST(RespReader, ReadsPipelinedRequestsWholeOrByteByByte) {
  using namespace std::string_literals;
  const std::string bytes = "*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n*1\r\n$4\r\nINFO\r\n*3\r\n$4\r\nSEND\r\n$0\r\n\r\n$3\r\na\0b\r\n"s;
  RespReader whole;
  whole.feed(bytes);
  const auto a = read_all(whole);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0], (std::vector<std::string>{"PING", "hi"}));
  EXPECT_EQ(a[2][2], std::string("a\0b", 3));  // binary-safe
  EXPECT_EQ(whole.buffered(), 0u);
  RespReader split;
  std::vector<std::vector<std::string>> b;
  for (char c : bytes) {
    split.feed(std::string_view(&c, 1));
    for (auto& x : read_all(split)) b.push_back(x);
  }
  EXPECT_EQ(a, b);
}

// next() from a deep frame, so that its locals lie where later, shallower calls run
// their callees.
[[gnu::noinline]] bool nothing_yet_from_deep(RespReader& r, int depth) {
  volatile char pad[512];
  pad[0] = static_cast<char>(depth);
  if (depth > 0) return nothing_yet_from_deep(r, depth - 1) && pad[0] == static_cast<char>(depth);
  auto next = r.next();
  return next.ok() && !next->has_value();
}

// The daemon asks for the next request from different depths (a read completion, a
// resumed connection). A request whose reading began in one call (even at an empty
// buffer) and ends in another must not depend on the first call's frame: under ASan
// this test caught the reader handing hiredis a pointer into it.
TEST(RespReader, ARequestBegunInOneCallEndsInAnotherFromAnotherFrame) {
  RespReader r;
  r.feed("*1\r\n$4\r\nPING\r\n");
  ASSERT_EQ(read_all(r).size(), 1u);  // and a last call at the empty buffer
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(nothing_yet_from_deep(r, 20));
    r.feed("*2\r\n$4\r\nSEND\r\n$1\r\nx\r\n");
    auto next = r.next();
    ASSERT_TRUE(next.ok()) << next.status().to_string();
    ASSERT_TRUE(next->has_value());
    EXPECT_EQ(**next, (std::vector<std::string>{"SEND", "x"}));
  }
}

TEST(RespReader, RefusesInlineCommandsAndNonStringArguments) {
  for (const std::string in : {"PING\r\n", "*1\r\n:5\r\n", "*0\r\n", "*-1\r\n", "+OK\r\n", "*1\r\n*1\r\n$1\r\na\r\n"}) {
    RespReader r;
    r.feed(in);
    std::string error;
    EXPECT_TRUE(read_all(r, &error).empty()) << in;
    EXPECT_FALSE(error.empty()) << in;
    r.feed("*1\r\n$4\r\nPING\r\n");  // spent: nothing more is read
    EXPECT_FALSE(r.next().ok()) << in;
  }
}

TEST(RespReader, BoundsTheArgumentCountWithoutAllocatingIt) {
  RespReader r(RespLimits{1 << 20, 8});
  r.feed("*1000000000\r\n");
  std::string error;
  EXPECT_TRUE(read_all(r, &error).empty());
  EXPECT_NE(error.find("more than 8 arguments"), std::string::npos) << error;
}

TEST(RespReader, BoundsTheBytesHeldForOneRequest) {
  RespReader r(RespLimits{1024, 8});
  r.feed("*1\r\n$1000000000\r\n");  // a declared 1 GB bulk: nothing allocated for it
  std::string error;
  EXPECT_TRUE(read_all(r, &error).empty());
  EXPECT_TRUE(error.empty());
  r.feed(std::string(2000, 'x'));  // once more than the limit is held, refused
  EXPECT_TRUE(read_all(r, &error).empty());
  EXPECT_NE(error.find("exceeds 1024 bytes"), std::string::npos) << error;
}

TEST(RespReader, DeepNestingIsAProtocolError) {
  RespReader r;
  std::string in;
  for (int k = 0; k < 100; ++k) in += "*1\r\n";
  r.feed(in);
  std::string error;
  EXPECT_TRUE(read_all(r, &error).empty());
  EXPECT_FALSE(error.empty());
}

BrokerConfig config() { return test::resp_config(); }

std::string inline_text(const ParsedRequest& p) {
  const auto* i = std::get_if<req::Inline>(&p.request);
  return i ? i->text : "";
}

TEST(RespCommands, SendWithEveryOption) {
  RespCommands cmds(config());
  const auto p = cmds.parse({"send", "work", "18446744073709551615", "body", "PRIORITY", "3", "ttl", "250", "DELAY",
                             "5", "RETRIES", "2", "PRODUCER", "p2"},
                            9);
  const auto* r = std::get_if<req::Publish>(&p.request);
  ASSERT_NE(r, nullptr) << inline_text(p);
  EXPECT_FALSE(r->topic);
  EXPECT_EQ(r->target, 0u);
  EXPECT_EQ(r->spec.id, UINT64_MAX);
  EXPECT_EQ(r->spec.payload, "body");
  EXPECT_EQ(r->spec.priority, 3);
  EXPECT_EQ(r->spec.ttl_ns, 250'000'000);
  EXPECT_EQ(r->spec.delay_ns, 5'000'000);
  EXPECT_EQ(r->spec.max_retries, 2u);
  EXPECT_EQ(r->producer, 1u);
}

TEST(RespCommands, ErrorsAreAnswersInOrderNotFailures) {
  RespCommands cmds(config());
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"SEND", "work", "1"}, "-ERR wrong number of arguments for 'SEND' command"},
      {{"SEND", "nope", "1", "x"}, "-ERR unknown queue 'nope'"},
      {{"SEND", "work", "-1", "x"}, "-ERR the message id must be an integer"},
      {{"SEND", "work", "18446744073709551616", "x"}, "-ERR the message id must be an integer"},
      {{"SEND", "work", "1", "x", "TTL", "abc"}, "-ERR TTL must be an integer"},
      {{"SEND", "work", "1", "x", "PRIORITY", "256"}, "-ERR PRIORITY must be an integer in 0..255"},
      {{"SEND", "work", "1", "x", "COLOUR", "red"}, "-ERR unknown option 'COLOUR'"},
      {{"FETCH", "w1", "COUNT", "0"}, "-ERR COUNT (at least 1) must be"},
      {{"FETCH", "nobody"}, "-ERR unknown consumer 'nobody'"},
      {{"NACK", "w1", "1", "LATER"}, "-ERR NACK takes REQUEUE or DROP"},
      {{"QSTATS"}, "-ERR wrong number of arguments"},
      {{"FLUSHALL"}, "-ERR unknown command 'FLUSHALL'"},
  };
  for (const auto& [args, want] : cases) {
    const auto p = cmds.parse(args, 1);
    EXPECT_EQ(inline_text(p).rfind(want, 0), 0u) << args[0] << ": " << inline_text(p);
  }
}

TEST(RespCommands, ConsumerCommandsSpeakForTheConnectionsSession) {
  RespCommands cmds(config());
  const auto f = cmds.parse({"FETCH", "w1", "COUNT", "4", "BLOCK", "0"}, 42);
  const auto* r = std::get_if<req::Fetch>(&f.request);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->who.session, 42u);
  EXPECT_EQ(r->who.mode, SessionMode::kPull);
  EXPECT_EQ(r->max, 4u);
  EXPECT_EQ(r->block_ns, protocol::kMaxBlockMs * 1'000'000);  // BLOCK 0: as long as allowed
  const auto n = cmds.parse({"NACK", "w1", "7", "DROP"}, 42);
  const auto* s = std::get_if<req::Settle>(&n.request);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->nack);
  EXPECT_FALSE(s->requeue);
  EXPECT_TRUE(cmds.parse({"QUIT"}, 1).close_after);
  EXPECT_EQ(inline_text(cmds.parse({"PING"}, 1)), "+PONG\r\n");
  EXPECT_EQ(inline_text(cmds.parse({"ping", "x"}, 1)), "$1\r\nx\r\n");
}

TEST(RespCommands, EncodesEveryResponse) {
  RespCommands cmds(config());
  auto enc = [&](Response r) {
    std::string out;
    cmds.encode(r, out);
    return out;
  };
  EXPECT_EQ(enc(resp::Published{1, false, PublishOutcome::kStored, {{0, PublishOutcome::kStored}}, ""}),
            "+STORED\r\n");
  EXPECT_EQ(enc(resp::Published{1, false, PublishOutcome::kFull, {{0, PublishOutcome::kFull}}, ""}),
            "-FULL queue 'work' is full\r\n");
  EXPECT_EQ(enc(resp::Published{1, true, PublishOutcome::kStored,
                                {{0, PublishOutcome::kStored}, {1, PublishOutcome::kFull}}, ""}),
            "*2\r\n*2\r\n$4\r\nwork\r\n$6\r\nstored\r\n*2\r\n$5\r\naudit\r\n$4\r\nfull\r\n");
  EXPECT_EQ(enc(resp::Settled{1, false, "not in flight\r\nat w1"}), "-NOTHELD not in flight  at w1\r\n");
  EXPECT_EQ(enc(resp::Error{Code::kFailedPrecondition, "taken over"}), "-SESSION taken over\r\n");
  Message m;
  m.id = 12;
  m.payload = std::make_shared<const std::string>("hi");
  m.attempts = 2;
  const std::string fetched = enc(resp::Fetched{{Delivery{0, 0, m}}});
  EXPECT_EQ(fetched.rfind("*1\r\n*9\r\n$4\r\nwork\r\n$2\r\n12\r\n$2\r\nhi\r\n:2\r\n", 0), 0u) << fetched;
}

// What a connection's reading hands the shell, in order.
std::vector<Request> take_all(RespIntake& in) {
  std::vector<Request> out;
  for (int round = 0; round < 100; ++round) {
    auto r = in.next();
    if (!r) return out;
    out.push_back(std::move(*r));
  }
  ADD_FAILURE() << "more than 100 requests";
  return out;
}

std::string inline_of(const Request& r) {
  const auto* i = std::get_if<req::Inline>(&r);
  return i ? i->text : "(not inline)";
}

TEST(RespIntake, AProtocolErrorIsTheLastRequestAnsweredInOrder) {
  RespCommands cmds(config());
  RespIntake in(cmds, 7, RespLimits{});
  in.feed("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nSEND\r\n$4\r\nwork\r\n");
  in.feed("+not a request\r\n*1\r\n$4\r\nPING\r\n");
  const auto got = take_all(in);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(inline_of(got[0]), "+PONG\r\n");
  EXPECT_EQ(inline_of(got[1]).rfind("-ERR wrong number of arguments", 0), 0u) << inline_of(got[1]);
  EXPECT_EQ(inline_of(got[2]).rfind("-ERR Protocol error: a request is a non-empty array", 0), 0u)
      << inline_of(got[2]);
  EXPECT_TRUE(in.done());
  EXPECT_TRUE(in.protocol_error());
  EXPECT_FALSE(in.partial());
  in.feed("*1\r\n$4\r\nPING\r\n");  // nothing is read after it
  EXPECT_FALSE(in.next().has_value());
}

TEST(RespIntake, QuitIsTheLastRequestWithoutAnError) {
  RespCommands cmds(config());
  RespIntake in(cmds, 7, RespLimits{});
  in.feed("*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n");
  const auto got = take_all(in);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(inline_of(got[0]), "+OK\r\n");
  EXPECT_TRUE(in.done());
  EXPECT_FALSE(in.protocol_error());
}

TEST(RespIntake, AnIncompleteRequestGivenUpIsAProtocolError) {
  RespCommands cmds(config());
  RespIntake in(cmds, 7, RespLimits{});
  in.feed("*2\r\n$4\r\nPING\r\n$5\r\nhel");
  EXPECT_FALSE(in.next().has_value());
  EXPECT_TRUE(in.partial());
  EXPECT_FALSE(in.done());
  const Request r = in.abandon("request incomplete for 10 ms");
  EXPECT_EQ(inline_of(r), "-ERR Protocol error: request incomplete for 10 ms\r\n");
  EXPECT_TRUE(in.done());
  EXPECT_TRUE(in.protocol_error());
  EXPECT_FALSE(in.partial());
}

TEST(RespIntake, BoundsAreTheReadersAndResolvesNamesForItsConnection) {
  RespCommands cmds(config());
  RespIntake in(cmds, 42, RespLimits{.max_request_bytes = 64, .max_args = 3});
  in.feed("*2\r\n$5\r\nFETCH\r\n$2\r\nw1\r\n*4\r\n");
  const auto got = take_all(in);
  ASSERT_EQ(got.size(), 2u);
  const auto* fetch = std::get_if<req::Fetch>(&got[0]);
  ASSERT_NE(fetch, nullptr) << inline_of(got[0]);
  EXPECT_EQ(fetch->who.session, 42u);
  EXPECT_EQ(inline_of(got[1]), "-ERR Protocol error: a request has more than 3 arguments\r\n");
}

}  // namespace
}  // namespace mq::impl
