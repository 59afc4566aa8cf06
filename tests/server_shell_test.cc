// Unit tests of the server shell on its own (impl/server_shell.h), with a driver
// that holds every log write until the test completes it: the commit rules (what is
// released when), a crash in every commit phase (nothing in flight, a write in
// flight, a write on disk but not reported, a checkpoint pending, a commit delay
// armed), fail-stop on a failed write and on a failed restart, sessions (newer takes
// over, older refused, silence, a closed connection), pull sessions (outbox, blocking
// fetch, its timeout, requests queued behind it), and, as a property, that every
// request gets exactly one response in order and that nothing confirmed is lost.

#include "impl/server_shell.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "impl/mem_storage.h"
#include "impl/wal.h"

namespace mq::impl {
namespace {

constexpr QueueId kDurable = 0, kVolatile = 1;
constexpr ConsumerId kWorker = 0, kOther = 1;

BrokerConfig config() {
  BrokerConfig c;
  c.producers.push_back({"p"});
  QueueOptions d;
  d.name = "durable";
  d.capacity = 64;
  d.durable = true;
  d.max_retries = 1000;
  c.queues.push_back(d);
  QueueOptions v = d;
  v.name = "volatile";
  v.durable = false;
  c.queues.push_back(v);
  c.consumers.push_back({"worker", "durable", 2, AckMode::kManual});
  c.consumers.push_back({"other", "durable", 2, AckMode::kManual});
  return c;
}

MessageSpec spec(MessageId id) { return MessageSpec{id, "m" + std::to_string(id), 0, 0, 0, std::nullopt}; }

// The test's driver: a simulated disk, log writes held until complete_write().
class Harness {
 public:
  explicit Harness(bool fresh = true, TimeNs commit_delay_ns = 0, uint64_t checkpoint_bytes = 1u << 30,
                   bool defer_commit = false) {
    options_.config = config();
    options_.commit_delay_ns = commit_delay_ns;
    options_.defer_commit = defer_commit;
    options_.checkpoint_bytes = checkpoint_bytes;
    options_.session_timeout_ns = 1000;
    options_.session_check_ns = 100;
    if (fresh) {
      for (ConsumerId c = 0; c < 2; ++c) options_.initial_sessions.push_back({100 + c, 1, SessionMode::kPush});
      shell_.emplace(options_);
    } else {
      Effects out;
      auto s = ServerShell::recovered(options_, 0, DurableImage{0, std::vector<QueueImage>(2)}, out);
      MQ_CHECK(s.ok());
      shell_.emplace(std::move(s).value());
      shell_->start(0);
    }
    pump();
    MQ_CHECK(shell_->up());
  }

  ServerShell& shell() { return *shell_; }
  MemStorage& disk() { return disk_; }
  TimeNs now() const { return now_; }
  void at(TimeNs t) { now_ = t; }

  void request(ConnId from, Request r) {
    shell_->request(now_, from, std::move(r));
    pump();
  }
  void publish(ConnId from, QueueId q, MessageId id) { request(from, req::Publish{0, false, q, spec(id)}); }

