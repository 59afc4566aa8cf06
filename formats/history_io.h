#pragma once
// History I/O: the JSON-lines format of docs/history-format.md (version 1). One
// event per line, one flat JSON object per event, keys written in a fixed order so
// that the same history always gives the same bytes.
//
// Reading never crashes and never skips: every malformed line is a Status that names
// the file, the 1-based line number and, where there is one, the field:
//   "run.jsonl:7: field 'time': 5 is before the previous event's time 10".
// Memory per line is bounded (kMaxHistoryLineBytes, kMaxJsonDepth), and a missing
// file, a directory and an unreadable file each have their own message.
// Errors: kCorruption for a malformed file (bad JSON, missing or unknown field, wrong
// type, unknown f or type, time going backwards, unpaired completion, truncated last
// line), kNotFound for a missing file and kInvalidArgument for a directory
// (formats/input_file.h), kIoError when the file cannot be opened or read, kInvalidArgument from the
// writer for an event that cannot be written (a payload that is not UTF-8).
//
// Thread-safety: none needed; functions touch only their arguments.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "base/status.h"
#include "formats/line_reader.h"
#include "model/history.h"

namespace mq {

// A line longer than this is refused: no history we write comes near it, and the
// bound keeps a corrupt file from costing unbounded memory per event.
inline constexpr size_t kMaxHistoryLineBytes = size_t{16} << 20;

// One event as one JSON line (without the newline), keys in the order of
// docs/history-format.md. Fails only for a payload or name that is not UTF-8.
Result<std::string> to_json(const HistoryEvent& e);

// One JSON line to an event. `index` is its position, used when the line has no
// "index"; `line` is stored in the event. Checks the line on its own (shape,
// types, version), not against its neighbours (see HistoryValidator).
Result<HistoryEvent> from_json(std::string_view text, std::string_view file, uint64_t line,
                               uint64_t index);

// Called once per event, in order; a non-ok Status stops the reading and is returned.
using HistoryEventSink = std::function<Status(HistoryEvent&& event)>;

// Streams the events of `in` to `sink`, validating the history as it goes (so
// memory is what the sink keeps). `file` names the source in error messages.
Status read_history_stream(std::istream& in, std::string_view file, const HistoryEventSink& sink);
// The same from lines already opened (formats/line_reader.h), e.g. after the format
// was told from the first of them and the reader rewound.
Status read_history_lines(LineReader& lines, const HistoryEventSink& sink);
// The same for a file on disk.
Status for_each_history_event(const std::string& path, const HistoryEventSink& sink);

// The whole history in memory; History::source is `path` (or `file`).
Result<History> read_history(const std::string& path);
Result<History> parse_history(std::string_view text, std::string_view file);

// One line per event, each ending in '\n'. Writes nothing and fails if any event
// cannot be written.
Result<std::string> format_history(const History& history);
Status write_history(const History& history, std::ostream& out);
Status write_history_file(const History& history, const std::string& path);

}  // namespace mq
