// History I/O: every error branch of the reader names the file, the line and the
// field; the writer is byte-deterministic; write then read gives the same events.
#include "formats/history_io.h"
#include "formats/json_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <streambuf>

namespace mq {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPublishInvoke =
    R"({"v":1,"time":0,"process":"p0","type":"invoke","f":"publish","queue":"q","id":1,"payload":"a"})";
constexpr const char* kPublishOk =
    R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})";

// The message of reading `text` as file "h.jsonl", which must fail.
std::string error_of(const std::string& text) {
  auto h = parse_history(text, "h.jsonl");
  EXPECT_FALSE(h.ok()) << "parsed, but should not have: " << text;
  if (h.ok()) return "";
  EXPECT_EQ(h.status().code(), Code::kCorruption);
  return h.status().message();
}

// An error on line 2 about `field`: names the file, the line and the field.
void expect_line2_field_error(const std::string& second_line, const std::string& field,
                              const std::string& what) {
  const std::string msg = error_of(std::string(kPublishInvoke) + "\n" + second_line + "\n");
  EXPECT_THAT(msg, AllOf(HasSubstr("h.jsonl:2:"), HasSubstr("field '" + field + "'"), HasSubstr(what)))
      << second_line;
}

TEST(HistoryIo, ReadsAValidHistory) {
  auto h = parse_history(std::string(kPublishInvoke) + "\n" + kPublishOk + "\n", "h.jsonl");
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  ASSERT_EQ(h->events.size(), 2u);
  EXPECT_EQ(h->source, "h.jsonl");
  const HistoryEvent& e = h->events[1];
  EXPECT_EQ(e.index, 1u);
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.process, "p0");
  EXPECT_EQ(e.type, EventType::kOk);
  EXPECT_EQ(e.f, EventF::kPublish);
  EXPECT_EQ(e.time_ns, 5);
  EXPECT_EQ(e.id, MessageId{1});
  EXPECT_EQ(e.payload, std::string("a"));
  EXPECT_FALSE(e.priority.has_value());
}

TEST(HistoryIo, AcceptsALastLineWithoutNewlineWhenComplete) {
  auto h = parse_history(std::string(kPublishInvoke) + "\n" + kPublishOk, "h.jsonl");
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_EQ(h->events.size(), 2u);
}

TEST(HistoryIo, ReadsJepsenIntegerProcesses) {
  auto h = parse_history(R"({"v":1,"time":0,"process":3,"type":"invoke","f":"publish","queue":"q","id":1,"payload":"a"})"
                         "\n",
                         "h.jsonl");
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_EQ(h->events[0].process, "3");
}

TEST(HistoryIo, MalformedJson) {
  EXPECT_THAT(error_of(std::string(kPublishInvoke) + "\n{\"v\":1,\"time\":\n" + kPublishOk + "\n"),
              AllOf(HasSubstr("h.jsonl:2:"), HasSubstr("not valid JSON")));
}

TEST(HistoryIo, NotAnObject) {
  EXPECT_THAT(error_of("[1,2]\n"), AllOf(HasSubstr("h.jsonl:1:"), HasSubstr("not a JSON object")));
}

TEST(HistoryIo, EmptyLine) {
  EXPECT_THAT(error_of(std::string(kPublishInvoke) + "\n\n" + kPublishOk + "\n"),
              AllOf(HasSubstr("h.jsonl:2:"), HasSubstr("empty line")));
}

TEST(HistoryIo, TruncatedLastLine) {
  EXPECT_THAT(error_of(std::string(kPublishInvoke) + "\n{\"v\":1,\"time\":5,\"proc"),
              AllOf(HasSubstr("h.jsonl:2:"), HasSubstr("truncated last line")));
  // Cut inside a valid prefix that still parses as JSON but misses fields.
  EXPECT_THAT(error_of(std::string(kPublishInvoke) + "\n{\"v\":1}"),
              AllOf(HasSubstr("h.jsonl:2:"), HasSubstr("truncated last line"), HasSubstr("field 'time'")));
}

TEST(HistoryIo, MissingFields) {
  for (const char* field : {"v", "time", "process", "type", "f"}) {
    std::string line = kPublishOk;
    const std::string key = std::string("\"") + field + "\":";
    const size_t at = line.find(key);
    ASSERT_NE(at, std::string::npos);
    const size_t end = line.find(',', at);
    line.erase(at, end - at + 1);
    expect_line2_field_error(line, field, "missing");
  }
}