  // The write in flight reaches the disk and is reported (or fails).
  void complete_write(bool fail = false) {
    MQ_CHECK(write_);
    LogBatch b = std::move(*write_);
    write_.reset();
    const Status s = fail ? io_error("injected") : wal_->write(std::move(b));
    shell_->synced(now_, s);
    pump();
  }
  // The write in flight reaches the disk, but the process dies before hearing so.
  void write_without_report() {
    MQ_CHECK(write_);
    MQ_CHECK(wal_->write(std::move(*write_)).ok());
    write_.reset();
  }
  void complete_checkpoint() {
    MQ_CHECK(checkpoint_);
    const Status s = wal_->checkpoint(checkpoint_->image);
    checkpoint_.reset();
    shell_->synced(now_, s);
    pump();
  }
  // Fires every timer of `kind` set so far; false if there was none.
  bool fire_all(TimerKind kind) {
    std::vector<act::SetTimer> due;
    for (size_t k = 0; k < timers_.size();) {
      if (timers_[k].id.kind == kind) {
        due.push_back(timers_[k]);
        timers_.erase(timers_.begin() + static_cast<ptrdiff_t>(k));
      } else {
        ++k;
      }
    }
    for (const auto& t : due) {
      now_ = std::max(now_, t.at_ns);
      shell_->timer(now_, t.id);
      pump();
    }
    return !due.empty();
  }
  void timer(TimerId id) {
    shell_->timer(now_, id);
    pump();
  }
  void closed(ConnId conn) {
    shell_->closed(now_, conn);
    pump();
  }
  bool writing() const { return write_.has_value(); }
  bool checkpointing() const { return checkpoint_.has_value(); }
  void settle() {
    // Bounded: each round completes one write; writes come only from earlier commands.
    for (int k = 0; k < 1000 && (write_ || checkpoint_); ++k) {
      if (write_) complete_write();
      if (checkpoint_) complete_checkpoint();
    }
  }
  void fire(TimerKind kind) {
    for (size_t k = 0; k < timers_.size(); ++k) {
      if (timers_[k].id.kind != kind) continue;
      const act::SetTimer t = timers_[k];
      timers_.erase(timers_.begin() + static_cast<ptrdiff_t>(k));
      now_ = std::max(now_, t.at_ns);
      shell_->timer(now_, t.id);
      pump();
      return;
    }
    ADD_FAILURE() << "no timer of that kind is set";
  }

  // The process dies: the disk keeps only what was synced; the log is recovered.
  Recovery crash() {
    shell_->crash();
    pump();
    disk_.crash();
    write_.reset();
    checkpoint_.reset();
    wal_.reset();
    auto r = Wal::recover(disk_, options_.config, WalOptions{});
    MQ_CHECK_MSG(r.ok(), r.status().to_string().c_str());
    Effects out;
    MQ_CHECK(shell_->restore(now_, r->image, out).ok());
    return std::move(r).value();
  }
  void restart() {
    shell_->start(now_);
    pump();
  }

  std::vector<act::Reply> replies;
  std::vector<act::Committed> committed;
  std::vector<Status> fails;
  std::vector<TimeNs> soon;  // CommitSoon actions (defer_commit)

  // Responses to one connection, in order.
  std::vector<Response> to(ConnId c) const {
    std::vector<Response> out;
    for (const auto& r : replies) {
      if (r.to == c) out.push_back(r.response);
    }
    return out;
  }

 private:
  void pump() {
    std::vector<Action> batch;
    for (int round = 0; round < 1000 && shell_->has_actions(); ++round) {
      batch.clear();
      shell_->take_actions(batch);
      for (Action& a : batch) perform(a);
    }
  }
  void perform(Action& a) {
    if (auto* r = std::get_if<act::Reply>(&a)) return replies.push_back(std::move(*r));
    if (auto* w = std::get_if<act::WriteLog>(&a)) {
      MQ_CHECK_MSG(!write_ && !checkpoint_, "one disk job at a time");
      write_ = std::move(w->batch);
      return;
    }
    if (auto* c = std::get_if<act::WriteCheckpoint>(&a)) {
      MQ_CHECK_MSG(!write_ && !checkpoint_, "one disk job at a time");
      checkpoint_ = std::move(*c);
      return;
    }
    if (auto* s = std::get_if<act::StartLog>(&a)) {
      auto wal = Wal::start(disk_, WalOptions{}, s->image);
      if (wal.ok()) wal_.emplace(std::move(wal).value());
      shell_->log_started(now_, wal.status());
      return;
    }
    if (auto* t = std::get_if<act::SetTimer>(&a)) return timers_.push_back(*t);
    if (auto* c = std::get_if<act::Committed>(&a)) return committed.push_back(std::move(*c));
    if (auto* f = std::get_if<act::Fail>(&a)) return fails.push_back(f->why);
    if (std::holds_alternative<act::CommitSoon>(a)) return soon.push_back(now_);
  }

