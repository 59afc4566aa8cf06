#pragma once
// Status and Result<T>: expected failures as values (bad input, a full queue seen
// as an error by a caller, corruption on disk). Unexpected failures are MQ_CHECKs.
//
// A Status is ok() or carries a Code and a message written for the user: it names
// the thing (queue, consumer, message id, file and line) that was wrong.

#include <string>
#include <utility>
#include <variant>

#include "base/check.h"

namespace mq {

enum class Code {
  kOk,
  kInvalidArgument,     // malformed input: capacity 0, priority out of range, ...
  kNotFound,            // unknown queue, consumer, producer, topic, message
  kAlreadyExists,       // duplicate message id, duplicate name
  kFailedPrecondition,  // operation not allowed in this state (ack of a message not in flight)
  kUnavailable,         // the broker is down (crashed, not yet recovered)
  kCorruption,          // a record failed its checksum, a file is malformed
  kIoError,             // the storage refused (ENOSPC, EIO)
};

const char* code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {
    MQ_CHECK(code != Code::kOk);
  }

  static Status ok_status() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: unknown queue 'orders'"
  std::string to_string() const;

  friend bool operator==(const Status&, const Status&) = default;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return {Code::kInvalidArgument, std::move(m)};
}
inline Status not_found(std::string m) {
  return {Code::kNotFound, std::move(m)};
}
inline Status already_exists(std::string m) {
  return {Code::kAlreadyExists, std::move(m)};
}
inline Status failed_precondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status unavailable(std::string m) {
  return {Code::kUnavailable, std::move(m)};
}
inline Status corruption(std::string m) {
  return {Code::kCorruption, std::move(m)};
}
inline Status io_error(std::string m) {
  return {Code::kIoError, std::move(m)};
}

// Result<T>: a T or a non-ok Status. REQUIRES: value() only when ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    MQ_CHECK_MSG(!std::get<Status>(v_).ok(), "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& {
    MQ_CHECK(ok());
    return std::get<T>(v_);
  }
  T& value() & {
    MQ_CHECK(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    MQ_CHECK(ok());
    return std::get<T>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

inline const char* code_name(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kNotFound:
      return "NotFound";
    case Code::kAlreadyExists:
      return "AlreadyExists";
    case Code::kFailedPrecondition:
      return "FailedPrecondition";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kCorruption:
      return "Corruption";
    case Code::kIoError:
      return "IoError";
  }
  return "Unknown";
}

inline std::string Status::to_string() const {
  if (ok()) return "OK";
  return std::string(code_name(code_)) + ": " + message_;
}

}  // namespace mq

// Propagates a non-ok Status to the caller.
#define MQ_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::mq::Status mq_status_ = (expr);        \
    if (!mq_status_.ok()) return mq_status_; \
  } while (0)
