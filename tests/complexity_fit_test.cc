#include "apps/complexity_fit.h"

#include <gtest/gtest.h>

#include <cmath>

#include "base/prng.h"

namespace mq {
namespace {

// Synthetic costs of a known shape, with +-5% deterministic noise.
std::vector<CostPoint> curve(double (*f)(double), uint64_t seed) {
  Prng prng(seed);
  std::vector<CostPoint> pts;
  for (int k = 10; k <= 20; ++k) {
    const double n = std::ldexp(1.0, k);
    const double noise = 0.95 + 0.1 * static_cast<double>(prng.uniform(1000)) / 1000.0;
    pts.push_back({n, f(n) * noise});
  }
  return pts;
}

TEST(ComplexityFitTest, RecognizesEachClassDespiteNoise) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    EXPECT_EQ(fit_complexity(curve([](double) { return 100.0; }, seed)).best, Complexity::kConstant);
    EXPECT_EQ(fit_complexity(curve([](double n) { return 20.0 + 10.0 * std::log2(n); }, seed)).best,
              Complexity::kLog);
    EXPECT_EQ(fit_complexity(curve([](double n) { return 5.0 + 0.01 * n; }, seed)).best, Complexity::kLinear);
    EXPECT_EQ(fit_complexity(curve([](double n) { return 0.001 * n * std::log2(n); }, seed)).best,
              Complexity::kNLogN);
  }
}

TEST(ComplexityFitTest, SmallDriftIsConstant) {
  // 9% growth over a 1024x range (cache effects): not a logarithm worth the name.
  const FitResult r = fit_complexity({{1024, 265}, {4096, 280}, {16384, 286}, {65536, 288}, {1048576, 289}});
  EXPECT_EQ(r.best, Complexity::kConstant);
}

TEST(ComplexityFitTest, ExactFitIsCertain) {
  const FitResult r = fit_complexity({{1024, 7}, {2048, 7}, {4096, 7}});
  EXPECT_EQ(r.best, Complexity::kConstant);
  EXPECT_EQ(r.growth, 1.0);
  EXPECT_NE(describe(r).find("O(1)"), std::string::npos);
}

}  // namespace
}  // namespace mq