  ShellOptions options_;
  MemStorage disk_;
  std::optional<Wal> wal_;
  std::optional<ServerShell> shell_;
  std::optional<LogBatch> write_;
  std::optional<act::WriteCheckpoint> checkpoint_;
  std::vector<act::SetTimer> timers_;
  TimeNs now_ = 0;
};

template <typename T>
const T* as(const Response& r) {
  return std::get_if<T>(&r);
}

bool holds(const Recovery& r, QueueId q, MessageId id) {
  const QueueImage& qi = r.image.queues[q];
  for (const auto& level : qi.ready) {
    for (const auto& m : level) {
      if (m.id == id) return true;
    }
  }
  for (const auto& f : qi.in_flight) {
    if (f.message.id == id) return true;
  }
  return false;
}

// ---- rule 2: what is released when ----

// Harness(false): no consumer attached, so no delivery adds records of its own.

TEST(ServerShell, DurablePublishIsConfirmedOnlyAfterItsSync) {
  Harness h(false);
  h.publish(1, kDurable, 7);
  EXPECT_TRUE(h.to(1).empty());
  ASSERT_TRUE(h.writing());
  h.complete_write();
  const auto got = h.to(1);
  ASSERT_EQ(got.size(), 1u);
  const auto* p = as<resp::Published>(got[0]);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->outcome, PublishOutcome::kStored);
  EXPECT_EQ(p->id, 7u);
}

TEST(ServerShell, ACommandThatLoggedNothingWaitsForTheOnesBeforeIt) {
  Harness h(false);
  h.publish(1, kDurable, 1);
  h.publish(2, kVolatile, 2);  // logs nothing, but came later
  h.request(3, req::Inline{"+PONG\r\n"});
  EXPECT_TRUE(h.replies.empty());
  h.complete_write();
  ASSERT_EQ(h.replies.size(), 3u);
  EXPECT_EQ(h.replies[0].to, 1u);
  EXPECT_EQ(h.replies[1].to, 2u);
  EXPECT_EQ(h.replies[2].to, 3u);
}

TEST(ServerShell, WithNothingPendingAnswersAtOnce) {
  Harness h(false);
  h.publish(2, kVolatile, 2);
  ASSERT_EQ(h.to(2).size(), 1u);
  EXPECT_FALSE(h.writing());
}

TEST(ServerShell, ADeliveryOfADurableMessageLeavesOnlyAfterItsRecordIsSynced) {
  Harness h;
  auto pushes = [&] {
    size_t n = 0;
    for (const auto& r : h.replies) n += as<resp::Push>(r.response) != nullptr;
    return n;
  };
  h.publish(1, kDurable, 1);  // eager dispatch delivers it to a push session at once ...
  h.complete_write();         // ... but its delivery record came after the put's write began
  EXPECT_EQ(h.to(1).size(), 1u);
  EXPECT_EQ(pushes(), 0u);
  ASSERT_TRUE(h.writing());
  h.complete_write();
  EXPECT_EQ(pushes(), 1u);
}

TEST(ServerShell, AnAckIsAnsweredAfterTheSyncOfItsRecord) {
  Harness h;
  h.publish(1, kDurable, 1);
  h.settle();
  h.request(100, req::Settle{ConsumerRef{kWorker, 1, SessionMode::kPush}, 1, false, true});
  EXPECT_EQ(h.to(100).size(), 1u);  // only the push so far
  ASSERT_TRUE(h.writing());
  h.complete_write();
  ASSERT_EQ(h.to(100).size(), 2u);
  const auto got = h.to(100);
  const auto* s = as<resp::Settled>(got[1]);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->ok);
}

// ---- crashes in every commit phase ----

