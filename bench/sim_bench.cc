// The simulator's speed on one core: simulated events (agenda events: packet
// arrivals and timers) per second, and the wall time of one seed of the default
// scenario (about 10k messages with every fault kind of the scenario), with and
// without the shadow model, and the checkers' time on that seed's history.
#include <benchmark/benchmark.h>

#include "properties/checkers/check_all.h"
#include "sim/simulator.h"

namespace {

using mq::sim::SimOptions;

void run_default(benchmark::State& state, bool shadow, bool keep_history) {
  const mq::sim::Scenario s = mq::sim::default_scenario();
  SimOptions o;
  o.shadow = shadow;
  o.keep_history = keep_history;
  uint64_t seed = 1, events = 0, messages = 0;
  for (auto _ : state) {
    const auto r = mq::sim::simulate(s, seed++ % 16 + 1, o);
    events += r.events;
    messages += r.params.messages;
    benchmark::DoNotOptimize(r.history_hash);
  }
  state.counters["sim_events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events/seed"] = benchmark::Counter(static_cast<double>(events) / static_cast<double>(state.iterations()));
  state.counters["messages/seed"] =
      benchmark::Counter(static_cast<double>(messages) / static_cast<double>(state.iterations()));
}

// One default seed as a sweep runs it (shadow on, history kept for the checkers).
void BM_DefaultSeed(benchmark::State& state) { run_default(state, true, true); }
// The simulator alone: no shadow model, no history kept (only its hash).
void BM_DefaultSeedNoShadow(benchmark::State& state) { run_default(state, false, false); }

void BM_CheckAllDefaultSeed(benchmark::State& state) {
  const mq::sim::Scenario s = mq::sim::default_scenario();
  const auto r = mq::sim::simulate(s, 1);
  for (auto _ : state) {
    auto v = mq::check_all(r.history, s.topology, mq::CheckOptions{.complete = r.quiescent});
    benchmark::DoNotOptimize(v);
  }
  state.counters["history_events"] = static_cast<double>(r.history.events.size());
}

BENCHMARK(BM_DefaultSeed)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DefaultSeedNoShadow)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckAllDefaultSeed)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
