// mq_example: the seed's two applications (section 6: a task queue and an event
// bus) built on the Broker shell (impl/broker.h), with the repairs the harness
// found: a full queue is told to the producer (it is never a silent drop), higher
// priorities go first, a failed task is retried a bounded number of times and then
// dead-lettered, and a durable task is confirmed only once it is on disk.
//
// Usage: mq_example [data-dir]   (default: a fresh directory under /tmp)

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "impl/broker.h"

namespace {

using namespace mq::impl;
using namespace std::chrono_literals;

// Prints what failed and returns the example's exit status for it.
int failed(const char* what, const mq::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
  return 1;
}

// ---- 6.1 the task queue: durable, with priorities, retries and a dead-letter queue ----

BrokerOptions task_options(const std::string& dir) {
  BrokerOptions o;
  o.data_dir = dir;
  o.worker_threads = 2;
  o.config.producers.push_back({"task_producer"});
  QueueOptions tasks;
  tasks.name = "tasks";
  tasks.capacity = 1000;
  tasks.priority_levels = 3;  // 0 low, 1 normal, 2 high
  tasks.durable = true;
  tasks.max_retries = 2;
  tasks.dead_letter_queue = "tasks.dead";
  o.config.queues.push_back(tasks);
  QueueOptions dead;
  dead.name = "tasks.dead";
  dead.capacity = 1000;
  dead.durable = true;  // a durable queue's dead-letter queue is durable (docs/durability.md)
  o.config.queues.push_back(dead);
  o.config.consumers.push_back({"task_consumer", "tasks", 4, AckMode::kManual});
  o.config.consumers.push_back({"dead_letter_reader", "tasks.dead", 0, AckMode::kManual});
  return o;
}

int run_task_queue(const std::string& dir) {
  auto opened = Broker::open(task_options(dir));
  if (!opened.ok()) return failed("task queue", opened.status());
  Broker& broker = **opened;
  const struct {
    const char* name;
    Priority priority;
  } tasks[] = {{"resize-image", 1}, {"send-report", 0}, {"charge-card", 2}, {"flaky-export", 1}, {"index-docs", 1}};
  // Submitted before anyone consumes, so that priorities decide the order.
  MessageId id = 1;
  for (const auto& t : tasks) {
    // Returns once the task is synced to the write-ahead log (or kFull after 1 s).
    auto r = broker.publish(0, 0, MessageSpec{id++, t.name, t.priority, 0, 0, std::nullopt}, 1s);
    if (!r.ok()) return failed("submit", r.status());
    std::printf("submitted %-18s %s\n", t.name, confirm_name(*r));
  }
  std::atomic<int> done{0};
  // A handler on the worker pool; "flaky" tasks always fail and end dead-lettered.
  mq::Status s = broker.subscribe(0, [&](const Delivery& d) {
    const std::string task(d.message.payload_view());
    if (task.starts_with("flaky")) {
      std::printf("  task %-22s failed (attempt %u)\n", task.c_str(), d.message.attempts);
      return Disposition::kRequeue;
    }
    std::printf("  task %-22s done (priority %u)\n", task.c_str(), static_cast<unsigned>(d.message.priority));
    done++;
    return Disposition::kAck;
  });
  if (!s.ok()) return failed("subscribe", s);
  for (int k = 0; k < 400 && (done < 4 || broker.stats(1).size == 0); ++k) std::this_thread::sleep_for(5ms);
  auto dead = broker.fetch(1, 1s);
  if (dead.ok() && dead->has_value()) {
    std::printf("dead-lettered: %s after %u attempts\n", std::string((*dead)->message.payload_view()).c_str(),
                1 + task_options(dir).config.queues[0].max_retries);
    (void)broker.ack(1, (*dead)->message.id);
  }
  const QueueStats st = broker.stats(0);
  std::printf("tasks: accepted %llu, acked %llu, redeliveries %llu, dead-lettered %llu\n",
              static_cast<unsigned long long>(st.accepted), static_cast<unsigned long long>(st.acked),
              static_cast<unsigned long long>(st.redeliveries), static_cast<unsigned long long>(st.dead_lettered));
  return 0;
}

// ---- 6.2 the event bus: topics fan out to one queue per subscriber ----

BrokerOptions bus_options() {
  BrokerOptions o;
  o.worker_threads = 2;
  o.config.producers.push_back({"event_publisher"});
  for (const char* q : {"email", "profile", "inventory"}) {
    QueueOptions qo;
    qo.name = q;
    qo.capacity = 100;
    o.config.queues.push_back(qo);
    o.config.consumers.push_back({std::string("event_consumer_") + q, q, 8, AckMode::kManual});
  }
  o.config.topics.push_back({"user.registered", {"email", "profile"}});
  o.config.topics.push_back({"order.created", {"email", "inventory"}});
  return o;
}

int run_event_bus() {
  auto opened = Broker::open(bus_options());
  if (!opened.ok()) return failed("event bus", opened.status());
  Broker& bus = **opened;
  std::atomic<int> handled{0};
  for (ConsumerId c = 0; c < 3; ++c) {
    const std::string name = bus.config().consumers[c].name;
    mq::Status s = bus.subscribe(c, [&handled, name](const Delivery& d) {
      std::printf("  %-24s got %s\n", name.c_str(), std::string(d.message.payload_view()).c_str());
      handled++;
      return Disposition::kAck;
    });
    if (!s.ok()) return failed("subscribe", s);
  }
  auto publish = [&](TopicId t, MessageId id, const char* data) {
    auto r = bus.publish_topic(0, t, MessageSpec{id, data, 0, 0, 0, std::nullopt});
    if (!r.ok()) {
      std::fprintf(stderr, "publish: %s\n", r.status().to_string().c_str());
      return false;
    }
    std::printf("published %s to %s (%zu queues)\n", data, bus.config().topics[t].name.c_str(), r->size());
    return true;
  };
  if (!publish(0, 1, "user:alice") || !publish(1, 2, "order:42")) return 1;
  for (int k = 0; k < 400 && handled < 4; ++k) std::this_thread::sleep_for(5ms);
  std::printf("events handled: %d\n", handled.load());
  return handled == 4 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool own_dir = argc < 2;
  const std::string dir = own_dir ? (std::filesystem::temp_directory_path() /
                                     ("mq_example_" + std::to_string(::getpid()))).string()
                                  : argv[1];
  std::printf("== task queue (data directory %s)\n", dir.c_str());
  int rc = run_task_queue(dir);
  std::printf("== event bus\n");
  rc |= run_event_bus();
  if (own_dir) std::filesystem::remove_all(dir);
  return rc;
}