TEST(ServerShell, CrashWithAWriteInFlightLosesOnlyWhatWasNotConfirmed) {
  Harness h(false);
  h.publish(1, kDurable, 1);
  h.complete_write();  // 1 confirmed
  h.publish(1, kDurable, 2);
  ASSERT_TRUE(h.writing());
  const Recovery r = h.crash();
  ASSERT_EQ(h.to(1).size(), 1u);  // 2 was never confirmed...
  EXPECT_TRUE(holds(r, kDurable, 1));
  EXPECT_FALSE(holds(r, kDurable, 2));  // ... and is gone
  h.restart();
  EXPECT_TRUE(h.shell().up());
  h.publish(1, kDurable, 2);  // the producer's retry is accepted anew
  h.settle();
  const auto last = h.to(1);
  const auto* p = as<resp::Published>(last.back());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->outcome, PublishOutcome::kStored);
}

TEST(ServerShell, CrashAfterTheWriteReachedTheDiskButBeforeItsReportKeepsAnUnconfirmedMessage) {
  Harness h(false);
  h.publish(1, kDurable, 3);
  h.write_without_report();
  const Recovery r = h.crash();
  EXPECT_TRUE(h.to(1).empty());       // never confirmed ...
  EXPECT_TRUE(holds(r, kDurable, 3));  // ... yet it survived: allowed either way
}

TEST(ServerShell, CrashWithACommitDelayArmedLosesTheUnwrittenRecords) {
  Harness h(false, /*commit_delay_ns=*/500);
  h.publish(1, kDurable, 1);
  h.complete_write();  // the first commit starts at once
  h.at(10);
  h.publish(1, kDurable, 2);
  EXPECT_FALSE(h.writing());  // the next waits for the delay
  const Recovery r = h.crash();
  EXPECT_EQ(h.to(1).size(), 1u);
  EXPECT_TRUE(holds(r, kDurable, 1));
  EXPECT_FALSE(holds(r, kDurable, 2));
}

TEST(ServerShell, TheCommitDelaySpacesGroupCommits) {
  Harness h(false, /*commit_delay_ns=*/500);
  h.publish(1, kDurable, 1);
  h.complete_write();
  h.at(10);
  h.publish(1, kDurable, 2);
  h.publish(1, kDurable, 3);
  EXPECT_FALSE(h.writing());
  h.fire(TimerKind::kCommitDelay);
  EXPECT_GE(h.now(), 500);
  ASSERT_TRUE(h.writing());
  h.complete_write();  // both in one batch
  EXPECT_EQ(h.to(1).size(), 3u);
  EXPECT_EQ(h.shell().stats().commits, 2u);
}

TEST(ServerShell, ADeferredCommitWaitsForTheDriverAndCoversEverythingAddedBefore) {
  Harness h(false, 0, 1u << 30, /*defer_commit=*/true);
  h.publish(1, kDurable, 1);
  h.publish(2, kDurable, 2);
  EXPECT_FALSE(h.writing());
  EXPECT_EQ(h.soon.size(), 1u);  // asked once
  EXPECT_TRUE(h.replies.empty());
  EXPECT_FALSE(h.shell().settled());
  h.shell().commit_now(h.now());
  h.timer(TimerId{TimerKind::kDeadline, 0});  // (a stale timer: pumps the actions)
  ASSERT_TRUE(h.writing());
  h.complete_write();
  EXPECT_EQ(h.replies.size(), 2u);  // one sync for both
  EXPECT_EQ(h.shell().stats().commits, 1u);
}

TEST(ServerShell, ACheckpointComesWhenDueAndACrashBeforeItKeepsTheOldGeneration) {
  Harness h(false, 0, /*checkpoint_bytes=*/1);
  h.publish(1, kDurable, 1);
  h.complete_write();
  ASSERT_TRUE(h.checkpointing());
  EXPECT_EQ(h.to(1).size(), 1u);  // released before the checkpoint
  h.publish(1, kDurable, 2);     // waits behind the checkpoint
  EXPECT_FALSE(h.writing());
  const Recovery r = h.crash();
  EXPECT_TRUE(holds(r, kDurable, 1));
  EXPECT_FALSE(holds(r, kDurable, 2));
  EXPECT_EQ(h.to(1).size(), 1u);
}

