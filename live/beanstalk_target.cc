#include "live/beanstalk_target.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "live/process.h"

namespace mq::live {
namespace {

constexpr const char* kTube = "mq-live";
constexpr size_t kMaxReplyLine = 1024;
constexpr size_t kMaxJobBytes = 65535;  // beanstalkd's default -z
constexpr int kMaxIoRounds = 100'000;

using Clock = std::chrono::steady_clock;

// One connection with deadline-bounded writes and reads of lines and bodies.
class BeanstalkClient final : public TargetClient {
 public:
  BeanstalkClient(Endpoint endpoint, ClientOptions options)
      : endpoint_(std::move(endpoint)), options_(std::move(options)) {}
  ~BeanstalkClient() override { disconnect(); }

  Outcome connect() override;
  bool connected() const override { return fd_ >= 0; }
  void disconnect() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }
  Outcome publish(const std::string& value) override;
  Fetch fetch() override;
  Outcome ack(const Delivery& delivery) override;

 private:
  // Sends `request`, reads one reply line; the outcome against `expected`. A lost
  // connection or a timeout drops the connection.
  std::pair<Outcome, std::string> request(const std::string& request, std::string_view expected);
  bool send_all(const std::string& data, Clock::time_point deadline);
  std::optional<std::string> read_line(Clock::time_point deadline);
  std::optional<std::string> read_bytes(size_t n, Clock::time_point deadline);
  bool fill(Clock::time_point deadline);
  uint32_t reserves(const std::string& id);

  Endpoint endpoint_;
  ClientOptions options_;
  int fd_ = -1;
  std::string buffer_;
};

Outcome BeanstalkClient::connect() {
  disconnect();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return Outcome::fail(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(endpoint_.port);
  ::inet_pton(AF_INET, endpoint_.host.c_str(), &addr.sin_addr);
  int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd_, POLLOUT, 0};
    int err = ETIMEDOUT;
    if (::poll(&p, 1, static_cast<int>(options_.op_timeout.count())) == 1) {
      socklen_t len = sizeof(err);
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    rc = err == 0 ? 0 : -1;
    errno = err;
  }
  if (rc != 0) {
    const std::string why = std::string("connect: ") + std::strerror(errno);
    disconnect();
    return Outcome::fail(why);
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const std::string tube = kTube;
  auto [used, l1] = request("use " + tube + "\r\n", "USING");
  if (!used.is_ok()) return disconnect(), used;
  auto [watched, l2] = request("watch " + tube + "\r\n", "WATCHING");
  if (!watched.is_ok()) return disconnect(), watched;
  auto [ignored, l3] = request("ignore default\r\n", "WATCHING");
  if (!ignored.is_ok()) return disconnect(), ignored;
  return Outcome::ok();
}

bool BeanstalkClient::send_all(const std::string& data, Clock::time_point deadline) {
  size_t done = 0;
  for (int i = 0; i < kMaxIoRounds && done < data.size(); ++i) {
    const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd_, POLLOUT, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) return false;
  }
  return done == data.size();
}

bool BeanstalkClient::fill(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  pollfd p{fd_, POLLIN, 0};
  if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) return false;
  char buf[4096];
  const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR);
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<std::string> BeanstalkClient::read_line(Clock::time_point deadline) {
  for (int i = 0; i < kMaxIoRounds; ++i) {
    const size_t end = buffer_.find("\r\n");
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return line;
    }
    if (buffer_.size() > kMaxReplyLine || !fill(deadline)) return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> BeanstalkClient::read_bytes(size_t n, Clock::time_point deadline) {
  for (int i = 0; i < kMaxIoRounds && buffer_.size() < n + 2; ++i) {
    if (!fill(deadline)) return std::nullopt;
  }
  if (buffer_.size() < n + 2 || buffer_.compare(n, 2, "\r\n") != 0) return std::nullopt;
  std::string body = buffer_.substr(0, n);
  buffer_.erase(0, n + 2);
  return body;
}

std::pair<Outcome, std::string> BeanstalkClient::request(const std::string& req, std::string_view expected) {
  if (fd_ < 0) return {Outcome::fail("not connected"), ""};
  const auto deadline = Clock::now() + options_.op_timeout;
  if (!send_all(req, deadline)) {
    disconnect();
    return {Outcome::info("send failed or timed out"), ""};
  }
  auto line = read_line(deadline);
  if (!line) {
    disconnect();
    return {Outcome::info("no reply (timeout or connection closed)"), ""};
  }
  return {beanstalk_outcome(*line, expected), *line};
}

Outcome BeanstalkClient::publish(const std::string& value) {
  const int ttr_s = std::max<int>(1, static_cast<int>(options_.redeliver_after.count() / 1000));
  return request("put 0 0 " + std::to_string(ttr_s) + " " + std::to_string(value.size()) + "\r\n" + value +
                     "\r\n",
                 "INSERTED")
      .first;
}

uint32_t BeanstalkClient::reserves(const std::string& id) {
  auto [out, line] = request("stats-job " + id + "\r\n", "OK");
  if (!out.is_ok()) return 0;
  const size_t n = std::stoul(line.substr(3));
  auto yaml = read_bytes(n, Clock::now() + options_.op_timeout);
  if (!yaml) {
    disconnect();
    return 0;
  }
  const size_t at = yaml->find("\nreserves: ");
  if (at == std::string::npos) return 0;
  return static_cast<uint32_t>(std::stoul(yaml->substr(at + 11)));
}

Fetch BeanstalkClient::fetch() {
  auto [out, line] = request("reserve-with-timeout 0\r\n", "RESERVED");
  if (line == "TIMED_OUT" || line == "DEADLINE_SOON") {
    std::this_thread::sleep_for(options_.fetch_wait);  // what a blocking reserve would have waited
    return {Outcome::fail(kEmpty), std::nullopt};
  }
  if (!out.is_ok()) return {out, std::nullopt};
  // RESERVED <id> <bytes>
  const size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) {
    disconnect();
    return {Outcome::info("malformed RESERVED line: " + line), std::nullopt};
  }
  const std::string id = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t bytes = std::stoul(line.substr(sp2 + 1));
  auto body = bytes <= kMaxJobBytes ? read_bytes(bytes, Clock::now() + options_.op_timeout) : std::nullopt;
  if (!body) {
    disconnect();
    return {Outcome::info("job body lost (timeout or connection closed)"), std::nullopt};
  }
  Delivery d{*body, 0, id};
  d.attempts = reserves(id);
  return {Outcome::ok(), d};
}

