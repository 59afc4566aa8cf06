// Tests for crash_twin_disagreement (sim/crash_twin.h): a recovery that rebuilds what
// the core's own crash keeps agrees; one that loses or alters a message, or reports
// the crash's effects differently, is named; and the simulator runs the check at its
// crashes.

#include "sim/crash_twin.h"

#include <gtest/gtest.h>

#include "sim/translate.h"
#include "tests/sim_test_util.h"

namespace mq::sim {
namespace {

impl::BrokerConfig config() {
  impl::BrokerConfig c;
  c.producers = {{"p0"}};
  impl::QueueOptions durable;
  durable.name = "orders";
  durable.capacity = 8;
  durable.durable = true;
  impl::QueueOptions scratch;
  scratch.name = "scratch";
  scratch.capacity = 8;
  c.queues = {durable, scratch};
  c.consumers = {{"c0", "orders", 2, impl::AckMode::kManual}};
  return c;
}

impl::MessageSpec spec(MessageId id) { return impl::MessageSpec{id, "m" + std::to_string(id), 0, 0, 0, std::nullopt}; }

// A core at 50 ns holding three messages: #1 and #2 in flight at c0, #3 ready.
impl::BrokerCore running_core() {
  impl::BrokerCore core = std::move(impl::BrokerCore::create(config())).value();
  impl::Effects out;
  for (MessageId id = 1; id <= 3; ++id) MQ_CHECK(core.send(10 * id, 0, 0, spec(id), out).ok());
  MQ_CHECK(core.fetch(40, 0, out).ok());
  MQ_CHECK(core.fetch(50, 0, out).ok());
  return core;
}

// What a correct recovery rebuilds: a fresh core restored from `image` at crash_ns,
// with the effects it reports in the model's terms.
struct Restored {
  impl::BrokerCore core;
  Effects effects;
};
Restored restore(const impl::DurableImage& image, TimeNs crash_ns) {
  impl::BrokerCore core = std::move(impl::BrokerCore::create(config())).value();
  impl::Effects out;
  MQ_CHECK(core.restore(crash_ns, image, out).ok());
  return Restored{std::move(core), to_model_result(Status(), out).value()};
}

TEST(CrashTwin, ARecoveryOfWhatTheCoreHeldAgrees) {
  const impl::BrokerCore twin = running_core();
  Restored r = restore(twin.durable_image(), 50);
  EXPECT_EQ(r.effects.size(), 2u);  // #1 and #2 come back as failed deliveries
  EXPECT_EQ(crash_twin_disagreement(twin, 50, r.core, r.effects), std::nullopt);
}

// What the check says when recovery rebuilds the running core's image with `damage`
// done to it (empty: they agree).
template <typename Damage>
std::string disagreement_after(Damage damage) {
  const impl::BrokerCore twin = running_core();
  impl::DurableImage image = twin.durable_image();
  damage(image.queues[0]);
  Restored r = restore(image, 50);
  return crash_twin_disagreement(twin, 50, r.core, r.effects).value_or("");
}

TEST(CrashTwin, ARecoveryThatForgetsAnInFlightMessageIsNamed) {
  const std::string why = disagreement_after([](impl::QueueImage& q) {
    ASSERT_EQ(q.in_flight.size(), 2u);
    q.in_flight.pop_back();  // the log lost #2's delivery and the message
  });
  EXPECT_NE(why.find("queue 0: the ready messages differ"), std::string::npos) << why;
}

TEST(CrashTwin, ARecoveryThatAltersAMessageIsNamed) {
  const std::string why = disagreement_after(
      [](impl::QueueImage& q) { q.ready[0][0].payload = std::make_shared<const std::string>("altered"); });
  EXPECT_NE(why.find("ready messages differ"), std::string::npos) << why;
}

TEST(CrashTwin, ARecoveryThatForgetsAnIdOfTheWindowIsNamed) {
  const std::string why = disagreement_after([](impl::QueueImage& q) {
    ASSERT_EQ(q.window.size(), 3u);
    q.window.erase(q.window.begin());
  });
  EXPECT_NE(why.find("idempotency windows differ"), std::string::npos) << why;
}

TEST(CrashTwin, ANonDurableQueueThatKeepsAMessageIsNamed) {
  const impl::BrokerCore twin = running_core();
  Restored r = restore(twin.durable_image(), 50);
  impl::Effects out;
  ASSERT_TRUE(r.core.send(50, 0, 1, spec(9), out).ok());  // as if recovery had put it back
  const auto why = crash_twin_disagreement(twin, 50, r.core, r.effects);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("queue 1 holds 0 messages after the core's crash, 1 after recovery"), std::string::npos)
      << *why;
}

TEST(CrashTwin, EffectsThatDifferAreNamedAndTheirOrderIsNot) {
  const impl::BrokerCore twin = running_core();
  Restored r = restore(twin.durable_image(), 50);
  Effects reversed(r.effects.rbegin(), r.effects.rend());
  EXPECT_EQ(crash_twin_disagreement(twin, 50, r.core, reversed), std::nullopt);

  Effects missing = r.effects;
  missing.pop_back();
  const auto why = crash_twin_disagreement(twin, 50, r.core, missing);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("only the core's crash reports"), std::string::npos) << *why;

  Effects altered = r.effects;
  altered[0].message.attempts += 1;
  const auto why2 = crash_twin_disagreement(twin, 50, r.core, altered);
  ASSERT_TRUE(why2.has_value());
  EXPECT_NE(why2->find("the crash's effects differ: the core's crash reports"), std::string::npos) << *why2;
}

// The simulator checks its crashes this way: on the small default scenario's first
// seeds recoveries are matched and none disagrees.
TEST(CrashTwin, TheSimulatorMatchesItsRecoveries) {
  const Scenario s = test::scenario_of(test::small_json());
  uint64_t twins = 0, recoveries = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const SimResult r = simulate(s, seed);
    EXPECT_FALSE(r.recovery_failure.has_value()) << "seed " << seed << ": " << *r.recovery_failure;
    twins += r.disk.crash_twins;
    recoveries += r.disk.recoveries;
  }
  EXPECT_GT(twins, 0u);
  EXPECT_LE(twins, recoveries);
}

}  // namespace
}  // namespace mq::sim
