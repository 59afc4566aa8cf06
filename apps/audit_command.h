#pragma once
// `mqharness audit`: writes docs/theorems.md, the audit of the origin document.

#include <string>

#include "apps/report_output.h"

namespace CLI {
class App;
}

namespace mq::app {

struct AuditOptions {
  std::string out = "docs/theorems.md";
  bool check = false;  // compare with `out` instead of writing it
  ReportOptions report;  // --report DIR: every exploration, its counterexample's steps and state graph
};

void add_audit_command(CLI::App& app, AuditOptions& options);
// 0: written (or, with --check, up to date); 1: --check found it stale (the first
// line that differs named); 2: the file cannot be written, or with --check is missing
// or a directory (each its own message, before the audit runs).
int run_audit_command(const AuditOptions& options);

}  // namespace mq::app
