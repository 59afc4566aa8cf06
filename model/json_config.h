#pragma once
// Reading configuration files (topologies, explorer configs, scenarios) as JSON.
// Every error names the file and where in it: a syntax error by line and column, a
// bad field by its JSON path ("explore.json: /queues/1/capacity: must be > 0").
//
// Thread-safety: none needed; functions touch only their arguments.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/topology.h"

namespace mq {

// The whole file; kIoError naming the path if it cannot be read.
Result<std::string> read_text_file(const std::string& path);
// The file parsed as JSON; kIoError if it cannot be read, kInvalidArgument with
// line and column for a syntax error.
Result<nlohmann::json> read_json_file(const std::string& path);
Result<nlohmann::json> parse_json_text(std::string_view text, std::string_view file);

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