Outcome BeanstalkClient::ack(const Delivery& delivery) {
  return request("delete " + delivery.receipt + "\r\n", "DELETED").first;
}

}  // namespace

Outcome beanstalk_outcome(std::string_view line, std::string_view expected) {
  const std::string_view word = line.substr(0, line.find(' '));
  if (word == expected) return Outcome::ok();
  if (word == "BURIED") return Outcome::info("buried (stored, not reservable until kicked)");
  if (word == "OUT_OF_MEMORY" || word == "INTERNAL_ERROR" || word == "DRAINING" || word == "BAD_FORMAT" ||
      word == "JOB_TOO_BIG" || word == "EXPECTED_CRLF" || word == "UNKNOWN_COMMAND" || word == "NOT_FOUND" ||
      word == "TIMED_OUT" || word == "DEADLINE_SOON") {
    return Outcome::fail(std::string(line));
  }
  return Outcome::info("unexpected reply: " + std::string(line));
}

std::optional<BeanstalkDurability> BeanstalkTarget::parse(const std::string& config) {
  if (config == "no-binlog") return BeanstalkDurability::kNone;
  if (config == "binlog") return BeanstalkDurability::kBinlog;
  if (config == "binlog-fsync-always") return BeanstalkDurability::kBinlogFsyncAlways;
  return std::nullopt;
}

std::string BeanstalkTarget::config() const {
  switch (durability_) {
    case BeanstalkDurability::kNone:
      return "no-binlog";
    case BeanstalkDurability::kBinlog:
      return "binlog";
    case BeanstalkDurability::kBinlogFsyncAlways:
      return "binlog-fsync-always";
  }
  return "?";
}

std::string BeanstalkTarget::describe() const {
  const std::string base =
      "put / reserve / delete on one tube (text protocol client of our own: no C client in "
      "Debian); ";
  switch (durability_) {
    case BeanstalkDurability::kNone:
      return base + "no binlog";
    case BeanstalkDurability::kBinlog:
      return base + "-b binlog, fsync at most every 50 ms (default)";
    case BeanstalkDurability::kBinlogFsyncAlways:
      return base + "-b binlog -f0 (fsync before the reply)";
  }
  return base;
}

std::string BeanstalkTarget::version() const {
  auto v = capture_command({"beanstalkd", "-v"}, std::chrono::milliseconds(5000));
  if (!v.ok()) return "beanstalkd (version unknown)";
  std::string s = *v;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::optional<std::string> BeanstalkTarget::unavailable() const {
  if (!capture_command({"beanstalkd", "-v"}, std::chrono::milliseconds(5000)).ok()) {
    return "beanstalkd is not installed (scripts/setup.sh installs it)";
  }
  return std::nullopt;
}

Launch BeanstalkTarget::launch(const LaunchContext& ctx) const {
  Launch l;
  l.argv = {"beanstalkd", "-l", ctx.bind_host, "-p", std::to_string(ctx.port)};
  switch (durability_) {
    case BeanstalkDurability::kNone:
      break;
    case BeanstalkDurability::kBinlog:
      l.argv.insert(l.argv.end(), {"-b", ctx.data_dir});
      break;
    case BeanstalkDurability::kBinlogFsyncAlways:
      l.argv.insert(l.argv.end(), {"-b", ctx.data_dir, "-f", "0"});
      break;
  }
  return l;
}

std::unique_ptr<TargetClient> BeanstalkTarget::client(const Endpoint& endpoint,
                                                      const ClientOptions& options) const {
  return std::make_unique<BeanstalkClient>(endpoint, options);
}

Claim BeanstalkTarget::claim(FaultKind fault) const {
  const bool restart = fault == FaultKind::kKill || fault == FaultKind::kPowerLoss;
  switch (durability_) {
    case BeanstalkDurability::kNone:
      if (restart) return {false, "no binlog: a restarted server starts empty"};
      return {true, "jobs stay in memory through a pause, a partition or a disk fault"};
    case BeanstalkDurability::kBinlog:
      if (fault == FaultKind::kPowerLoss)
        return {false, "the binlog is fsynced at most every 50 ms, after the reply"};
      return {true, "the binlog is written before the reply; the page cache survives a kill"};
    case BeanstalkDurability::kBinlogFsyncAlways:
      return {true, "-f0: the binlog is fsynced before the reply"};
  }
  return {true, ""};
}

}  // namespace mq::live
