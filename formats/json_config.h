#pragma once
// Reading configuration files (topologies, explorer configs, scenarios) as JSON.
// Every error names the file and where in it: a syntax error by line and column, a
// bad field by its JSON path ("explore.json: /queues/1/capacity: must be > 0").
//
// Every JSON text the project reads goes through parse_json_text or parse_json_line,
// which bound what a hostile file can cost: a file larger than kMaxConfigFileBytes,
// arrays and objects nested deeper than kMaxJsonDepth (nlohmann's dump, copy and
// comparison recurse once per level), and numbers too large for a double are errors
// naming the file, the line and the limit, never a crash.
//
// Thread-safety: none needed; functions touch only their arguments.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/topology.h"

namespace mq {

// Arrays and objects nest at most this deep in anything we read (our own files nest
// five levels at most).
inline constexpr size_t kMaxJsonDepth = 128;
// A configuration, scenario, run or summary file larger than this is refused.
inline constexpr size_t kMaxConfigFileBytes = size_t{64} << 20;

// The byte offset of the first '[' or '{' nested deeper than `max_depth` (strings are
// skipped), or nullopt. Exact for valid JSON; for invalid JSON it agrees with the
// parser up to the first syntax error, which is all a guard before parsing needs.
std::optional<size_t> json_too_deep(std::string_view text, size_t max_depth = kMaxJsonDepth);

// The whole file, at most kMaxConfigFileBytes; a missing file, a directory and an
// unreadable file each have their own message (formats/input_file.h).
Result<std::string> read_text_file(const std::string& path);
// The file parsed as JSON; errors as read_text_file, and kInvalidArgument with line
// and column for a syntax error, a nesting too deep or a number too large.
Result<nlohmann::json> read_json_file(const std::string& path);
Result<nlohmann::json> parse_json_text(std::string_view text, std::string_view file);

// One line of a JSON-lines file (a history, a summary): kCorruption prefixed with
// `where` ("FILE:N: ") for bad JSON ("not valid JSON at byte B: ..."), a nesting
// deeper than kMaxJsonDepth, a number too large, a value that is not an object, and
// with `refuse_duplicate_keys` a key that appears twice at the top level (nlohmann
// would keep the last silently).
Result<nlohmann::json> parse_json_line(std::string_view text, const std::string& where,
                                       bool refuse_duplicate_keys = false);

// Reads fields of one JSON object, remembering the first error with its path.
// Unknown keys are errors too: a misspelt option must not be silently ignored.
class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string file, std::string path);

  // Each reads `key` into `out` if present; `required` makes absence an error.
  JsonFields& u32(const char* key, uint32_t& out, bool required = false);
  JsonFields& u64(const char* key, uint64_t& out, bool required = false);
  JsonFields& i64(const char* key, int64_t& out, bool required = false);
  JsonFields& boolean(const char* key, bool& out, bool required = false);
  JsonFields& str(const char* key, std::string& out, bool required = false);
  // The sub-object or array at `key` (null if absent), for nested readers.
  const nlohmann::json* child(const char* key);
  std::string path_of(const char* key) const { return path_ + "/" + key; }
  void fail(const std::string& key_path, const std::string& what);
  // ok, or the first error; also reports keys nobody asked for.
  Status finish();

 private:
  const nlohmann::json* field(const char* key, bool required);
  const nlohmann::json& object_;
  std::string file_;
  std::string path_;
  std::vector<std::string> seen_;
  Status status_;
};

// Topology from its JSON form (docs/model.md, "Topology files"); validated.
Result<Topology> topology_from_json(const nlohmann::json& j, const std::string& file);
nlohmann::json topology_to_json(const Topology& t);

}  // namespace mq
