#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/check.h"
#include "report/html.h"

namespace mq::report {
namespace {

constexpr double kWidth = 900, kHeight = 240;
constexpr double kLeft = 64, kRight = 160, kTop = 30, kBottom = 40;
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
constexpr int kMaxTicks = 12;  // nice_ticks never makes more than a few over this

// Enough significant digits that neighbouring ticks read differently.
int tick_digits(const std::vector<double>& ticks) {
  if (ticks.size() < 2) return 4;
  const double step = ticks[1] - ticks[0];
  const double top = std::max(std::fabs(ticks.front()), std::fabs(ticks.back()));
  if (!(step > 0) || !(top > 0)) return 4;
  return std::clamp(static_cast<int>(std::ceil(std::log10(top / step))) + 1, 4, 15);
}

struct Scale {
  double lo, hi, from, to;  // domain [lo, hi] -> range [from, to]
  double operator()(double v) const { return hi == lo ? from : from + (v - lo) / (hi - lo) * (to - from); }
};

void open_svg(std::ostringstream& o, const std::string& id, const std::string& kind,
              const std::string& title) {
  o << "<svg class=\"chart " << kind << "\" id=\"" << html_escape(id) << "\" viewBox=\"0 0 " << kWidth << " "
    << kHeight << "\" role=\"img\" aria-label=\"" << html_escape(title) << "\">\n"
    << "<text class=\"chart-title\" x=\"" << kLeft << "\" y=\"18\">" << html_escape(title) << "</text>\n";
}

void y_axis(std::ostringstream& o, const Scale& y, const std::string& label) {
  const std::vector<double> ticks = nice_ticks(y.lo, y.hi, 5);
  const int digits = tick_digits(ticks);
  for (double t : ticks) {
    const double py = y(t);
    o << "<line class=\"grid\" x1=\"" << kLeft << "\" x2=\"" << kLeft + kPlotW << "\" y1=\"" << py
      << "\" y2=\"" << py << "\"/><text class=\"tick\" x=\"" << kLeft - 6 << "\" y=\"" << py + 4
      << "\" text-anchor=\"end\">" << number(t, digits) << "</text>\n";
  }
  o << "<text class=\"axis-label\" transform=\"translate(14," << kTop + kPlotH / 2 << ") rotate(-90)\" "
    << "text-anchor=\"middle\">" << html_escape(label) << "</text>\n";
}

void x_axis(std::ostringstream& o, const Scale& x, const std::string& label) {
  const std::vector<double> ticks = nice_ticks(x.lo, x.hi, 8);
  const int digits = tick_digits(ticks);
  for (double t : ticks) {
    const double px = x(t);
    o << "<line class=\"tick-mark\" x1=\"" << px << "\" x2=\"" << px << "\" y1=\"" << kTop + kPlotH
      << "\" y2=\"" << kTop + kPlotH + 4 << "\"/><text class=\"tick\" x=\"" << px << "\" y=\""
      << kTop + kPlotH + 16 << "\" text-anchor=\"middle\">" << number(t, digits) << "</text>\n";
  }
  o << "<line class=\"axis\" x1=\"" << kLeft << "\" x2=\"" << kLeft + kPlotW << "\" y1=\"" << kTop + kPlotH
    << "\" y2=\"" << kTop + kPlotH << "\"/>\n<text class=\"axis-label\" x=\"" << kLeft + kPlotW / 2
    << "\" y=\"" << kHeight - 6 << "\" text-anchor=\"middle\">" << html_escape(label) << "</text>\n";
}

void legend(std::ostringstream& o, const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    const double y = kTop + 8 + static_cast<double>(i) * 16;
    o << "<line x1=\"" << kLeft + kPlotW + 12 << "\" x2=\"" << kLeft + kPlotW + 30 << "\" y1=\"" << y
      << "\" y2=\"" << y << "\" stroke=\"" << series_colour(i)
      << "\" stroke-width=\"3\"/><text class=\"legend\" x=\"" << kLeft + kPlotW + 36 << "\" y=\"" << y + 4
      << "\">" << html_escape(names[i]) << "</text>\n";
  }
}

double max_of(const std::vector<ChartSeries>& series) {
  double m = 0;
  for (const auto& s : series) {
    for (double v : s.y) {
      if (!std::isnan(v)) m = std::max(m, v);
    }
  }
  return m;
}

}  // namespace

