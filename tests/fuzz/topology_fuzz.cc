// Fuzz target: the topology readers. The first byte chooses which: a topology file
// (formats/json_config.h, docs/model.md), mqd's broker configuration (the topology
// format plus the broker's own fields, apps/mqd_config.h), or a sweep summary line
// (apps/sweep_summary.h, what `sweep --merge` reads from shard files). Whatever the
// bytes: a value or an error naming the file, never a crash. A topology that is
// read is valid, and writing it and reading it back gives the same topology; a
// summary that is read writes back to a line that reads to the same summary.
#include "apps/mqd_config.h"
#include "apps/sweep_summary.h"
#include "formats/json_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace mq;

void topology(std::string_view text) {
  auto j = parse_json_text(text, "fuzz.json");
  if (!j.ok()) {
    fuzz::expect_reader_error(j.status(), "fuzz.json:", {Code::kInvalidArgument});
    return;
  }
  auto t = topology_from_json(*j, "fuzz.json");
  if (!t.ok()) {
    fuzz::expect_reader_error(t.status(), "fuzz.json", {Code::kInvalidArgument, Code::kAlreadyExists, Code::kNotFound});
    return;
  }
  FUZZ_EXPECT(t->validate().ok(), t->validate().to_string());
  const nlohmann::json written = topology_to_json(*t);
  auto again = topology_from_json(written, "written.json");
  FUZZ_EXPECT(again.ok(), again.status().to_string() + "\n" + written.dump());
  FUZZ_EXPECT(topology_to_json(*again) == written, "written and read again, the topology differs: " + written.dump());
}

void broker_config(std::string_view text) {
  auto c = app::broker_config_from_json_text(std::string(text), "fuzz.json");
  if (!c.ok()) {
    fuzz::expect_reader_error(c.status(), "fuzz.json", {Code::kInvalidArgument, Code::kAlreadyExists, Code::kNotFound});
    return;
  }
  FUZZ_EXPECT(c->validate().ok(), c->validate().to_string());
}

void summary(std::string_view text) {
  auto j = parse_json_line(text, "fuzz.json:1: ");
  if (!j.ok()) return;
  auto s = app::summary_from_json(*j, "fuzz.json:1");
  if (!s.ok()) {
    fuzz::expect_reader_error(s.status(), "fuzz.json:1", {Code::kInvalidArgument});
    return;
  }
  const std::string line = app::summary_line(*s);
  auto j2 = parse_json_line(line, "written:1: ");
  FUZZ_EXPECT(j2.ok(), j2.status().to_string());
  auto again = app::summary_from_json(*j2, "written:1");
  FUZZ_EXPECT(again.ok(), again.status().to_string() + "\n" + line);
  FUZZ_EXPECT(app::summary_line(*again) == line, "written and read again, the summary differs: " + line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text = fuzz::text_of(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: topology(text); break;
    case 1: broker_config(text); break;
    default: summary(text); break;
  }
  return 0;
}