TEST(ServerShell, UnderSteadyLoadACheckpointCoversWhatWasAddedMeanwhile) {
  Harness h(false, 0, 1);
  h.publish(1, kDurable, 1);
  h.publish(1, kDurable, 2);  // added while 1's write is in flight
  h.complete_write();
  ASSERT_TRUE(h.checkpointing());  // due: taken with 2's record pending, which it covers
  EXPECT_EQ(h.to(1).size(), 1u);
  h.complete_checkpoint();
  EXPECT_EQ(h.to(1).size(), 2u);  // 2 is confirmed by the checkpoint
  EXPECT_FALSE(h.writing());      // its record is not written again
  const Recovery r = h.crash();
  EXPECT_TRUE(holds(r, kDurable, 1));
  EXPECT_TRUE(holds(r, kDurable, 2));
}

TEST(ServerShell, AfterACheckpointTheNextRecordsAreWritten) {
  Harness h(false, 0, 1);
  h.publish(1, kDurable, 1);
  h.complete_write();
  h.publish(1, kDurable, 2);
  h.complete_checkpoint();
  ASSERT_TRUE(h.writing());
  h.complete_write();
  EXPECT_EQ(h.to(1).size(), 2u);
  EXPECT_EQ(h.shell().stats().checkpoints, 1u);
}

// ---- rule 5: fail-stop ----

TEST(ServerShell, AFailedWriteStopsTheShellAndDropsWhatWasNotConfirmed) {
  Harness h(false);
  h.publish(1, kDurable, 1);
  h.complete_write();
  h.publish(1, kDurable, 2);
  h.complete_write(/*fail=*/true);
  ASSERT_EQ(h.fails.size(), 1u);
  EXPECT_EQ(h.shell().state(), ServerShell::State::kFailed);
  EXPECT_EQ(h.to(1).size(), 1u);  // 2 has no answer: its outcome is unknown
  h.publish(1, kDurable, 3);
  const auto last = h.to(1);
  const auto* p = as<resp::Published>(last.back());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->outcome, PublishOutcome::kNoSpace);
  h.request(5, req::Stats{kDurable});
  EXPECT_NE(as<resp::Error>(h.to(5).back()), nullptr);
  const Recovery r = h.crash();
  EXPECT_TRUE(holds(r, kDurable, 1));
  EXPECT_EQ(h.shell().state(), ServerShell::State::kFailed);
  h.restart();
  EXPECT_TRUE(h.shell().up());
}

TEST(ServerShell, ARestartThatCannotWriteItsLogStaysFailed) {
  Harness h(false);
  h.publish(1, kDurable, 1);
  h.complete_write();
  h.crash();
  h.disk().set_space_limit(h.disk().used_bytes());
  h.restart();
  EXPECT_EQ(h.shell().state(), ServerShell::State::kFailed);
  h.publish(1, kDurable, 9);
  EXPECT_EQ(as<resp::Published>(h.to(1).back())->outcome, PublishOutcome::kNoSpace);
  h.disk().set_space_limit(std::nullopt);
  h.restart();
  EXPECT_TRUE(h.shell().up());
}

TEST(ServerShell, ARequestToACrashedShellIsNotRead) {
  Harness h(false);
  h.crash();
  h.publish(1, kDurable, 1);
  EXPECT_TRUE(h.replies.empty());
}

// ---- sessions ----