TEST(HistoryIo, WrongTypes) {
  expect_line2_field_error(R"({"v":1,"time":"5","process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "time", "must be an integer, got string");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":7,"id":1,"payload":"a"})",
                           "queue", "must be a string");
  expect_line2_field_error(R"({"v":1,"time":5,"process":1.5,"type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "process", "must be a string or an integer");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1.5,"payload":"a"})",
                           "id", "got a fraction");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":null})",
                           "payload", "must be a string, got null");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a","requeue":1})",
                           "requeue", "must be true or false");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a","priority":300})",
                           "priority", "must be in 0..255, got 300");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":-1,"payload":"a"})",
                           "id", "got -1");
  expect_line2_field_error(R"({"v":1,"time":-5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "time", "got -5");
}

TEST(HistoryIo, UnknownValuesAndFields) {
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"explode","queue":"q","id":1,"payload":"a"})",
                           "f", "unknown value 'explode'");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"maybe","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "type", "unknown value 'maybe'");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a","ttl":3})",
                           "ttl", "unknown field");
  expect_line2_field_error(R"({"v":1,"time":5,"time":6,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "time", "appears twice");
  expect_line2_field_error(R"({"v":3,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "v", "unsupported version 3");
  expect_line2_field_error(R"({"v":0,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "v", "unsupported version 0");
}

TEST(HistoryIo, ShapeErrors) {
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","payload":"a"})",
                           "id", "required for publish");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","id":1,"payload":"a"})",
                           "queue", "required for publish");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"broker","type":"ok","f":"deliver","queue":"q","id":1,"payload":"a","attempts":1})",
                           "consumer", "required for deliver");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"broker","type":"ok","f":"deliver","queue":"q","consumer":"c0","id":1,"payload":"a"})",
                           "attempts", "required");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"broker","type":"info","f":"expire","queue":"q","id":1})",
                           "type", "always ok");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"broker","type":"ok","f":"crash"})", "f",
                           "the broker does not do crash");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"nemesis","type":"ok","f":"expire","queue":"q","id":1})",
                           "f", "the nemesis only does crash");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"c0","type":"invoke","f":"expire","queue":"q","id":1})",
                           "f", "a client does not do expire");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"c0","type":"invoke","f":"nack","queue":"q","consumer":"c0","id":1})",
                           "requeue", "required for nack");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"","type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "process", "must not be empty");
}

TEST(HistoryIo, HistoryErrors) {
  expect_line2_field_error(R"({"v":1,"index":5,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "index", "expected 1, got 5");
  const std::string late = R"({"v":1,"time":9,"process":"p0","type":"invoke","f":"publish","queue":"q","id":1,"payload":"a"})";
  EXPECT_THAT(error_of(late + "\n" + kPublishOk + "\n"),
              AllOf(HasSubstr("h.jsonl:2:"), HasSubstr("field 'time'"), HasSubstr("5 is before the previous event's time 9")));
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p1","type":"ok","f":"publish","queue":"q","id":1,"payload":"a"})",
                           "type", "completes no invoke");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"invoke","f":"publish","queue":"q","id":2,"payload":"b"})",
                           "type", "invokes again while its invoke at line 1 is open");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"ack","queue":"q","consumer":"p0","id":1})",
                           "f", "completes ack but invoked publish");
}

TEST(HistoryIo, LineTooLong) {
  const std::string huge = R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":")" +
                           std::string(kMaxHistoryLineBytes, 'x') + "\"}";
  EXPECT_THAT(error_of(std::string(kPublishInvoke) + "\n" + huge + "\n"),
              AllOf(HasSubstr("h.jsonl:2:"), HasSubstr("line longer than")));
}

// A value nested past kMaxJsonDepth is refused by the limit (nlohmann's parse,
// dump and destructor recurse once per level: 100,000 levels overflowed the stack).
TEST(HistoryIo, NestingDeeperThanTheLimitIsAnErrorNotACrash) {
  const size_t kDeep = 100'000;
  const std::string deep = R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":)" +
                           std::string(kDeep, '[') + std::string(kDeep, ']') + "}";
  EXPECT_THAT(error_of(std::string(kPublishInvoke) + "\n" + deep + "\n"),
              AllOf(HasSubstr("h.jsonl:2:"), HasSubstr("nested deeper than " + std::to_string(kMaxJsonDepth))));
  // Brackets inside a string are text, not nesting.
  const std::string in_string = R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":")" +
                                std::string(1000, '[') + "\"}";
  EXPECT_THAT(error_of(std::string(kPublishInvoke) + "\n" + in_string + "\n" + kPublishOk),
              Not(HasSubstr("nested")));
}

