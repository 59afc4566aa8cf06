// Status, Result<T>, code names and MQ_RETURN_IF_ERROR (base/status.h).

#include "base/status.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace mq {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "OK");
  EXPECT_EQ(Status::ok_status(), s);
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  const Status s(Code::kNotFound, "unknown queue 'orders'");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "unknown queue 'orders'");
  EXPECT_EQ(s.to_string(), "NotFound: unknown queue 'orders'");
}

TEST(StatusTest, HelpersBuildTheirCode) {
  EXPECT_EQ(invalid_argument("x").code(), Code::kInvalidArgument);
  EXPECT_EQ(not_found("x").code(), Code::kNotFound);
  EXPECT_EQ(already_exists("x").code(), Code::kAlreadyExists);
  EXPECT_EQ(failed_precondition("x").code(), Code::kFailedPrecondition);
  EXPECT_EQ(unavailable("x").code(), Code::kUnavailable);
  EXPECT_EQ(corruption("x").code(), Code::kCorruption);
  EXPECT_EQ(io_error("x").code(), Code::kIoError);
  EXPECT_EQ(io_error("disk full").message(), "disk full");
}

TEST(StatusTest, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(not_found("a"), not_found("a"));
  EXPECT_NE(not_found("a"), not_found("b"));
  EXPECT_NE(not_found("a"), invalid_argument("a"));
  EXPECT_NE(not_found("a"), Status());
}

TEST(StatusTest, CodeNames) {
  EXPECT_STREQ(code_name(Code::kOk), "OK");
  EXPECT_STREQ(code_name(Code::kInvalidArgument), "InvalidArgument");
  EXPECT_STREQ(code_name(Code::kNotFound), "NotFound");
  EXPECT_STREQ(code_name(Code::kAlreadyExists), "AlreadyExists");
  EXPECT_STREQ(code_name(Code::kFailedPrecondition), "FailedPrecondition");
  EXPECT_STREQ(code_name(Code::kUnavailable), "Unavailable");
  EXPECT_STREQ(code_name(Code::kCorruption), "Corruption");
  EXPECT_STREQ(code_name(Code::kIoError), "IoError");
  EXPECT_STREQ(code_name(static_cast<Code>(200)), "Unknown");
}

TEST(StatusTest, ToStringUsesCodeName) {
  EXPECT_EQ(corruption("bad crc at wal.log:3").to_string(), "Corruption: bad crc at wal.log:3");
  EXPECT_EQ(unavailable("down").to_string(), "Unavailable: down");
}

TEST(StatusDeathTest, ErrorStatusWithOkCodeAborts) {
  EXPECT_DEATH({ Status s(Code::kOk, "not an error"); (void)s; }, "MQ_CHECK");
}

TEST(ResultTest, HoldsValue) {
  Result<int> r(7);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(*r, 7);
  EXPECT_TRUE(r.status().ok());
  r.value() = 9;
  EXPECT_EQ(r.value(), 9);
}

TEST(ResultTest, ArrowReachesMembers) {
  const Result<std::string> r(std::string("abc"));
  EXPECT_EQ(r->size(), 3u);
}

TEST(ResultTest, MoveOutOfRvalue) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(ResultTest, HoldsError) {
  const Result<int> r(not_found("no such thing"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status(), not_found("no such thing"));
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  const Result<int> r(not_found("x"));
  EXPECT_DEATH((void)r.value(), "MQ_CHECK");
}

TEST(ResultDeathTest, BuiltFromOkStatusAborts) {
  EXPECT_DEATH({ Result<int> r{Status()}; (void)r; }, "Result built from an ok Status");
}

Status step(Status s, int* reached) {
  MQ_RETURN_IF_ERROR(s);
  ++*reached;
  return Status();
}

TEST(ReturnIfErrorTest, PropagatesErrorAndStopsThere) {
  int reached = 0;
  const Status s = step(io_error("EIO"), &reached);
  EXPECT_EQ(s, io_error("EIO"));
  EXPECT_EQ(reached, 0);
}

TEST(ReturnIfErrorTest, ContinuesOnOk) {
  int reached = 0;
  EXPECT_TRUE(step(Status(), &reached).ok());
  EXPECT_EQ(reached, 1);
}

Status two_steps(int* calls) {
  MQ_RETURN_IF_ERROR((++*calls, Status()));
  MQ_RETURN_IF_ERROR((++*calls, already_exists("dup")));
  MQ_RETURN_IF_ERROR((++*calls, Status()));
  return Status();
}

TEST(ReturnIfErrorTest, EvaluatesExpressionOnce) {
  int calls = 0;
  EXPECT_EQ(two_steps(&calls).code(), Code::kAlreadyExists);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace mq