const char* series_colour(size_t i) {
  static const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                         "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}

std::vector<double> nice_ticks(double lo, double hi, int want) {
  MQ_CHECK(want >= 1);
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / want;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag * 10;
  for (double m : {1.0, 2.0, 5.0}) {
    if (mag * m >= raw) {
      step = mag * m;
      break;
    }
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9 && ticks.size() < kMaxTicks * 2;
       t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
  }
  return ticks;
}

std::string svg_line_chart(const LineChart& c) {
  MQ_CHECK(!c.x.empty());
  std::ostringstream o;
  open_svg(o, c.id, "line-chart", c.title);
  const Scale x{c.x.front(), std::max(c.x_end, c.x.back()), kLeft, kLeft + kPlotW};
  const double top = max_of(c.series);
  const Scale y{0, top > 0 ? top * 1.05 : 1, kTop + kPlotH, kTop};
  for (const auto& s : c.shades) {
    const double x0 = x(s.from), x1 = std::max(x(s.to), x0 + 1);
    o << "<rect class=\"shade k-" << html_escape(s.kind) << "\" x=\"" << x0 << "\" y=\"" << kTop
      << "\" width=\"" << x1 - x0 << "\" height=\"" << kPlotH << "\"><title>" << html_escape(s.label)
      << "</title></rect>\n";
  }
  y_axis(o, y, c.y_label);
  x_axis(o, x, "virtual time (s)");
  std::vector<std::string> names;
  for (size_t i = 0; i < c.series.size(); ++i) {
    const ChartSeries& s = c.series[i];
    names.push_back(s.name);
    std::ostringstream d;
    bool pen = false;
    for (size_t k = 0; k < s.y.size() && k < c.x.size(); ++k) {
      if (std::isnan(s.y[k])) {
        pen = false;
        continue;
      }
      d << (pen ? "L" : "M") << number(x(c.x[k]), 6) << "," << number(y(s.y[k]), 6);
      pen = true;
    }
    o << "<path class=\"series\" data-series=\"" << html_escape(s.name) << "\" stroke=\"" << series_colour(i)
      << "\" d=\"" << d.str() << "\"><title>" << html_escape(s.name) << "</title></path>\n";
  }
  legend(o, names);
  o << "</svg>\n";
  return o.str();
}

std::string svg_histogram(const Histogram& h) {
  std::ostringstream o;
  open_svg(o, h.id, "histogram", h.title);
  if (h.values.empty()) {
    o << "<text class=\"empty\" x=\"" << kLeft << "\" y=\"" << kTop + 20 << "\">no values</text></svg>\n";
    return o.str();
  }
  const auto [mn, mx] = std::minmax_element(h.values.begin(), h.values.end());
  const size_t bins = *mx > *mn ? std::max<size_t>(1, h.bins) : 1;
  const double width = *mx > *mn ? (*mx - *mn) / static_cast<double>(bins) : 1;
  std::vector<double> counts(bins, 0);
  for (double v : h.values) counts[std::min(bins - 1, static_cast<size_t>((v - *mn) / width))] += 1;
  const double top = *std::max_element(counts.begin(), counts.end());
  const Scale x{*mn, *mn + width * static_cast<double>(bins), kLeft, kLeft + kPlotW};
  const Scale y{0, top * 1.05, kTop + kPlotH, kTop};
  y_axis(o, y, "seeds");
  x_axis(o, x, h.x_label);
  for (size_t b = 0; b < bins; ++b) {
    const double lo = *mn + width * static_cast<double>(b);
    const double x0 = x(lo), x1 = x(lo + width);
    o << "<rect class=\"bar\" x=\"" << x0 + 0.5 << "\" y=\"" << y(counts[b]) << "\" width=\""
      << std::max(1.0, x1 - x0 - 1) << "\" height=\"" << y(0) - y(counts[b]) << "\"><title>" << number(lo, 6)
      << " .. " << number(lo + width, 6) << ": " << counts[b] << " seeds</title></rect>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string svg_bar_chart(const BarChart& c) {
  std::ostringstream o;
  open_svg(o, c.id, "bar-chart", c.title);
  double top = 0;
  for (const auto& [label, v] : c.bars) top = std::max(top, v);
  const Scale y{0, top > 0 ? top * 1.05 : 1, kTop + kPlotH, kTop};
  y_axis(o, y, c.y_label);
  const double slot = c.bars.empty() ? kPlotW : kPlotW / static_cast<double>(c.bars.size());
  for (size_t i = 0; i < c.bars.size(); ++i) {
    const auto& [label, v] = c.bars[i];
    const double x0 = kLeft + slot * static_cast<double>(i) + slot * 0.15;
    o << "<rect class=\"bar\" fill=\"" << series_colour(i) << "\" x=\"" << x0 << "\" y=\"" << y(v)
      << "\" width=\"" << slot * 0.7 << "\" height=\"" << y(0) - y(v) << "\"><title>" << html_escape(label)
      << ": " << number(v, 8) << "</title></rect><text class=\"tick\" x=\"" << x0 + slot * 0.35 << "\" y=\""
      << kTop + kPlotH + 16 << "\" text-anchor=\"middle\">" << html_escape(label)
      << "</text><text class=\"tick\" x=\"" << x0 + slot * 0.35 << "\" y=\"" << y(v) - 4
      << "\" text-anchor=\"middle\">" << number(v, 8) << "</text>\n";
  }
  o << "<line class=\"axis\" x1=\"" << kLeft << "\" x2=\"" << kLeft + kPlotW << "\" y1=\"" << kTop + kPlotH
    << "\" y2=\"" << kTop + kPlotH << "\"/>\n</svg>\n";
  return o.str();
}

}  // namespace mq::report
