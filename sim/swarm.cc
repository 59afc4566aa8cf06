#include "sim/swarm.h"

#include <nlohmann/json.hpp>

#include "base/prng.h"
#include "formats/json_config.h"

namespace mq::sim {
namespace {

using Json = nlohmann::json;

std::vector<std::string> steps_of(const std::string& path) {
  std::vector<std::string> steps;
  // Bounded by the path: each round consumes one step.
  for (size_t at = 1; at <= path.size();) {
    const size_t end = std::min(path.find('/', at), path.size());
    std::string step = path.substr(at, end - at);
    for (size_t k = 0; (k = step.find('~', k)) != std::string::npos; ++k) {
      step.replace(k, 2, k + 1 < step.size() && step[k + 1] == '1' ? "/" : "~");
    }
    steps.push_back(std::move(step));
    at = end + 1;
  }
  return steps;
}

std::string escape(const std::string& step) {
  std::string out;
  for (char c : step) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

// Every concrete place `steps` names in `j`, from step `k` on, as JSON pointers: the
// last step may name a key not there yet (it is added).
void places(const Json& j, const std::vector<std::string>& steps, size_t k, const std::string& at,
            std::vector<std::string>& out) {
  if (k == steps.size()) {
    out.push_back(at);
    return;
  }
  const std::string& step = steps[k];
  const bool last = k + 1 == steps.size();
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      if (step == "*" || step == std::to_string(i)) places(j[i], steps, k + 1, at + "/" + std::to_string(i), out);
    }
  } else if (j.is_object()) {
    if (step == "*") {
      for (const auto& [key, v] : j.items()) places(v, steps, k + 1, at + "/" + escape(key), out);
    } else if (j.contains(step)) {
      places(j[step], steps, k + 1, at + "/" + escape(step), out);
    } else if (last) {
      out.push_back(at + "/" + escape(step));
    }
  }
}

std::vector<std::string> places_of(const Json& doc, const std::string& path) {
  std::vector<std::string> out;
  places(doc, steps_of(path), 0, "", out);
  return out;
}

// Puts `value` at `place` (null: removes the key).
void put(Json& doc, const std::string& place, const Json& value) {
  const Json::json_pointer p(place);
  if (!value.is_null()) {
    doc[p] = value;
    return;
  }
  Json& parent = doc[p.parent_pointer()];
  if (parent.is_object()) parent.erase(p.back());
}

Json value_of(const SwarmRule& r, Prng& prng) {
  if (r.choices.empty()) return r.range.draw(prng);
  return Json::parse(r.choices[prng.uniform(r.choices.size())]);
}

}  // namespace

Result<Scenario> draw_scenario(const Scenario& s, uint64_t seed, std::vector<std::string>* drawn) {
  if (s.swarm.empty()) return s;
  auto parsed = parse_json_text(s.text, s.file);
  if (!parsed.ok()) return parsed.status();
  Json doc = std::move(parsed).value();
  doc.erase("swarm");
  Prng prng(derive_seed(seed, "topology"));
  std::vector<std::string> lines;
  for (size_t i = 0; i < s.swarm.size(); ++i) {
    const std::vector<std::string> at = places_of(doc, s.swarm[i].path);
    if (at.empty()) {
      return invalid_argument(s.file + ": /swarm/" + std::to_string(i) + "/path: '" + s.swarm[i].path +
                              "' matches no place in the scenario");
    }
    for (const auto& place : at) {
      const Json v = value_of(s.swarm[i], prng);
      put(doc, place, v);
      lines.push_back(place + "=" + v.dump());
    }
  }
  auto out = scenario_from_text(doc.dump(2), s.file);
  if (!out.ok()) {
    std::string values;
    for (const auto& l : lines) values += (values.empty() ? "" : ", ") + l;
    return invalid_argument(s.file + ": /swarm: seed " + std::to_string(seed) + " draws a scenario that is not valid (" +
                            values + "): " + out.status().message());
  }
  Scenario drawn_scenario = std::move(out).value();
  drawn_scenario.name = s.name;
  if (drawn != nullptr) *drawn = std::move(lines);
  return drawn_scenario;
}

}  // namespace mq::sim