// A missing file and a directory each have their own message, never "bad JSON".
TEST(HistoryIo, MissingFileAndDirectoryAreNamedAsSuch) {
  auto h = read_history("/nonexistent/dir/h.jsonl");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), Code::kNotFound);
  EXPECT_EQ(h.status().message(), "/nonexistent/dir/h.jsonl: no such file");
  auto d = read_history(::testing::TempDir());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(d.status().message(), HasSubstr("is a directory, not a file"));
}

// A stream whose storage fails after the first line.
class FailingBuf : public std::streambuf {
 public:
  explicit FailingBuf(std::string first) : first_(std::move(first)) {
    setg(first_.data(), first_.data(), first_.data() + first_.size());
  }

 protected:
  int_type underflow() override { throw std::runtime_error("EIO"); }

 private:
  std::string first_;
};

TEST(HistoryIo, ReadFailureIsAnIoError) {
  FailingBuf buf(std::string(kPublishInvoke) + "\n");
  std::istream in(&buf);
  uint64_t seen = 0;
  Status s = read_history_stream(in, "h.jsonl", [&](HistoryEvent&&) {
    ++seen;
    return Status();
  });
  EXPECT_EQ(s.code(), Code::kIoError) << s.to_string();
  EXPECT_THAT(s.message(), HasSubstr("h.jsonl:2:"));
  EXPECT_EQ(seen, 1u);
}

TEST(HistoryIo, SinkErrorStopsTheReading) {
  std::istringstream in(std::string(kPublishInvoke) + "\n" + kPublishOk + "\n");
  uint64_t seen = 0;
  Status s = read_history_stream(in, "h.jsonl", [&](HistoryEvent&&) {
    ++seen;
    return failed_precondition("enough");
  });
  EXPECT_EQ(s, failed_precondition("enough"));
  EXPECT_EQ(seen, 1u);
}

HistoryEvent full_event() {
  HistoryEvent e;
  e.index = 0;
  e.process = "c0";
  e.type = EventType::kOk;
  e.f = EventF::kDeliver;
  e.time_ns = 42;
  e.queue = "q";
  e.consumer = "c0";
  e.error = "none";
  e.id = 7;
  e.payload = "h\xC3\xA9llo \"quoted\"\n";
  e.priority = 2;
  e.ttl_ns = 100;
  e.delay_ns = 3;
  e.timestamp_ns = 40;
  e.not_before_ns = 43;
  e.attempts = 2;
  e.requeue = false;
  return e;
}

TEST(HistoryIo, WritesKeysInTheDocumentedOrder) {
  auto line = to_json(full_event());
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line,
            R"({"v":2,"index":0,"time":42,"process":"c0","type":"ok","f":"deliver","queue":"q","consumer":"c0",)"
            R"("id":7,"payload":"h)" "\xC3\xA9" R"(llo \"quoted\"\n","priority":2,"ttl_ns":100,"delay_ns":3,)"
            R"("timestamp_ns":40,"not_before_ns":43,"attempts":2,"requeue":false,"error":"none"})");
}

TEST(HistoryIo, RefusesToWriteAPayloadThatIsNotUtf8) {
  HistoryEvent e = full_event();
  e.payload = std::string("\xFF\xFE");
  auto line = to_json(e);
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(line.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(line.status().message(), HasSubstr("event #0"));
  History h{"mem", {e}};
  std::ostringstream out;
  EXPECT_FALSE(write_history(h, out).ok());
  EXPECT_EQ(out.str(), "");  // nothing half-written
}

TEST(HistoryIo, WriteThenReadGivesTheSameEventsAndBytes) {
  History h{"mem", {}};
  HistoryEvent invoke = full_event();
  invoke.type = EventType::kInvoke;
  invoke.line = 1;
  HistoryEvent ok = full_event();
  ok.index = 1;
  ok.line = 2;
  ok.time_ns = 50;
  h.events = {invoke, ok};
  const std::string path = ::testing::TempDir() + std::to_string(::getpid()) + "_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_history_io_roundtrip.jsonl";
  ASSERT_TRUE(write_history_file(h, path).ok());
  auto back = read_history(path);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->events, h.events);
  EXPECT_EQ(*format_history(*back), *format_history(h));
  std::remove(path.c_str());
}