TEST(ServerShell, ANewerSessionTakesTheConsumerOverAndAnOlderOneIsRefused) {
  Harness h;
  h.publish(1, kDurable, 1);
  h.complete_write();  // pushed to worker, session 1
  h.request(100, req::Hello{ConsumerRef{kWorker, 2, SessionMode::kPush}});
  h.settle();
  bool requeued = false;
  for (const auto& c : h.committed) {
    if (!std::holds_alternative<cmd::Detach>(c.command)) continue;
    for (const auto& e : c.effects) requeued = requeued || e.kind == EffectKind::kRequeued;
  }
  EXPECT_TRUE(requeued);
  h.request(100, req::Settle{ConsumerRef{kWorker, 1, SessionMode::kPush}, 1, false, true});
  h.settle();
  const auto got = h.to(100);
  const auto* e = as<resp::Error>(got.back());
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code, Code::kFailedPrecondition);
  EXPECT_EQ(h.shell().stats().stale_requests, 1u);
}

TEST(ServerShell, ASilentSessionIsDetached) {
  Harness h;
  EXPECT_TRUE(h.shell().core().attached(kWorker));
  h.at(500);
  h.request(101, req::Hello{ConsumerRef{kOther, 1, SessionMode::kPush}});
  h.at(1500);
  h.fire(TimerKind::kSessionCheck);
  EXPECT_FALSE(h.shell().core().attached(kWorker));  // silent since 0
  EXPECT_TRUE(h.shell().core().attached(kOther));    // heard at 500
  EXPECT_EQ(h.shell().stats().session_detaches, 1u);
}

TEST(ServerShell, AClosedConnectionDetachesItsConsumerAndItsDeliveriesComeBack) {
  Harness h(/*fresh=*/false);
  h.request(7, req::Hello{ConsumerRef{kWorker, 7, SessionMode::kPull}});
  h.publish(1, kDurable, 1);
  h.settle();
  EXPECT_EQ(h.shell().core().stats(kDurable).in_flight, 1u);
  h.closed(7);
  h.settle();
  EXPECT_FALSE(h.shell().core().attached(kWorker));
  EXPECT_EQ(h.shell().core().stats(kDurable).ready, 1u);
}

// ---- pull sessions ----

TEST(ServerShell, APullFetchTakesFromTheOutbox) {
  Harness h(false);
  h.publish(1, kDurable, 1);
  h.publish(1, kDurable, 2);
  h.settle();
  h.request(7, req::Fetch{ConsumerRef{kWorker, 7, SessionMode::kPull}, 5, 0});
  h.settle();
  const auto got = h.to(7);
  ASSERT_EQ(got.size(), 1u);
  const auto* f = as<resp::Fetched>(got[0]);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->deliveries.size(), 2u);  // prefetch 2
  EXPECT_EQ(f->deliveries[0].message.id, 1u);
  EXPECT_EQ(f->deliveries[1].message.id, 2u);
  EXPECT_EQ(f->deliveries[0].message.attempts, 1u);
}

TEST(ServerShell, ABlockingFetchWaitsForAPublishAndHoldsBackLaterRequests) {
  Harness h(false);
  h.request(7, req::Fetch{ConsumerRef{kWorker, 7, SessionMode::kPull}, 1, 1000});
  h.request(7, req::Inline{"+later\r\n"});
  h.settle();
  EXPECT_TRUE(h.to(7).empty());
  h.publish(1, kDurable, 5);
  h.settle();
  const auto got = h.to(7);
  ASSERT_EQ(got.size(), 2u);
  const auto* f = as<resp::Fetched>(got[0]);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->deliveries.size(), 1u);
  EXPECT_EQ(f->deliveries[0].message.id, 5u);
  EXPECT_NE(as<resp::Inline>(got[1]), nullptr);
}

TEST(ServerShell, ABlockingFetchTimesOutEmpty) {
  Harness h(false);
  h.request(7, req::Fetch{ConsumerRef{kWorker, 7, SessionMode::kPull}, 1, 1000});
  h.settle();
  h.fire(TimerKind::kFetchTimeout);
  const auto got = h.to(7);
  ASSERT_EQ(got.size(), 1u);
  const auto* f = as<resp::Fetched>(got[0]);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->deliveries.empty());
}

