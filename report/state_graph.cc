#include "report/state_graph.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <sstream>
#include <thread>

extern char** environ;

namespace mq::report {
namespace {

std::string effects_text(const Effects& effects, const Topology& t) {
  if (effects.empty()) return "-";
  std::string s;
  for (const Effect& e : effects) {
    s += s.empty() ? "" : "; ";
    s += effect_kind_name(e.kind);
    s += " " + (e.queue < t.queues.size() ? t.queues[e.queue].name : "q" + std::to_string(e.queue));
    s += " #" + std::to_string(e.message.id);
    if (e.consumer != kNoConsumer) {
      s += " " + (e.consumer < t.consumers.size() ? t.consumers[e.consumer].name
                                                  : "c" + std::to_string(e.consumer));
    }
  }
  return s;
}

void add_steps(CounterexampleView& v, const std::vector<explorer::ExploreStep>& steps, const Topology& t) {
  for (const explorer::ExploreStep& s : steps) v.steps.push_back({to_string(s.op), effects_text(s.effects, t)});
}

// states[0..n]: the initial state and the state after each step, by replaying the
// operations; stops (with a note) where the replay fails, which would mean the
// explorer and the replay disagree.
void rebuild_states(CounterexampleView& v, const explorer::ExploreConfig& config, const ApplyFn& apply,
                    const std::vector<explorer::ExploreStep>& steps) {
  auto model = Model::create(config.topology);
  if (!model.ok()) {
    v.replay_note = "the configuration's topology is invalid: " + model.status().message();
    return;
  }
  Model m = std::move(model).value();
  v.states.push_back(state_summary(m.state(), config.topology));
  for (size_t i = 0; i < steps.size(); ++i) {
    const Result<Effects> r = apply(m, steps[i].op);
    // The explorer records what its ApplyFn answered; a replay that answers otherwise
    // means the graph would show other states than the search saw: say so.
    const Effects got = r.ok() ? *r : Effects{};
    if (got != steps[i].effects && v.replay_note.empty()) {
      v.replay_note = "the replay's effects differ from the explorer's at step " + std::to_string(i + 1) +
                      ": states from there on may differ from what the explorer saw";
    }
    v.states.push_back(state_summary(m.state(), config.topology));
  }
}

std::string dot_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\l";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string state_summary(const ModelState& state, const Topology& t) {
  std::ostringstream o;
  o << "t=" << state.now_ns << (state.up ? " up" : " DOWN");
  for (size_t c = 0; c < state.attached.size() && c < t.consumers.size(); ++c) {
    if (state.attached[c] == 0) o << " " << t.consumers[c].name << ":detached";
  }
  o << "\n";
  for (size_t q = 0; q < state.queues.size() && q < t.queues.size(); ++q) {
    const QueueState& qs = state.queues[q];
    o << t.queues[q].name << ":";
    for (size_t p = qs.ready.size(); p-- > 0;) {
      for (const auto& m : qs.ready[p]) o << " #" << m.id << "p" << static_cast<int>(p);
    }
    for (const auto& m : qs.delayed) o << " #" << m.id << "(delayed)";
    for (const auto& f : qs.in_flight) {
      o << " #" << f.message.id << "->"
        << (f.consumer < t.consumers.size() ? t.consumers[f.consumer].name : "?");
    }
    for (const auto& f : qs.finished) o << " #" << f.id << ":" << fate_name(f.fate);
    o << "\n";
  }
  return o.str();
}

CounterexampleView counterexample_view(std::string title, const explorer::ExploreConfig& config, const ApplyFn& apply,
                                       const explorer::Counterexample& cx) {
  CounterexampleView v;
  v.title = std::move(title);
  v.property = property_name(cx.violation.property);
  v.message = cx.violation.message;
  add_steps(v, cx.steps, config.topology);
  rebuild_states(v, config, apply, cx.steps);
  return v;
}

CounterexampleView lasso_view(std::string title, const explorer::ExploreConfig& config, const ApplyFn& apply,
                              const explorer::Lasso& lasso) {
  CounterexampleView v;
  v.title = std::move(title);
  v.property = "liveness";
  v.message = lasso.stuck + " never finishes on a cycle fair to consumers and time";
  std::vector<explorer::ExploreStep> all = lasso.prefix;
  all.insert(all.end(), lasso.cycle.begin(), lasso.cycle.end());
  add_steps(v, all, config.topology);
  rebuild_states(v, config, apply, all);
  v.cycle_from = lasso.prefix.size();
  return v;
}

std::string state_graph_dot(const CounterexampleView& v) {
  std::ostringstream o;
  o << "digraph counterexample {\n  rankdir=TB;\n  node [shape=box, fontname=\"DejaVu Sans Mono\", "
       "fontsize=10];\n"
    << "  edge [fontname=\"DejaVu Sans\", fontsize=9];\n";
  const size_t n = v.steps.size();
  // With a lasso the last state is the cycle's start again: it gets no node of its own.
  const size_t nodes = v.cycle_from ? n : n + 1;
  for (size_t i = 0; i < nodes; ++i) {
    const std::string label = i < v.states.size() ? v.states[i] : "state " + std::to_string(i) + "\n";
    o << "  s" << i << " [label=\"s" << i << "  " << dot_escape(label) << "\"";
    if (i == 0) o << ", style=bold";
    if (!v.cycle_from && i == n) o << ", color=red, fontcolor=red, penwidth=2";
    if (v.cycle_from && i == *v.cycle_from) o << ", color=orange, penwidth=2";
    o << "];\n";
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t to = (v.cycle_from && i + 1 == n) ? *v.cycle_from : i + 1;
    o << "  s" << i << " -> s" << to << " [label=\"" << i + 1 << ": " << dot_escape(v.steps[i].op) << "\\l"
      << dot_escape(v.steps[i].effects) << "\\l\"";
    if (!v.cycle_from && i + 1 == n) o << ", color=red, fontcolor=red, penwidth=2";
    if (v.cycle_from && i >= *v.cycle_from) o << ", color=orange";
    o << "];\n";
  }
  o << "}\n";
  return o.str();
}

Status render_dot(const std::string& dot_path, const std::string& svg_path) {
  std::string arg0 = "dot", arg1 = "-Tsvg", arg2 = dot_path, arg3 = "-o", arg4 = svg_path;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), arg3.data(), arg4.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "dot", nullptr, nullptr, argv, environ);
  if (rc != 0) {
    return not_found(std::string("Graphviz 'dot' could not be started (") + std::strerror(rc) +
                     "): install Debian's graphviz to draw the state graph");
  }
  constexpr int kPollMs = 10;
  for (int waited_ms = 0;; waited_ms += kPollMs) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status();
      if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return not_found("Graphviz 'dot' is not installed");
      return io_error("dot -Tsvg " + dot_path + " failed (status " + std::to_string(status) + ")");
    }
    if (done < 0 && errno != EINTR) return io_error("waiting for dot: " + std::string(std::strerror(errno)));
    if (waited_ms >= kDotTimeoutS * 1000) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return io_error("dot -Tsvg " + dot_path + " ran over " + std::to_string(kDotTimeoutS) +
                      " s and was killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
}

}  // namespace mq::report