TEST(HistoryIo, ReadsTheExampleOfTheDocs) {
  auto h = read_history(std::string(MQ_TEST_DATA_DIR) + "/histories/example.jsonl");
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_GT(h->events.size(), 5u);
}

}  // namespace
}  // namespace mq

namespace mq {
namespace {

// The fast path (our writer's lines) and the nlohmann path (anything else) give the
// same event: each pair differs only in how the JSON is spelled.
TEST(HistoryIo, FastAndGeneralPathsReadTheSameEvent) {
  const std::pair<const char*, const char*> pairs[] = {
      {R"({"v":1,"time":5,"process":"p0","type":"invoke","f":"publish","queue":"q","id":1,"payload":"Ab"})",
       R"({ "v" : 1, "time" : 5, "process" : "p0", "type" : "invoke", "f" : "publish", "queue" : "q", "id" : 1, "payload" : "\u0041b" })"},
      {R"({"v":1,"time":5,"process":"p0","type":"invoke","f":"publish","queue":"q","id":1,"payload":"a\"\\/\n\t","max_retries":4})",
       R"({"max_retries":4,"payload":"a\u0022\u005c\u002f\u000a\u0009","id":1,"queue":"q","f":"publish","type":"invoke","process":"p0","time":5,"v":1})"},
      {R"({"v":1,"time":5,"process":7,"type":"invoke","f":"deliver","queue":"q","consumer":"c0"})",
       R"({"v":1,"time":5,"process":7,"type":"invoke","f":"deliver","queue":"q","consumer":"c\u0030"})"},
  };
  for (const auto& [fast, general] : pairs) {
    auto a = from_json(fast, "h.jsonl", 1, 0);
    auto b = from_json(general, "h.jsonl", 1, 0);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    EXPECT_EQ(*a, *b) << fast;
  }
}

TEST(HistoryIo, MaxRetriesIsReadWrittenAndOnlyOnPublish) {
  auto e = from_json(R"({"v":1,"time":5,"process":"p0","type":"invoke","f":"publish","queue":"q","id":1,"payload":"a","max_retries":2})",
                     "h.jsonl", 1, 0);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e->max_retries, 2u);
  EXPECT_EQ(*to_json(*e),
            R"({"v":2,"index":0,"time":5,"process":"p0","type":"invoke","f":"publish","queue":"q","id":1,"payload":"a","max_retries":2})");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a","max_retries":-1})",
                           "max_retries", "got -1");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"broker","type":"ok","f":"expire","queue":"q","id":1,"max_retries":1})",
                           "max_retries", "only a publish carries it");
  // Old files, without the field, stay readable.
  auto old = from_json(kPublishOk, "h.jsonl", 2, 1);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->max_retries.has_value());
}

// A client's publish records what it asked: a malformed message's negative TTL or
// delay reads (and writes back) on its invoke and its refusal; what the broker
// accepted or delivered must not carry one.
TEST(HistoryIo, NegativeTtlOrDelayOnlyOnWhatAClientAsked) {
  for (const char* asked :
       {R"({"v":2,"index":0,"time":5,"process":"p0","type":"invoke","f":"publish","queue":"q","id":1,"payload":"a","ttl_ns":-1})",
        R"({"v":2,"index":0,"time":5,"process":"p0","type":"fail","f":"publish","queue":"q","id":1,"payload":"a","delay_ns":-1,"error":"InvalidArgument: delay_ns < 0"})"}) {
    auto e = from_json(asked, "h.jsonl", 1, 0);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    EXPECT_TRUE(e->ttl_ns == -1 || e->delay_ns == -1);
    EXPECT_EQ(*to_json(*e), asked);
  }
  expect_line2_field_error(R"({"v":1,"time":5,"process":"p0","type":"ok","f":"publish","queue":"q","id":1,"payload":"a","ttl_ns":-1})",
                           "ttl_ns", "got -1");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"broker","type":"ok","f":"publish","queue":"q","id":1,"payload":"a","delay_ns":-1})",
                           "delay_ns", "got -1");
  expect_line2_field_error(R"({"v":1,"time":5,"process":"c0","type":"ok","f":"deliver","queue":"q","consumer":"c0","id":1,"payload":"a","ttl_ns":-5,"attempts":1})",
                           "ttl_ns", "got -5");
}