// The wait runs from when the fetch was read. Measured from the broker's last output
// (at 0 here, long before), it ended at once: an empty answer, and a client that
// fetches again at once spun (the simulator found it: a run over its event bound).
TEST(ServerShell, ABlockingFetchOnAnIdleBrokerWaitsItsWholeBlock) {
  Harness h(false);
  h.request(7, req::Hello{ConsumerRef{kWorker, 7, SessionMode::kPull}});  // attached at 0
  h.settle();
  h.at(5000);
  h.request(7, req::Fetch{ConsumerRef{kWorker, 7, SessionMode::kPull}, 1, 1000});
  h.settle();
  ASSERT_EQ(h.to(7).size(), 1u);  // the attach's answer; the fetch waits
  h.fire(TimerKind::kFetchTimeout);
  EXPECT_EQ(h.now(), 6000);
  const auto got = h.to(7);
  ASSERT_EQ(got.size(), 2u);
  const auto* f = as<resp::Fetched>(got[1]);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->deliveries.empty());
}

// A delivery waiting in a pull session's outbox that the core takes back and finishes
// at once (its TTL passed while it was in flight, BrokerCore::place_ready: an expiry
// that names no consumer) leaves the outbox too. It stayed there: the next fetch
// handed out a message the broker had already finished (the simulator found it: the
// same id, published again, reached the outbox twice).
TEST(ServerShell, AnOutboxForgetsADeliveryThatExpiredWhenTakenBack) {
  Harness h(false);
  h.request(7, req::Hello{ConsumerRef{kWorker, 7, SessionMode::kPull}});
  MessageSpec m = spec(1);
  m.ttl_ns = 500;
  h.request(1, req::Publish{0, false, kDurable, m});
  h.settle();
  EXPECT_EQ(h.shell().core().stats(kDurable).in_flight, 1u);  // in the outbox, not fetched
  h.at(1500);
  h.fire_all(TimerKind::kSessionCheck);  // silent since 0: detached, the delivery taken back
  h.settle();
  EXPECT_EQ(h.shell().core().stats(kDurable).expired, 1u);
  h.request(7, req::Fetch{ConsumerRef{kWorker, 7, SessionMode::kPull}, 5, 0});
  h.settle();
  const auto got = h.to(7);
  ASSERT_FALSE(got.empty());
  const auto* f = as<resp::Fetched>(got.back());
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->deliveries.empty());
}

TEST(ServerShell, UnknownIdsAreErrorsNotCrashes) {
  Harness h(false);
  h.request(1, req::Publish{9, false, 0, spec(1)});
  h.request(1, req::Publish{0, false, 9, spec(1)});
  h.request(1, req::Publish{0, true, 0, spec(1)});
  h.request(1, req::Stats{9});
  h.request(1, req::Fetch{ConsumerRef{9, 1, SessionMode::kPull}, 1, 0});
  ASSERT_EQ(h.to(1).size(), 5u);
  for (const auto& r : h.to(1)) EXPECT_NE(as<resp::Error>(r), nullptr);
}

// ---- the contract as a property ----

