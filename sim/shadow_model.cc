#include "sim/shadow_model.h"

namespace mq::sim {
namespace {

Model make_model(const Topology& topology) {
  auto m = Model::create(topology);
  MQ_CHECK_MSG(m.ok(), "the shadow needs a valid topology");
  return std::move(m).value();
}

std::string describe(const Result<Effects>& r) {
  if (!r.ok()) return std::string("error ") + code_name(r.status().code()) + " (" + r.status().message() + ")";
  if (r->empty()) return "ok, no effects";
  std::string s = "ok:";
  for (const auto& e : *r) s += "\n      " + mq::to_string(e);
  return s;
}

bool same(const Result<Effects>& a, const Result<Effects>& b) {
  if (a.ok() != b.ok()) return false;
  if (!a.ok()) return a.status().code() == b.status().code();
  return *a == *b;
}

}  // namespace

std::string Divergence::to_string() const {
  return "step " + std::to_string(step) + " at " + std::to_string(time_ns) + " ns, " + op + ":\n    model: " +
         model + "\n    core:  " + core;
}

ShadowModel::ShadowModel(const Topology& topology) : model_(make_model(topology)) {}

void ShadowModel::advance(TimeNs now_ns, const Result<Effects>& core) {
  if (divergence_) return;
  compare("advance to " + std::to_string(now_ns) + " ns", model_.advance(now_ns), core);
}

void ShadowModel::apply(const Op& op, const Result<Effects>& core) {
  if (divergence_) return;
  compare(mq::to_string(op), model_.apply(op), core);
}

void ShadowModel::crash(TimeNs now_ns, const Result<Effects>& core, const std::vector<bool>& durable) {
  if (divergence_) return;
  auto durable_only = [&](const Effects& in) {
    Effects out;
    for (const auto& e : in) {
      if (e.kind != EffectKind::kLost && durable[e.queue]) out.push_back(e);
    }
    return out;
  };
  Result<Effects> advanced = model_.advance(now_ns);
  MQ_CHECK(advanced.ok());
  Result<Effects> crashed = model_.crash();
  if (!crashed.ok()) return compare("crash at " + std::to_string(now_ns) + " ns", crashed, core);
  Effects model = durable_only(*advanced);
  for (const auto& e : durable_only(*crashed)) model.push_back(e);
  const Result<Effects> restored = core.ok() ? Result<Effects>(durable_only(*core)) : core;
  compare("crash at " + std::to_string(now_ns) + " ns and restore from the log (durable queues)", model, restored);
}

// The model remembers every finished id forever (to refuse a duplicate) and looks
// them up linearly: O(n) per publish. A simulated producer resends only the message
// it is waiting on, and a network copy of a request lives milliseconds, so ids
// finished kKeepFinishedIds messages ago can never come back; the shadow forgets them
// (as the refinement checker does), which keeps a long run linear.
void ShadowModel::prune_finished() {
  bool over = false;
  for (const auto& qs : model_.state().queues) over = over || qs.finished.size() > 2 * kKeepFinishedIds;
  if (!over) return;
  ModelState s = model_.state();
  for (auto& qs : s.queues) {
    if (qs.finished.size() <= kKeepFinishedIds) continue;
    qs.finished.erase(qs.finished.begin(), qs.finished.end() - static_cast<std::ptrdiff_t>(kKeepFinishedIds));
  }
  model_ = Model(model_.wiring(), std::move(s));
}

void ShadowModel::compare(const std::string& what, const Result<Effects>& model, const Result<Effects>& core) {
  ++steps_;
  if (steps_ % kPruneEverySteps == 0) prune_finished();
  if (same(model, core)) return;
  divergence_ = Divergence{steps_, model_.now(), what, describe(model), describe(core)};
}

}  // namespace mq::sim
