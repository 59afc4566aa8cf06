#pragma once
// Fitting measured costs to complexity classes, for the complexity claims of the
// origin document's Theorem 4.2. Pure arithmetic on (size, cost) points; the
// measuring is done by the `complexity` command.
//
// First the log-log slope decides between sublinear and at least linear growth
// (Goldsmith, Aiken, Wilkerson, "Measuring empirical computational complexity",
// FSE 2007, fit costs the same way). Then each class f in {1, log n, n, n log n} is fitted as cost = a +
// b·f(n) by least squares on relative residuals, with b >= 0. The reported class is the simplest one whose
// residual is within kSimplerSlack of the best residual: noise on a flat curve must not be taken for a slow
// logarithm, and a growth term that explains less than kMinGrowthEffect of the cost over the range does not
// count. Confidence is how much worse the runner-up fits (infinite when no other class shows real growth).

#include <string>
#include <vector>

namespace mq {

enum class Complexity { kConstant, kLog, kLinear, kNLogN };
const char* complexity_name(Complexity c);  // "O(1)", "O(log n)", "O(n)", "O(n log n)"

struct CostPoint {
  double n = 0;     // problem size (messages, consumers), > 0
  double cost = 0;  // cost per operation (ns, or counted steps)
};

struct ClassFit {
  Complexity klass = Complexity::kConstant;
  double a = 0, b = 0;  // cost ~ a + b·f(n)
  double rss = 0;       // sum of squared relative residuals
};

struct FitResult {
  Complexity best = Complexity::kConstant;
  std::vector<ClassFit> fits;  // one per class, in enum order
  // Residual of the other class of the chosen group (sublinear or linear family)
  // over the chosen one's; larger is more certain; infinity when the other class
  // shows no real growth or the chosen class fits exactly.
  double confidence_ratio = 0;
  double growth = 0;        // cost at the largest n over cost at the smallest
  double loglog_slope = 0;  // d log(cost) / d log(n), fitted
};

inline constexpr double kSimplerSlack = 1.5;
// A growing class is considered only if its growth term adds at least this fraction
// of the smallest size's cost over the measured range.
inline constexpr double kMinGrowthEffect = 0.25;
// Curves whose log-log slope is below this are sublinear (O(1) or O(log n)), the
// others linear or worse (O(n) or O(n log n)).
inline constexpr double kLinearSlope = 0.5;

// REQUIRES: at least 3 points with distinct n > 0.
FitResult fit_complexity(const std::vector<CostPoint>& points);

std::string describe(const FitResult& r);

}  // namespace mq
