// mqd beside redis-server used as a reliable queue, in one run, on loopback, with the
// same driver (hiredis) and the same workload: every message is published, fetched
// and acknowledged, 128-byte payloads, each connection on its own queue.
//
//   mqd:    SEND q id payload | FETCH c COUNT 1        | ACK c id
//   Redis:  LPUSH q payload   | LMOVE q q:proc RIGHT LEFT | LREM q:proc 1 payload
//
// Two durability classes: "none" (mqd non-durable queues; Redis without persistence)
// and "always" (mqd durable queues, --fsync always; Redis appendonly yes,
// appendfsync always). For 1 and 16 connections, pipelining 1 and 32: throughput
// (messages through the whole cycle per second) and the cycle's latency (the first
// publish of a pipelined batch sent -> the last ack of it answered), p50 and p99.
//
//   build-release/bench/resp_peer_bench [--messages N] [--mqd PATH] [--dir DIR]
//
// Both servers are started by the program on free ports under DIR (default: a temp
// directory) and stopped by pid at the end, also on failure.

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "resp_peer_bench: %s\n", why.c_str());
  std::exit(1);
}

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("cannot bind a probe socket");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A server process, killed by its pid when it goes out of scope.
class Server {
 public:
  Server(std::vector<std::string> argv, uint16_t port, std::string log) : port_(port) {
    std::fflush(stdout);  // the child must not print what the parent buffered
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      if (std::freopen(log.c_str(), "w", stderr) == nullptr || std::freopen(log.c_str(), "a", stdout) == nullptr) {
        ::_exit(126);
      }
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    // Bounded: 200 tries, 25 ms apart.
    for (int k = 0; k < 200; ++k) {
      redisContext* c = redisConnect("127.0.0.1", port_);
      const bool up = c != nullptr && c->err == 0;
      if (c != nullptr) redisFree(c);
      if (up) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    stop();
    die("server did not come up: " + argv[0] + " (log: " + log + ")");
  }
  ~Server() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_;
  pid_t pid_ = -1;
};

struct Target {
  std::string name;
  bool mqd = false;
};

struct Result {
  double msgs_per_s = 0;
  double p50_us = 0, p99_us = 0;
};

void expect(redisReply* r, const char* what) {
  if (r == nullptr) die(std::string("no answer to ") + what);
  if (r->type == REDIS_REPLY_ERROR) die(std::string(what) + ": " + std::string(r->str, r->len));
}

// One connection's share of the workload on queue `q`; latencies appended.
void run_connection(const Target& t, uint16_t port, int q, uint64_t messages, int pipeline,
                    std::vector<double>& latencies_us) {
  redisContext* c = redisConnect("127.0.0.1", port);
  if (c == nullptr || c->err != 0) die("cannot connect to " + t.name);
  const std::string queue = "q" + std::to_string(q), consumer = "c" + std::to_string(q);
  const std::string proc = queue + ":proc";
  std::vector<std::string> payloads(static_cast<size_t>(pipeline));
  for (uint64_t done = 0; done < messages;) {
    const int n = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(pipeline), messages - done));
    const auto start = Clock::now();
    for (int k = 0; k < n; ++k) {
      const uint64_t id = static_cast<uint64_t>(q) * 1'000'000'000ull + done + static_cast<uint64_t>(k);
      std::string& p = payloads[static_cast<size_t>(k)];
      p = std::to_string(id);
      p.resize(128, 'x');
      if (t.mqd) {
        const std::string ids = std::to_string(id);
        const char* argv[] = {"SEND", queue.c_str(), ids.c_str(), p.c_str()};
        const size_t lens[] = {4, queue.size(), ids.size(), p.size()};
        redisAppendCommandArgv(c, 4, argv, lens);
      } else {
        const char* argv[] = {"LPUSH", queue.c_str(), p.c_str()};
        const size_t lens[] = {5, queue.size(), p.size()};
        redisAppendCommandArgv(c, 3, argv, lens);
      }
    }
    void* r = nullptr;
    for (int k = 0; k < n; ++k) {
      if (redisGetReply(c, &r) != REDIS_OK) die("publish: connection failed");
      expect(static_cast<redisReply*>(r), "publish");
      freeReplyObject(r);
    }
    for (int k = 0; k < n; ++k) {
      if (t.mqd) {
        redisAppendCommand(c, "FETCH %s COUNT 1 BLOCK 5000", consumer.c_str());
      } else {
        redisAppendCommand(c, "LMOVE %s %s RIGHT LEFT", queue.c_str(), proc.c_str());
      }
    }
    std::vector<std::string> got;
    for (int k = 0; k < n; ++k) {
      if (redisGetReply(c, &r) != REDIS_OK) die("fetch: connection failed");
      auto* reply = static_cast<redisReply*>(r);
      expect(reply, "fetch");
      if (t.mqd) {
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1) die("FETCH came back empty");
        got.emplace_back(reply->element[0]->element[1]->str, reply->element[0]->element[1]->len);
      } else {
        if (reply->type != REDIS_REPLY_STRING) die("LMOVE came back empty");
        got.emplace_back(reply->str, reply->len);
      }
      freeReplyObject(r);
    }
    for (const std::string& g : got) {
      if (t.mqd) {
        const char* argv[] = {"ACK", consumer.c_str(), g.c_str()};
        const size_t lens[] = {3, consumer.size(), g.size()};
        redisAppendCommandArgv(c, 3, argv, lens);
      } else {
        const char* argv[] = {"LREM", proc.c_str(), "1", g.c_str()};
        const size_t lens[] = {4, proc.size(), 1, g.size()};
        redisAppendCommandArgv(c, 4, argv, lens);
      }
    }
    for (int k = 0; k < n; ++k) {
      if (redisGetReply(c, &r) != REDIS_OK) die("ack: connection failed");
      expect(static_cast<redisReply*>(r), "ack");
      freeReplyObject(r);
    }
    latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    done += static_cast<uint64_t>(n);
  }
  redisFree(c);
}