// Lines cut across the reader's 1 MiB chunks, from a file and from a stream.
TEST(HistoryIo, ReadsLinesAcrossChunkBoundaries) {
  History h{"mem", {}};
  for (uint64_t i = 0; i < 6000; ++i) {
    HistoryEvent e = full_event();
    e.index = i;
    e.line = i + 1;
    e.type = i % 2 == 0 ? EventType::kInvoke : EventType::kOk;
    e.time_ns = static_cast<TimeNs>(i);
    e.payload = std::string(100 + i % 300, static_cast<char>('a' + i % 26));
    h.events.push_back(e);
  }
  const std::string path = ::testing::TempDir() + "history_io_chunks.jsonl";
  ASSERT_TRUE(write_history_file(h, path).ok());
  auto from_file = read_history(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status().to_string();
  EXPECT_EQ(from_file->events, h.events);
  auto from_text = parse_history(*format_history(h), "mem");
  ASSERT_TRUE(from_text.ok());
  EXPECT_EQ(from_text->events, h.events);
  std::remove(path.c_str());
}

// Version 2: a topic publish names its topic and bound queues (an array), read the
// same on both paths and written back as it was; version 1 lines still read.
TEST(HistoryIo, TopicAndBoundQueuesOfVersion2) {
  const std::string line =
      R"({"v":2,"index":0,"time":5,"process":"p0","type":"invoke","f":"publish","queue":"b","topic":"t",)"
      R"("bound":["a","b"],"id":1,"payload":"x"})";
  auto e = from_json(line, "h.jsonl", 1, 0);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e->topic, "t");
  EXPECT_EQ(e->bound, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*to_json(*e), line);
  // The general JSON path (whitespace) gives the same event.
  auto spaced = from_json(R"({"v": 2, "time": 5, "process": "p0", "type": "invoke", "f": "publish", "queue": "b",)"
                          R"( "topic": "t", "bound": [ "a", "b" ], "id": 1, "payload": "x"})",
                          "h.jsonl", 1, 0);
  ASSERT_TRUE(spaced.ok()) << spaced.status().to_string();
  EXPECT_EQ(*spaced, *e);
  EXPECT_TRUE(from_json(kPublishInvoke, "h.jsonl", 1, 0).ok());  // v1
  const std::string invoke = R"({"v":2,"time":5,"process":"p0","type":"invoke","f":"publish","queue":"b","id":1,"payload":"x",)";
  expect_line2_field_error(invoke + R"("topic":"t"})", "bound", "required with 'topic'");
  expect_line2_field_error(invoke + R"("bound":["b"]})", "topic", "required with 'bound'");
  expect_line2_field_error(invoke + R"("topic":"t","bound":["a"]})", "bound", "own queue 'b'");
  expect_line2_field_error(invoke + R"("topic":"t","bound":["b","b"]})", "bound", "listed twice");
  expect_line2_field_error(invoke + R"("topic":"t","bound":"b"})", "bound", "array of strings");
  expect_line2_field_error(invoke + R"("topic":"t","bound":[1]})", "bound", "strings only");
  expect_line2_field_error(
      R"({"v":2,"time":5,"process":"broker","type":"ok","f":"expire","queue":"b","id":1,"topic":"t","bound":["b"]})",
      "topic", "only a client's publish");
}

TEST(HistoryIo, DropAndRecoveryFailedEvents) {
  auto drop = from_json(R"({"v":2,"time":5,"process":"broker","type":"ok","f":"drop","queue":"q","id":3})", "h.jsonl", 1, 0);
  ASSERT_TRUE(drop.ok()) << drop.status().to_string();
  EXPECT_EQ(drop->f, EventF::kDrop);
  auto failed = from_json(R"({"v":2,"time":5,"process":"nemesis","type":"ok","f":"recovery-failed","error":"why"})",
                          "h.jsonl", 1, 0);
  ASSERT_TRUE(failed.ok()) << failed.status().to_string();
  EXPECT_TRUE(is_fault_f(failed->f));
  expect_line2_field_error(R"({"v":2,"time":5,"process":"broker","type":"ok","f":"drop","queue":"q"})", "id",
                           "required for drop");
  expect_line2_field_error(R"({"v":2,"time":5,"process":"p0","type":"invoke","f":"drop","queue":"q","id":3})", "f",
                           "a client does not do drop");
}

}  // namespace
}  // namespace mq
