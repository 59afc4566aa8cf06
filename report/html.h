#pragma once
// Small helpers for writing the report's HTML by hand: escaping, and numbers printed
// the same way everywhere.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace mq::report {

// Escapes &, <, >, " and ' for text and attribute values.
std::string html_escape(std::string_view text);
// "12.3", "0.004", "1.2e+06": a figure with `digits` significant digits.
std::string number(double v, int digits = 3);
// Virtual nanoseconds as a person reads them: "812 ns", "3.20 ms", "12.004 s".
std::string duration_text(int64_t ns);

}  // namespace mq::report