Result run(const Target& t, uint16_t port, int connections, int pipeline, uint64_t messages) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int k = 0; k < connections; ++k) {
    threads.emplace_back(run_connection, std::cref(t), port, k, messages / static_cast<uint64_t>(connections),
                         pipeline, std::ref(lat[static_cast<size_t>(k)]));
  }
  for (auto& th : threads) th.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.msgs_per_s = static_cast<double>(messages) / secs;
  r.p50_us = all.empty() ? 0 : all[all.size() / 2];
  r.p99_us = all.empty() ? 0 : all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return r;
}

std::string mqd_config(bool durable) {
  std::ostringstream s;
  s << R"({"queues": [)";
  for (int q = 0; q < 16; ++q) {
    s << (q ? "," : "") << R"({"name": "q)" << q << R"(", "capacity": 1000000, "durable": )"
      << (durable ? "true" : "false") << "}";
  }
  s << R"(], "consumers": [)";
  for (int q = 0; q < 16; ++q) s << (q ? "," : "") << R"({"name": "c)" << q << R"(", "queue": "q)" << q
                                 << R"(", "prefetch": 64})";
  s << "]}";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t messages = 32000;
  std::string mqd = MQ_MQD_BIN, dir;
  for (int k = 1; k + 1 < argc; k += 2) {
    const std::string a = argv[k];
    if (a == "--messages") {
      messages = std::stoull(argv[k + 1]);
    } else if (a == "--mqd") {
      mqd = argv[k + 1];
    } else if (a == "--dir") {
      dir = argv[k + 1];
    } else {
      die("unknown option " + a + " (--messages N, --mqd PATH, --dir DIR)");
    }
  }
  if (argc % 2 == 0) die("options come in pairs: --messages N, --mqd PATH, --dir DIR");
  if (std::system("command -v redis-server >/dev/null 2>&1") != 0) {
    die("redis-server is not installed (Debian package redis-server; scripts/setup.sh installs it)");
  }
  if (dir.empty()) dir = (fs::temp_directory_path() / ("mq_peer_bench_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::printf("resp_peer_bench: %llu messages per run, 128-byte payloads, publish+fetch+ack each\n",
              static_cast<unsigned long long>(messages));
  std::printf("%-7s %5s %4s | %12s %9s %9s | %12s %9s %9s | %6s\n", "class", "conns", "pipe", "mqd msg/s",
              "p50 us", "p99 us", "redis msg/s", "p50 us", "p99 us", "ratio");
  for (const bool durable : {false, true}) {
    const std::string cls = durable ? "always" : "none";
    for (const int conns : {1, 16}) {
      for (const int pipe : {1, 32}) {
        // Fresh servers per run: the same empty state for both.
        const std::string run_dir = dir + "/" + cls + "-" + std::to_string(conns) + "-" + std::to_string(pipe);
        fs::create_directories(run_dir + "/redis");
        std::ofstream(run_dir + "/mqd.json") << mqd_config(durable);
        Result m, r;
        {
          const uint16_t port = free_port();
          Server s({mqd, "--data", run_dir + "/mqd", "--listen", "127.0.0.1:" + std::to_string(port), "--config",
                    run_dir + "/mqd.json", "--fsync", durable ? "always" : "never"},
                   port, run_dir + "/mqd.log");
          m = run(Target{"mqd", true}, port, conns, pipe, messages);
        }
        {
          const uint16_t port = free_port();
          std::vector<std::string> args{"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
                                        "--dir", run_dir + "/redis", "--save", ""};
          if (durable) {
            args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
          } else {
            args.insert(args.end(), {"--appendonly", "no"});
          }
          Server s(args, port, run_dir + "/redis.log");
          r = run(Target{"redis", false}, port, conns, pipe, messages);
        }
        std::printf("%-7s %5d %4d | %12.0f %9.0f %9.0f | %12.0f %9.0f %9.0f | %6.2f\n", cls.c_str(), conns, pipe,
                    m.msgs_per_s, m.p50_us, m.p99_us, r.msgs_per_s, r.p50_us, r.p99_us, m.msgs_per_s / r.msgs_per_s);
        std::fflush(stdout);
      }
    }
  }
  fs::remove_all(dir);
  return 0;
}
