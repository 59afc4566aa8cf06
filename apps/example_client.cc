// mq_client_example: the seed's task queue over the network. It talks to a running
// mqd through the project's client library (impl/client.h), or, without --port,
// starts a daemon in this process on a free port of 127.0.0.1 (impl/daemon.h) over
// a fresh data directory and talks to that. Tasks go to the built-in configuration's
// durable queue "work"; two workers fetch, process and ack them, one task fails
// twice and succeeds on its third delivery (attempts counts them), and the queue's
// statistics are printed at the end.
//
// Usage: mq_client_example [--port P]

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>

#include "apps/mqd_config.h"
#include "impl/client.h"
#include "impl/daemon.h"

namespace {

using mq::impl::Client;

int fail(const std::string& what, const mq::Status& s) {
  std::fprintf(stderr, "mq_client_example: %s: %s\n", what.c_str(), s.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  uint16_t port = 0;
  if (argc == 3 && std::strcmp(argv[1], "--port") == 0) port = static_cast<uint16_t>(std::atoi(argv[2]));
  std::unique_ptr<mq::impl::Daemon> daemon;
  std::thread loop;
  const auto dir = std::filesystem::temp_directory_path() / ("mq_client_example_" + std::to_string(::getpid()));
  if (port == 0) {
    mq::impl::DaemonOptions o;
    o.config = *mq::app::broker_config_from_json_text(mq::app::default_broker_config_json(), "(built-in)");
    o.data_dir = dir.string();
    o.port = 0;
    o.log = [](const std::string& line) { std::printf("  [mqd] %s\n", line.c_str()); };
    auto d = mq::impl::Daemon::open(std::move(o));
    if (!d.ok()) return fail("starting the daemon", d.status());
    daemon = std::move(d).value();
    port = daemon->port();
    loop = std::thread([&] { daemon->run(); });
  }
  auto connect = [&]() { return Client::connect("127.0.0.1", port); };
  auto connected = connect();
  if (!connected.ok()) return fail("connecting", connected.status());
  Client producer = std::move(connected).value();
  for (uint64_t id = 1; id <= 6; ++id) {
    auto r = producer.send("work", id, "task " + std::to_string(id));
    if (!r.ok()) return fail("SEND", r.status());
    std::printf("task %llu: %s\n", static_cast<unsigned long long>(id), mq::impl::send_outcome_name(*r));
  }
  auto again = producer.send("work", 3, "task 3");  // a producer's retry: idempotent
  std::printf("task 3 again: %s\n", again.ok() ? mq::impl::send_outcome_name(*again) : "error");
  auto worker = [&](const char* name) {
    auto connected_worker = connect();
    if (!connected_worker.ok()) return;
    Client c = std::move(connected_worker).value();
    for (int empty = 0; empty < 2;) {
      auto got = c.fetch(name, 4, 300);
      if (!got.ok()) return;
      empty = got->empty() ? empty + 1 : 0;
      for (const auto& d : *got) {
        const bool flaky = d.id == 5 && d.attempts < 3;
        std::printf("%s: task %llu, delivery %u: %s\n", name, static_cast<unsigned long long>(d.id), d.attempts,
                    flaky ? "failed, back to the queue" : "done");
        if (flaky) {
          (void)c.nack(name, d.id, true);
        } else {
          (void)c.ack(name, d.id);
        }
      }
    }
  };
  std::thread w1(worker, "worker-1"), w2(worker, "worker-2");
  w1.join();
  w2.join();
  auto stats = producer.qstats("work");
  if (stats.ok()) {
    std::printf("queue 'work':");
    for (const auto& [k, v] : *stats) {
      if (k == "accepted" || k == "acked" || k == "redeliveries" || k == "duplicates" || k == "size") {
        std::printf(" %s=%s", k.c_str(), v.c_str());
      }
    }
    std::printf("\n");
  }
  if (daemon) {
    daemon->stop();
    loop.join();
    daemon.reset();
    std::filesystem::remove_all(dir);
  }
  return 0;
}
