#pragma once
// The report's static assets (report/assets/report.js and report.css), compiled into
// the library at build time (report/CMakeLists.txt) so that the binary writes a
// complete report from any directory.

#include <string_view>

namespace mq::report {

std::string_view report_js();
std::string_view report_css();

}  // namespace mq::report
