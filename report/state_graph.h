#pragma once
// Counterexamples of the explorer (explore, audit) as a person reads them: a step
// table and a state graph. The states along the path are rebuilt by replaying the
// steps' operations on a fresh model of the configuration with the same ApplyFn the
// explorer used (the model, or a broken variant), so the graph shows what the
// explorer saw. The graph is Graphviz DOT; `dot -Tsvg` draws it when Debian's
// graphviz is installed, otherwise the report shows the DOT text and says why.
//
// Thread-safety: counterexample_view() and state_graph_dot() are pure; render_dot_svg()
// runs a child process and waits for it.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "explorer/explore_config.h"
#include "explorer/explorer.h"
#include "properties/model_walk.h"

namespace mq::report {

struct StepRow {
  std::string op;       // "send p0 q #1 ..."
  std::string effects;  // "delivered tasks #1 to c0; ..." ("-" when none)
};

struct CounterexampleView {
  std::string title;     // "explore configs/explore-small.json", "Theorem 3.1.1, as stated"
  std::string property;  // the property violated ("liveness" for a lasso)
  std::string message;   // why, as the explorer said it
  std::vector<StepRow> steps;
  std::vector<std::string> states;   // states[0] initial, states[i] after step i; empty if not rebuilt
  std::optional<size_t> cycle_from;  // a lasso: the last step returns to states[cycle_from]
  std::string replay_note;           // why states are missing, when they are
};

// A counterexample, or a lasso (prefix then cycle), with states rebuilt by replay.
CounterexampleView counterexample_view(std::string title, const explorer::ExploreConfig& config, const ApplyFn& apply,
                                       const explorer::Counterexample& cx);
CounterexampleView lasso_view(std::string title, const explorer::ExploreConfig& config, const ApplyFn& apply,
                              const explorer::Lasso& lasso);

// One node per state, one edge per step labelled with its operation; the violating
// step's edge and state in red; a lasso's closing edge back to the cycle's start.
std::string state_graph_dot(const CounterexampleView& view);

// Graphviz draws the graph at `dot_path` into `svg_path` (`dot -Tsvg`, found on
// PATH). Errors: kNotFound when dot is not installed, kIoError when it fails or runs
// longer than kDotTimeoutS (it is then killed).
inline constexpr int kDotTimeoutS = 30;
Status render_dot(const std::string& dot_path, const std::string& svg_path);

// A compact multi-line summary of a state, with the topology's names.
std::string state_summary(const ModelState& state, const Topology& topology);

}  // namespace mq::report
