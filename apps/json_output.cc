#include "apps/json_output.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "model/history.h"

namespace mq::app {
namespace {

struct JsonState {
  nlohmann::ordered_json object;
  int stdout_fd = -1;  // the real standard output
  pid_t owner = 0;     // only this process writes the object
};
std::optional<JsonState> state;

const char* outcome(int status) {
  switch (status) {
    case 0:
      return "ok";
    case 1:
      return "violated";
    case 2:
      return "input error";
    case 3:
      return "bound reached";
    default:
      return "died";
  }
}

}  // namespace

bool start_json_output(const std::string& program, const std::string& verb) {
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  if (saved < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    std::fprintf(stderr, "%s %s: --json: cannot redirect standard output: %s\n", program.c_str(),
                 verb.c_str(), std::strerror(errno));
    return false;
  }
  state.emplace();
  state->object = nlohmann::ordered_json::object();
  state->object[program + "_" + verb] = 1;
  state->stdout_fd = saved;
  state->owner = ::getpid();
  return true;
}

nlohmann::ordered_json* json_result() {
  return state && state->owner == ::getpid() ? &state->object : nullptr;
}

void json_add_verdicts(const std::vector<Verdict>& verdicts) {
  nlohmann::ordered_json* j = json_result();
  if (j == nullptr) return;
  nlohmann::ordered_json& list = (*j)["verdicts"];
  if (!list.is_array()) list = nlohmann::ordered_json::array();
  for (const Verdict& v : verdicts) {
    nlohmann::ordered_json witness = nlohmann::ordered_json::array();
    for (const auto& e : v.witness) witness.push_back(to_string(e));
    list.push_back(
        {{"property", v.property}, {"valid", v.valid}, {"message", v.message}, {"witness", witness}});
  }
}

void json_set(const std::string& key, nlohmann::ordered_json value) {
  if (nlohmann::ordered_json* j = json_result()) (*j)[key] = std::move(value);
}

int finish_json_output(int status) {
  nlohmann::ordered_json* j = json_result();
  if (j == nullptr) return status;
  (*j)["exit_status"] = status;
  (*j)["outcome"] = outcome(status);
  std::fflush(stdout);
  const std::string line = j->dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  // Bounded: each round writes at least one byte or stops.
  for (size_t done = 0, round = 0; done < line.size() && round <= line.size(); ++round) {
    const ssize_t n = ::write(state->stdout_fd, line.data() + done, line.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return status;
}

}  // namespace mq::app
