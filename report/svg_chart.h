#pragma once
// Hand-written SVG charts for the report: a line chart over time with shaded fault
// windows, a histogram of per-seed figures, and a bar chart. The SVG is inline in
// index.html and styled by report.css (classes, no inline colours except a series'
// stroke), so every chart matches the page and prints.
//
// Thread-safety: pure functions.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace mq::report {

struct ChartSeries {
  std::string name;
  std::vector<double> y;  // one value per x; NaN leaves a gap
};

struct ChartShade {
  double from = 0, to = 0;  // x units
  std::string kind;         // css class suffix: "broker-down", "partition", ...
  std::string label;        // tooltip
};

struct LineChart {
  std::string id;  // element id (for links and tests)
  std::string title;
  std::string y_label;    // "messages/s"
  std::vector<double> x;  // seconds, ascending, one per value
  double x_end = 0;       // the end of the last bin
  std::vector<ChartSeries> series;
  std::vector<ChartShade> shades;
};

std::string svg_line_chart(const LineChart& chart);

struct Histogram {
  std::string id;
  std::string title;
  std::string x_label;
  std::vector<double> values;  // one per seed
  size_t bins = 20;
};

std::string svg_histogram(const Histogram& h);

struct BarChart {
  std::string id;
  std::string title;
  std::string y_label;
  std::vector<std::pair<std::string, double>> bars;
};

std::string svg_bar_chart(const BarChart& chart);

// The colour of the i-th series (a fixed palette, distinguishable and print-safe).
const char* series_colour(size_t i);

// Round tick steps (1, 2, 5 x 10^k) covering [lo, hi] with about `want` ticks.
std::vector<double> nice_ticks(double lo, double hi, int want);

}  // namespace mq::report
