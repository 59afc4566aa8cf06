// Fuzz target: the scenario reader (sim/scenario.h, docs/simulator.md). Whatever the
// bytes: a Scenario or an error naming the file, never a crash. A scenario the
// reader accepts is one the simulator can run: its parameters derive for any seed,
// and a short run of it (a few messages, cut after a few hundred history events)
// completes, since a reader that lets through what the simulator cannot take only
// moves the crash to a later, costlier place.
#include "sim/scenario.h"
#include "sim/sim_params.h"
#include "sim/simulator.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mq;
  const std::string_view text = fuzz::text_of(data, size);
  auto s = sim::scenario_from_text(text, "fuzz.json");
  if (!s.ok()) {
    fuzz::expect_reader_error(s.status(), "fuzz.json", {Code::kInvalidArgument, Code::kAlreadyExists, Code::kNotFound});
    return 0;
  }
  FUZZ_EXPECT(s->topology.validate().ok(), s->topology.validate().to_string());
  for (uint64_t seed : {uint64_t{1}, uint64_t{0xdeadbeef}}) (void)sim::derive_params(*s, seed, {});
  // A short run, only where it stays short: the simulated time is bounded by the
  // scenario's durations, the work by the messages and the cut.
  constexpr TimeNs kMaxRunNs = 2'000'000'000;
  if (s->durations.faulty_ns + s->durations.healing_ns > kMaxRunNs) return 0;
  sim::SimOptions options;
  options.overrides.messages = 3;
  options.stop_after_events = 300;
  const sim::SimResult r = sim::simulate(*s, 7, options);
  FUZZ_EXPECT(r.history_events <= 300 || !r.cut, "the cut did not stop the run");
  return 0;
}
