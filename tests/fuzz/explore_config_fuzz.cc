// Fuzz target: the explorer configuration reader (explorer/explore_config.h,
// docs/explorer.md). Whatever the bytes: a configuration or an error naming the file,
// never a crash. A configuration the reader accepts can be explored: a search of a
// few hundred states runs on it, with every transition of the packed state space
// compared with the model's own code (cross-check), so a configuration that the
// packing mishandles shows up as a disagreement, not a wrong proof.
#include "explorer/explore_config.h"
#include "explorer/explorer.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mq;
  using namespace mq::explorer;
  const std::string_view text = fuzz::text_of(data, size);
  auto c = explore_config_from_json_text(text, "fuzz.json");
  if (!c.ok()) {
    fuzz::expect_reader_error(c.status(), "fuzz.json", {Code::kInvalidArgument, Code::kAlreadyExists, Code::kNotFound});
    return 0;
  }
  FUZZ_EXPECT(c->topology.validate().ok(), c->topology.validate().to_string());
  ExploreConfig small = *c;
  small.max_states = 300;
  small.max_memory_bytes = 64u << 20;
  const ExploreResult r = explore(small, SearchOptions{.cross_check = true});
  FUZZ_EXPECT(r.states <= small.max_states + 64 || r.complete, "the state bound did not hold");
  return 0;
}
