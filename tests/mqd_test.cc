// The daemon for real: each test starts the built mqd on 127.0.0.1 (port 0: the
// kernel picks a free one, mqd prints it) with a fresh data directory, talks to it
// through the client library (impl/client.h), redis-cli or a raw socket, and always
// stops it by its pid (the fixture's destructor kills what is still running).
// Covered: the whole command set, redis-cli, SIGKILL mid-load with the recorded
// history judged by Jepsen's total-queue checker (nothing confirmed lost), SIGTERM,
// and every kind of bad input the server must survive while serving the others.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "impl/client.h"
#include "properties/checkers/jepsen_queue.h"
#include "temp_dir.h"

namespace mq::impl {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string temp_dir(const std::string& tag) { return mq::test::fresh_temp_dir("mqd_test", tag); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One mqd process; stopped by its pid when the object goes, whatever happened.
class Mqd {
 public:
  Mqd(std::string dir, std::vector<std::string> extra = {}) : dir_(std::move(dir)), extra_(std::move(extra)) {
    start();
  }
  ~Mqd() {
    kill9();
    // The daemon's own account of a failed test.
    if (::testing::Test::HasFailure()) std::fprintf(stderr, "mqd's log (%s):\n%s\n", log_.c_str(), log().c_str());
  }

  void start(uint16_t port = 0) {
    log_ = dir_ + "/mqd.log." + std::to_string(++starts_);
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string listen = "127.0.0.1:" + std::to_string(port);
      std::vector<std::string> args{MQ_MQD_BIN, "--data", dir_ + "/data", "--listen", listen};
      args.insert(args.end(), extra_.begin(), extra_.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    // Bounded: 200 polls of 25 ms for the line that names the port.
    for (int k = 0; k < 200; ++k) {
      const std::string text = read_file(log_);
      const size_t at = text.find("listening on 127.0.0.1:");
      if (at != std::string::npos) {
        port_ = static_cast<uint16_t>(std::stoi(text.substr(at + 23)));
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(25ms);
    }
    FAIL() << "mqd did not start: " << read_file(log_);
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // SIGTERM and the exit status (-1: not within 10 s, then killed).
  int term() {
    ::kill(pid_, SIGTERM);
    for (int k = 0; k < 400; ++k) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(25ms);
    }
    kill9();
    return -1;
  }
  void restart() {
    kill9();
    start(port_);
  }
  bool alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const { return read_file(log_); }
  Client client() const {
    auto c = Client::connect("127.0.0.1", port_, 5000ms);
    if (!c.ok()) std::fprintf(stderr, "mqd's log (%s):\n%s\n", log_.c_str(), log().c_str());
    MQ_CHECK_MSG(c.ok(), c.status().to_string().c_str());
    return std::move(c).value();
  }
  uint64_t rss_kb() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    }
    return 0;
  }

