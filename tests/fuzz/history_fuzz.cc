// Fuzz target: the mqharness history reader (formats/history_io.h, docs/history-format.md).
// Whatever the bytes: a History, or kCorruption naming the file and the line, never
// a crash. What it accepts the writer writes back, and reading that gives the very
// same events (format_history inverts parse_history on everything it accepts); the
// writer's text is a fixed point (formatting it again gives the same bytes).
#include "formats/history_io.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mq;
  const std::string_view text = fuzz::text_of(data, size);
  auto history = parse_history(text, "fuzz.jsonl");
  if (!history.ok()) {
    fuzz::expect_reader_error(history.status(), "fuzz.jsonl:", {Code::kCorruption});
    return 0;
  }
  auto written = format_history(*history);
  FUZZ_EXPECT(written.ok(), written.status().to_string());
  auto again = parse_history(*written, "written.jsonl");
  FUZZ_EXPECT(again.ok(), again.status().to_string() + "\nwritten:\n" + *written);
  FUZZ_EXPECT(again->events == history->events, "read, written and read again, the events differ:\n" + *written);
  auto rewritten = format_history(*again);
  FUZZ_EXPECT(rewritten.ok() && *rewritten == *written, "the writer's text is not a fixed point");
  return 0;
}