// Random requests from three pull connections and a producer, random log
// completions, timers and closes. Every request is answered once, in order per
// connection, and after a crash (with writes still in flight, or after everything
// settled) every confirmed durable message that was not acked is still in the log.
RC_GTEST_PROP(ServerShellProperty, EveryRequestOnceInOrderAndNothingConfirmedLost, ()) {
  Harness h(false);
  std::map<ConnId, std::deque<size_t>> expected;  // per connection: response kinds expected, in order
  std::set<ConnId> closed;
  std::set<MessageId> confirmed, acked;
  MessageId next_id = 1;
  const int steps = *rc::gen::inRange(1, 120);
  for (int step = 0; step < steps; ++step) {
    h.at(h.now() + *rc::gen::inRange(0, 50));
    const ConnId conn = static_cast<ConnId>(*rc::gen::inRange(1, 5));
    if (closed.count(conn) != 0) continue;
    const ConsumerRef who{static_cast<ConsumerId>(conn % 2), conn, SessionMode::kPull};
    switch (*rc::gen::inRange(0, 9)) {
      case 0:
      case 1:
        h.publish(conn, *rc::gen::inRange(0, 2) == 0 ? kDurable : kVolatile, next_id++);
        expected[conn].push_back(0);
        break;
      case 2:
        h.request(conn, req::Fetch{who, static_cast<uint32_t>(*rc::gen::inRange(1, 3)),
                                   *rc::gen::element<TimeNs>(0, 0, 40)});
        expected[conn].push_back(1);
        break;
      case 3:
        h.request(conn, req::Settle{who, static_cast<MessageId>(*rc::gen::inRange(1, 20)),
                                    *rc::gen::arbitrary<bool>(), true});
        expected[conn].push_back(2);
        break;
      case 4:
        h.request(conn, req::Inline{"+x\r\n"});
        expected[conn].push_back(3);
        break;
      case 5:
        if (h.writing()) h.complete_write();
        if (h.checkpointing()) h.complete_checkpoint();
        break;
      case 6:
        for (int k = 0; k < 3; ++k) {
          h.at(h.now() + 50);
          h.timer(TimerId{TimerKind::kFetchTimeout, static_cast<uint64_t>(k + 1)});
        }
        break;
      case 7:
        if (*rc::gen::inRange(0, 4) == 0) {
          h.closed(conn);
          closed.insert(conn);
        }
        break;
      default: h.request(conn, req::Hello{who}); expected[conn].push_back(4); break;
    }
  }
  const bool settle = *rc::gen::arbitrary<bool>();
  if (settle) {
    // Bounded: each round answers at least one waiting request or ends.
    for (int round = 0; round < 1000; ++round) {
      h.settle();
      if (!h.fire_all(TimerKind::kFetchTimeout) && !h.writing() && !h.checkpointing()) break;
    }
  }
  for (auto& [conn, kinds] : expected) {
    if (closed.count(conn) != 0) continue;
    const auto got = h.to(conn);
    // Settled: one answer per request. Else a prefix of them (the rest wait).
    const bool counts_fit = settle ? got.size() == kinds.size() : got.size() <= kinds.size();
    RC_LOG() << "connection " << conn << ": " << got.size() << " answers to " << kinds.size() << " requests:";
    for (size_t k = 0; k < got.size(); ++k) RC_LOG() << " " << kinds[k] << "/" << got[k].index();
    RC_LOG() << "\n";
    RC_ASSERT(counts_fit);
    for (size_t k = 0; k < got.size(); ++k) {
      if (as<resp::Error>(got[k]) != nullptr) continue;  // a refusal answers any request
      switch (kinds[k]) {
        case 0: RC_ASSERT(as<resp::Published>(got[k]) != nullptr); break;
        case 1: RC_ASSERT(as<resp::Fetched>(got[k]) != nullptr); break;
        case 2: RC_ASSERT(as<resp::Settled>(got[k]) != nullptr); break;
        case 3: RC_ASSERT(as<resp::Inline>(got[k]) != nullptr); break;
        default: RC_ASSERT(as<resp::Attached>(got[k]) != nullptr); break;
      }
    }
  }
  for (const auto& r : h.replies) {
    const auto* p = as<resp::Published>(r.response);
    if (p && p->outcome == PublishOutcome::kStored && !p->queues.empty() && p->queues[0].queue == kDurable) {
      confirmed.insert(p->id);
    }
  }
  for (const auto& c : h.committed) {
    for (const auto& e : c.effects) {
      if (e.kind == EffectKind::kAcked) acked.insert(e.message.id);
    }
  }
  const Recovery r = h.crash();
  for (MessageId id : confirmed) {
    if (acked.count(id) == 0) RC_ASSERT(holds(r, kDurable, id));
  }
}

}  // namespace
}  // namespace mq::impl