 private:
  std::string dir_;
  std::vector<std::string> extra_;
  std::string log_;
  int starts_ = 0;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// A raw TCP connection, for what a well-behaved client would never send.
class Raw {
 public:
  explicit Raw(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Raw() {
    if (fd_ >= 0) ::close(fd_);
  }
  Raw(Raw&& o) noexcept : fd_(std::exchange(o.fd_, -1)), ok_(o.ok_) {}
  bool ok() const { return ok_; }
  bool send(std::string_view s) { return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size()); }
  // Reads until `want` has come, the peer closed, or 2 s passed.
  std::string read_until(std::string_view want, bool* closed = nullptr) {
    std::string got;
    char buf[4096];
    for (int k = 0; k < 1000; ++k) {
      if (got.find(want) != std::string::npos) break;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      // A close with bytes still unread by the server arrives as a reset.
      if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        if (closed != nullptr) *closed = true;
        break;
      }
      if (n < 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  // Unblocks a thread stuck sending on it.
  void shut() { ::shutdown(fd_, SHUT_RDWR); }
  bool closed_by_peer() {
    bool closed = false;
    read_until("\x01never", &closed);
    return closed;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// The outcome of a send, or a test failure naming the error (never an abort, so the
// fixture can print the daemon's log).
std::string sent(const Result<SendOutcome>& r) {
  return r.ok() ? send_outcome_name(*r) : "error: " + r.status().to_string();
}

SendOptions priority(uint32_t p) {
  SendOptions o;
  o.priority = p;
  return o;
}

// ---- the command set ----

TEST(Mqd, ServesTheModelOverResp) {
  Mqd mqd(temp_dir(""));
  Client c = mqd.client();
  ASSERT_TRUE(c.ping().ok());
  EXPECT_EQ(sent(c.send("work", 1, "one")), "stored");
  EXPECT_EQ(sent(c.send("work", 1, "one")), "duplicate");  // idempotent publish
  EXPECT_EQ(sent(c.send("urgent", 2, "low", priority(1))), "stored");
  EXPECT_EQ(sent(c.send("urgent", 3, "high", priority(9))), "stored");
  auto topic = c.publish("events", 4, "ev");
  ASSERT_TRUE(topic.ok()) << topic.status().to_string();
  EXPECT_EQ(topic->size(), 2u);
  auto got = c.fetch("urgent-1", 5);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  ASSERT_EQ(got->size(), 1u);  // prefetch 1
  EXPECT_EQ((*got)[0].id, 3u);  // the higher priority first
  EXPECT_EQ((*got)[0].attempts, 1u);
  EXPECT_TRUE(c.nack("urgent-1", 3, true).ok());
  got = c.fetch("urgent-1", 1, 2000);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].id, 3u);
  EXPECT_EQ((*got)[0].attempts, 2u);  // a redelivery, marked
  EXPECT_TRUE(c.ack("urgent-1", 3).ok());
  EXPECT_EQ(c.ack("urgent-1", 3).code(), Code::kFailedPrecondition);  // NOTHELD
  auto stats = c.qstats("urgent");
  ASSERT_TRUE(stats.ok());
  std::map<std::string, std::string> s(stats->begin(), stats->end());
  EXPECT_EQ(s["acked"], "1");
  EXPECT_EQ(s["redeliveries"], "1");
  auto info = c.info();
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->find("fsync:always"), std::string::npos);
  EXPECT_NE(info->find("state:up"), std::string::npos);
}

TEST(Mqd, AFullQueueRefusesAndSaysSo) {
  const std::string dir = temp_dir("");
  std::ofstream(dir + "/small.json") << R"({"queues": [{"name": "q", "capacity": 2}],
    "consumers": [{"name": "c", "queue": "q"}]})";
  Mqd mqd(dir, {"--config", dir + "/small.json"});
  Client c = mqd.client();
  EXPECT_EQ(sent(c.send("q", 1, "a")), "stored");
  EXPECT_EQ(sent(c.send("q", 2, "b")), "stored");
  EXPECT_EQ(sent(c.send("q", 3, "c")), "full");
}

TEST(Mqd, ABadConfigIsNamedAndRefused) {
  const std::string dir = temp_dir("");
  std::ofstream(dir + "/bad.json") << R"({"queues": [{"name": "q", "capacity": 0}]})";
  const std::string cmd = std::string(MQ_MQD_BIN) + " --data " + dir + "/d --config " + dir + "/bad.json 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512] = {};
  const size_t n = fread(buf, 1, sizeof buf - 1, p);
  const int st = ::pclose(p);
  EXPECT_EQ(WEXITSTATUS(st), 2);
  EXPECT_NE(std::string(buf, n).find("capacity must be > 0"), std::string::npos) << buf;
}

TEST(Mqd, RedisCliTalksToIt) {
  if (::system("command -v redis-cli >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "redis-cli is not installed (Debian package redis-tools; scripts/setup.sh installs it)";
  }
  Mqd mqd(temp_dir(""));
  auto run = [&](const std::string& args) {
    const std::string cmd = "redis-cli -p " + std::to_string(mqd.port()) + " " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[256];
    while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
    if (p != nullptr) ::pclose(p);
    return out;
  };
  EXPECT_EQ(run("PING"), "PONG\n");
  EXPECT_EQ(run("SEND work 77 hello"), "STORED\n");
  const std::string fetched = run("FETCH worker-1");
  EXPECT_NE(fetched.find("hello"), std::string::npos) << fetched;
  EXPECT_NE(run("FLUSHALL").find("unknown command"), std::string::npos);
}

// ---- SIGKILL mid-load: nothing confirmed is lost ----

class History {
 public:
  void add(const std::string& process, const char* type, const char* f, const std::string& value) {
    std::lock_guard<std::mutex> lk(mu_);
    JepsenOp op;
    op.process = process;
    op.type = std::string(type) == "invoke" ? EventType::kInvoke
              : std::string(type) == "ok"   ? EventType::kOk
              : std::string(type) == "fail" ? EventType::kFail
                                            : EventType::kInfo;
    op.f = f;
    if (!value.empty()) op.value = value;
    checker_.add(op);
  }
  TotalQueueReport finish() {
    std::lock_guard<std::mutex> lk(mu_);
    return checker_.finish();
  }

 private:
  std::mutex mu_;
  TotalQueueChecker checker_;
};

TEST(Mqd, SigkillMidLoadLosesNothingConfirmed) {
  const std::string dir = temp_dir("");
  // Retries enough that no redelivery after the kills ends in a dead-letter queue.
  std::ofstream(dir + "/work.json") << R"({"queues": [{"name": "work", "capacity": 100000, "durable": true,
    "max_retries": 1000}], "consumers": [{"name": "worker-1", "queue": "work", "prefetch": 8},
    {"name": "worker-2", "queue": "work", "prefetch": 8}, {"name": "worker-3", "queue": "work", "prefetch": 8},
    {"name": "worker-4", "queue": "work", "prefetch": 8}]})";
  Mqd mqd(dir, {"--config", dir + "/work.json"});
  History h;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> confirmed{0};
  constexpr uint64_t kPerProducer = 400;
  auto producer = [&](int p) {
    std::optional<Client> c;
    for (uint64_t k = 0; k < kPerProducer && !stop; ++k) {
      const uint64_t id = uint64_t(p) * 1'000'000 + k;
      const std::string v = std::to_string(id);
      h.add("p" + std::to_string(p), "invoke", "enqueue", v);
      if (!c) {
        auto x = Client::connect("127.0.0.1", mqd.port(), 2000ms);
        if (x.ok()) c.emplace(std::move(x).value());
      }
      auto r = c ? c->send("work", id, v) : Result<SendOutcome>(io_error("no connection"));
      if (r.ok() && (*r == SendOutcome::kStored || *r == SendOutcome::kDuplicate)) {
        h.add("p" + std::to_string(p), "ok", "enqueue", v);
        ++confirmed;
      } else if (r.ok()) {
        h.add("p" + std::to_string(p), "fail", "enqueue", v);
      } else {
        h.add("p" + std::to_string(p), "info", "enqueue", v);  // unknown: the connection failed
        c.reset();
        std::this_thread::sleep_for(20ms);
      }
    }
  };
  auto consumer = [&](const std::string& name, bool draining) {
    std::optional<Client> c;
    const auto until = Clock::now() + (draining ? 10s : 60s);
    int empty = 0;
    // Bounded by time, and while draining by consecutive empty fetches.
    while (Clock::now() < until && (draining ? empty < 3 : !stop.load())) {
      if (!c) {
        auto x = Client::connect("127.0.0.1", mqd.port(), 2000ms);
        if (!x.ok()) {
          std::this_thread::sleep_for(20ms);
          continue;
        }
        c.emplace(std::move(x).value());
      }
      auto got = c->fetch(name, 8, 200);
      if (!got.ok()) {
        c.reset();
        continue;
      }
      empty = got->empty() ? empty + 1 : 0;
      // A message is dequeued when it comes out (Jepsen's dequeue); an ack whose
      // answer is lost may leave it to come out again (a duplicate, not a loss).
      for (const auto& d : *got) {
        h.add(name, "invoke", "dequeue", "");
        h.add(name, "ok", "dequeue", d.payload);
      }
      for (const auto& d : *got) {
        if (!c->ack(name, d.id).ok()) {
          c.reset();
          break;
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int p = 0; p < 3; ++p) threads.emplace_back(producer, p);
  threads.emplace_back(consumer, "worker-1", false);
  threads.emplace_back(consumer, "worker-2", false);
  // Kill it twice while the load runs; restart on the same port.
  for (int kills = 0; kills < 2; ++kills) {
    const auto deadline = Clock::now() + 10s;
    const uint64_t at = confirmed + 150;
    while (confirmed < at && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
    mqd.restart();
  }
  for (int p = 0; p < 3; ++p) threads[size_t(p)].join();
  stop = true;
  threads[3].join();
  threads[4].join();
  std::thread drain1(consumer, "worker-3", true), drain2(consumer, "worker-4", true);
  drain1.join();
  drain2.join();
  const TotalQueueReport r = h.finish();
  EXPECT_GT(r.acknowledged_count, 300u);
  EXPECT_EQ(r.lost_count, 0u) << to_string(r);
  EXPECT_EQ(r.unexpected_count, 0u) << to_string(r);
}

TEST(Mqd, SigtermShutsDownCleanlyAndKeepsEverything) {
  Mqd mqd(temp_dir(""));
  {
    Client c = mqd.client();
    for (uint64_t id = 1; id <= 50; ++id) ASSERT_EQ(sent(c.send("work", id, "x")), "stored");
  }
  EXPECT_EQ(mqd.term(), 0) << mqd.log();
  mqd.start(mqd.port());
  Client c = mqd.client();
  auto stats = c.qstats("work");
  ASSERT_TRUE(stats.ok());
  std::map<std::string, std::string> s(stats->begin(), stats->end());
  EXPECT_EQ(s["size"], "50");
}

// ---- bad input ----

TEST(Mqd, MalformedRespIsAnsweredAndClosedWhileOthersAreServed) {
  Mqd mqd(temp_dir(""));
  Client good = mqd.client();
  ASSERT_EQ(sent(good.send("work", 1, "kept")), "stored");
  for (const std::string bad : {"PING\r\n", "*1\r\n:5\r\n", "*2\r\n$4\r\nPING\r\n*1\r\n$1\r\nx\r\n", "*-5\r\n"}) {
    Raw raw(mqd.port());
    ASSERT_TRUE(raw.ok());
    raw.send(bad);
    bool closed = false;
    const std::string got = raw.read_until("\r\n", &closed);
    EXPECT_EQ(got.rfind("-ERR Protocol error", 0), 0u) << bad << " -> " << got;
    EXPECT_TRUE(raw.closed_by_peer()) << bad;
    EXPECT_TRUE(good.ping().ok());
  }
  auto kept = good.fetch("worker-1");
  ASSERT_TRUE(kept.ok()) << kept.status().to_string();
  EXPECT_EQ(kept->size(), 1u);
}

TEST(Mqd, CommandErrorsAreRepliesAndTheConnectionGoesOn) {
  Mqd mqd(temp_dir(""));
  Client c = mqd.client();
  EXPECT_NE(c.raw({"NOPE"})->find("unknown command"), std::string::npos);
  EXPECT_NE(c.raw({"SEND", "work"})->find("wrong number of arguments"), std::string::npos);
  EXPECT_NE(c.raw({"SEND", "work", "x1", "p"})->find("must be an integer"), std::string::npos);
  EXPECT_NE(c.raw({"FETCH", "worker-1", "COUNT", "99999999999999999999"})->find("must be an integer"),
            std::string::npos);
  EXPECT_NE(c.raw({"SEND", "nowhere", "1", "p"})->find("unknown queue"), std::string::npos);
  EXPECT_TRUE(c.ping().ok());
}

TEST(Mqd, AHugeBulkLengthIsRefusedWithoutHoldingIt) {
  Mqd mqd(temp_dir(""), {"--max-request-bytes", "1048576"});
  Client good = mqd.client();
  const uint64_t before = mqd.rss_kb();
  Raw raw(mqd.port());
  raw.send("*3\r\n$4\r\nECHO\r\n$1000000000\r\n");
  const std::string chunk(64 * 1024, 'x');
  for (int k = 0; k < 64 && raw.send(chunk); ++k) {
  }
  const std::string got = raw.read_until("\r\n");
  EXPECT_NE(got.find("exceeds 1048576 bytes"), std::string::npos) << got;
  EXPECT_TRUE(raw.closed_by_peer());
  EXPECT_TRUE(good.ping().ok());
  EXPECT_LT(mqd.rss_kb(), before + 32 * 1024) << "kB";
}

TEST(Mqd, HalfARequestThenSilenceIsClosed) {
  Mqd mqd(temp_dir(""), {"--partial-timeout-ms", "300"});
  Client good = mqd.client();
  Raw raw(mqd.port());
  raw.send("*2\r\n$4\r\nPING\r\n$10\r\nabc");
  EXPECT_TRUE(good.ping().ok());  // served meanwhile
  const std::string got = raw.read_until("\r\n");
  EXPECT_NE(got.find("request incomplete for 300 ms"), std::string::npos) << got;
  EXPECT_TRUE(raw.closed_by_peer());
}

TEST(Mqd, BeyondMaxClientsANewConnectionIsToldAndClosed) {
  Mqd mqd(temp_dir(""), {"--max-clients", "3"});
  std::vector<Raw> held;
  for (int k = 0; k < 3; ++k) {
    held.emplace_back(mqd.port());
    held.back().send("*1\r\n$4\r\nPING\r\n");
    EXPECT_EQ(held.back().read_until("\r\n"), "+PONG\r\n");
  }
  Raw extra(mqd.port());
  EXPECT_EQ(extra.read_until("\r\n"), "-ERR max number of clients reached\r\n");
  EXPECT_TRUE(extra.closed_by_peer());
  held.pop_back();
  std::this_thread::sleep_for(100ms);
  Client c = mqd.client();  // room again
  EXPECT_TRUE(c.ping().ok());
}

TEST(Mqd, TenThousandConnectionsAtOnce) {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = std::min<rlim_t>(r.rlim_max, 20000);
  ::setrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < 10100) {
    GTEST_SKIP() << "the hard limit on open files is " << r.rlim_max << ": 10,000 connections need about 10,100";
  }
  Mqd mqd(temp_dir(""), {"--max-clients", "10050"});
  std::vector<Raw> conns;
  conns.reserve(10000);
  for (int k = 0; k < 10000; ++k) {
    conns.emplace_back(mqd.port());
    if (!conns.back().ok()) break;
  }
  ASSERT_EQ(conns.size(), 10000u);
  size_t ok = 0;
  for (auto& c : conns) c.send("*1\r\n$4\r\nPING\r\n");
  for (auto& c : conns) ok += c.read_until("\r\n") == "+PONG\r\n";
  EXPECT_EQ(ok, 10000u);
  Client c = mqd.client();
  EXPECT_EQ(sent(c.send("work", 1, "still served")), "stored");
}

TEST(Mqd, AClientThatNeverReadsCannotGrowTheServer) {
  Mqd mqd(temp_dir(""));
  Client good = mqd.client();
  ASSERT_EQ(sent(good.send("work", 1, "kept")), "stored");
  Raw greedy(mqd.port());
  // ECHO of 64 KiB, 40,000 times: 2.6 GB of answers it never reads.
  const std::string payload(64 * 1024, 'e');
  const std::string req = "*2\r\n$4\r\nECHO\r\n$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int k = 0; k < 40000 && !done; ++k) {
      if (!greedy.send(req)) break;  // blocks once the server stops reading it
    }
  });
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(good.ping().ok());
  auto kept = good.fetch("worker-1");
  ASSERT_TRUE(kept.ok()) << kept.status().to_string();
  EXPECT_EQ(kept->size(), 1u);
  EXPECT_LT(mqd.rss_kb(), 400u * 1024) << "kB: the server buffered what the client does not read";
  done = true;
  greedy.shut();
  writer.join();
  EXPECT_TRUE(mqd.alive());
}

}  // namespace
}  // namespace mq::impl
