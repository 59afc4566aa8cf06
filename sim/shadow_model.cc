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

void ShadowModel::compare(const std::string& what, const Result<Effects>& model, const Result<Effects>& core) {
  ++steps_;
  if (same(model, core)) return;
  divergence_ = Divergence{steps_, model_.now(), what, describe(model), describe(core)};
}

}  // namespace mq::sim
