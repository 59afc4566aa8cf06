#include "live/history_writer.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace mq::live {
namespace {

constexpr uint64_t kFlushEvery = 256;

const char* type_name(EventType t) {
  return event_type_name(t);
}

std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string payload_to_json_value(std::string_view payload) {
  const size_t end = std::min(payload.find(' '), payload.size());
  const std::string_view digits = payload.substr(0, end);
  bool numeric = !digits.empty() && digits.size() <= 18 && (digits.size() == 1 || digits[0] != '0');
  for (char c : digits) numeric = numeric && c >= '0' && c <= '9';
  if (numeric) return std::string(digits);
  return json_string(payload);
}

Result<std::unique_ptr<HistoryWriter>> HistoryWriter::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return io_error("cannot write history " + path + ": " + std::strerror(errno));
  return std::unique_ptr<HistoryWriter>(new HistoryWriter(path, f));
}

HistoryWriter::HistoryWriter(std::string path, std::FILE* file)
    : path_(std::move(path)), file_(file), start_(std::chrono::steady_clock::now()) {
  start_unix_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
}

HistoryWriter::~HistoryWriter() {
  (void)close();
}

int64_t HistoryWriter::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_)
      .count();
}

void HistoryWriter::line(std::string_view body) {
  if (file_ == nullptr) return;
  std::string out = "{";
  out += body;
  out += ",\"time\":" + std::to_string(now_ns()) + ",\"index\":" + std::to_string(index_++) + "}\n";
  if (std::fwrite(out.data(), 1, out.size(), file_) != out.size()) write_failed_ = true;
  if (++counts_.lines % kFlushEvery == 0) std::fflush(file_);
}

void HistoryWriter::enqueue(int process, EventType type, uint64_t value, std::string_view error) {
  std::string body = "\"process\":" + std::to_string(process) + ",\"type\":\"" + type_name(type) +
                     "\",\"f\":\"enqueue\",\"value\":" + std::to_string(value);
  if (!error.empty()) body += ",\"error\":" + json_string(error);
  std::lock_guard lock(mu_);
  switch (type) {
    case EventType::kInvoke:
      break;
    case EventType::kOk:
      ++counts_.enqueue_ok;
      break;
    case EventType::kFail:
      ++counts_.enqueue_fail;
      break;
    case EventType::kInfo:
      ++counts_.enqueue_info;
      break;
  }
  line(body);
}

void HistoryWriter::dequeue_invoke(int process) {
  const std::string body =
      "\"process\":" + std::to_string(process) + ",\"type\":\"invoke\",\"f\":\"dequeue\"";
  std::lock_guard lock(mu_);
  line(body);
}

void HistoryWriter::dequeue(int process, EventType type, std::string_view value, uint32_t attempts,
                            std::string_view consumer, std::string_view error) {
  std::string body =
      "\"process\":" + std::to_string(process) + ",\"type\":\"" + type_name(type) + "\",\"f\":\"dequeue\"";
  if (type == EventType::kOk) {
    body += ",\"value\":" + payload_to_json_value(value) + ",\"consumer\":" + json_string(consumer);
    if (attempts > 0) body += ",\"attempts\":" + std::to_string(attempts);
  }
  if (!error.empty()) body += ",\"error\":" + json_string(error);
  std::lock_guard lock(mu_);
  switch (type) {
    case EventType::kInvoke:
      break;
    case EventType::kOk:
      ++counts_.dequeue_ok;
      break;
    case EventType::kFail:
      ++(error == "empty" ? counts_.dequeue_empty : counts_.dequeue_fail);
      break;
    case EventType::kInfo:
      ++counts_.dequeue_info;
      break;
  }
  line(body);
}

void HistoryWriter::nemesis(std::string_view f, std::string_view detail) {
  std::string body = "\"process\":\"nemesis\",\"type\":\"info\",\"f\":" + json_string(f);
  if (!detail.empty()) body += ",\"value\":" + json_string(detail);
  std::lock_guard lock(mu_);
  ++counts_.faults;
  line(body);
}

HistoryCounts HistoryWriter::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

Status HistoryWriter::close() {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) return Status();
  const bool flush_failed = std::fflush(file_) != 0;
  const bool close_failed = std::fclose(file_) != 0;
  file_ = nullptr;
  if (write_failed_ || flush_failed || close_failed) return io_error("writing history " + path_ + " failed");
  return Status();
}

}  // namespace mq::live
