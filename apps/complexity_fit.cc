#include "apps/complexity_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "base/check.h"

namespace mq {

const char* complexity_name(Complexity c) {
  switch (c) {
    case Complexity::kConstant:
      return "O(1)";
    case Complexity::kLog:
      return "O(log n)";
    case Complexity::kLinear:
      return "O(n)";
    case Complexity::kNLogN:
      return "O(n log n)";
  }
  return "?";
}

namespace {

double shape(Complexity c, double n) {
  switch (c) {
    case Complexity::kConstant:
      return 0;
    case Complexity::kLog:
      return std::log2(n);
    case Complexity::kLinear:
      return n;
    case Complexity::kNLogN:
      return n * std::log2(n);
  }
  return 0;
}

// Weighted least squares on relative residuals (weight 1/cost^2): costs span orders
// of magnitude, and plain residuals would let the largest sizes decide alone.
ClassFit fit_one(Complexity c, const std::vector<CostPoint>& pts) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& p : pts) {
    const double w = 1.0 / std::max(p.cost * p.cost, 1e-300);
    const double x = shape(c, p.n);
    sw += w;
    sx += w * x;
    sy += w * p.cost;
    sxx += w * x * x;
    sxy += w * x * p.cost;
  }
  ClassFit f{c, sy / sw, 0, 0};
  const double var = sxx - sx * sx / sw;
  if (c != Complexity::kConstant && var > 0) {
    f.b = std::max(0.0, (sxy - sx * sy / sw) / var);  // a cost does not fall as n grows
    f.a = (sy - f.b * sx) / sw;
  }
  for (const auto& p : pts) {
    const double r = (p.cost - (f.a + f.b * shape(c, p.n))) / std::max(p.cost, 1e-300);
    f.rss += r * r;
  }
  return f;
}

// Least-squares slope of log(cost) against log(n): about 0 for O(1), small for
// O(log n), about 1 for O(n), a little above 1 for O(n log n).
double loglog_slope(const std::vector<CostPoint>& pts) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double k = static_cast<double>(pts.size());
  for (const auto& p : pts) {
    const double x = std::log(p.n), y = std::log(std::max(p.cost, 1e-300));
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double var = sxx - sx * sx / k;
  return var > 0 ? (sxy - sx * sy / k) / var : 0;
}

}  // namespace

FitResult fit_complexity(const std::vector<CostPoint>& points) {
  MQ_CHECK(points.size() >= 3);
  FitResult r;
  for (Complexity c : {Complexity::kConstant, Complexity::kLog, Complexity::kLinear, Complexity::kNLogN}) {
    r.fits.push_back(fit_one(c, points));
  }
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
  const auto range = std::minmax_element(points.begin(), points.end(),
                                         [](const CostPoint& x, const CostPoint& y) { return x.n < y.n; });
  const auto lo = range.first;
  const auto hi = range.second;
  // A class counts only if its growth term explains a real part of the cost over the
  // range; otherwise it is O(1) in disguise (cache effects, noise).
  auto counts = [&](const ClassFit& f) {
    if (f.klass == Complexity::kConstant) return true;
    const double explained = f.b * (shape(f.klass, hi->n) - shape(f.klass, lo->n));
    return explained > kMinGrowthEffect * std::max(lo->cost, 1e-300);
  };
  // The log-log slope separates sublinear from (super)linear growth robustly; the
  // residuals then choose within the group.
  r.loglog_slope = loglog_slope(points);
  const bool superlinear = r.loglog_slope >= kLinearSlope;
  auto in_group = [&](const ClassFit& f) {
    const bool linear_family = f.klass == Complexity::kLinear || f.klass == Complexity::kNLogN;
    return linear_family == superlinear && counts(f);
  };
  double best_rss = std::numeric_limits<double>::infinity();
  for (const auto& f : r.fits)
    if (in_group(f)) best_rss = std::min(best_rss, f.rss);
  // The simplest class of the group within the slack of the group's best fit.
  size_t chosen = 0;
  while (chosen + 1 < r.fits.size() &&
         (!in_group(r.fits[chosen]) || r.fits[chosen].rss > best_rss * kSimplerSlack + 1e-12)) {
    ++chosen;
  }
  r.best = r.fits[chosen].klass;
  double runner_up = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < r.fits.size(); ++i) {
    if (i != chosen && in_group(r.fits[i])) runner_up = std::min(runner_up, r.fits[i].rss);
  }
  r.confidence_ratio =
      r.fits[chosen].rss > 0 ? runner_up / r.fits[chosen].rss : std::numeric_limits<double>::infinity();
  r.growth = lo->cost > 0 ? hi->cost / lo->cost : 0;
  return r;
}

std::string describe(const FitResult& r) {
  std::ostringstream o;
  o.precision(3);
  o << complexity_name(r.best) << " (log-log slope " << r.loglog_slope << "; ";
  if (std::isinf(r.confidence_ratio)) {
    o << "no other class of its group fits";
  } else {
    o << "residual of the other class of its group / this one = " << r.confidence_ratio;
  }
  o << "; cost grows " << r.growth << "x over the range)";
  return o.str();
}

}  // namespace mq
