#include "apps/audit_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "apps/cli_convention.h"
#include "explorer/audit.h"
#include "report/progress.h"
#include "report/report.h"

namespace mq::app {
using explorer::AuditRun;
using explorer::render_audit;
using explorer::run_audit;

namespace {

std::vector<AuditRun> audit_with_progress() {
  report::install_stop_handlers();
  report::Progress progress({.verb = "audit", .unit = "explorations"});
  auto runs = run_audit([&](size_t done, size_t total, const std::string& what) {
    if (const int signal = report::stop_signal(); signal != 0) {
      progress.finish();
      std::printf("INTERRUPTED by signal %d after %zu of %zu explorations; nothing written\n", signal, done,
                  total);
      std::fflush(stdout);
      std::exit(report::stopped_exit_status(signal));
    }
    progress.set(done, 0, what + " (" + std::to_string(done) + " of " + std::to_string(total) + ")");
  });
  progress.finish();
  return runs;
}

bool write_audit_report(const AuditOptions& o, const std::vector<AuditRun>& runs) {
  report::ReportInput in;
  in.title = "mqharness audit: the origin document's theorems";
  in.facts = {{"explorations", std::to_string(runs.size())}, {"written", o.check ? "(checked only)" : o.out}};
  size_t false_claims = 0;
  for (const AuditRun& r : runs) {
    const std::string name = r.claim + ", " + r.reading;
    report::PropertyRow row{name, 1, 0, std::nullopt, "", ""};
    if (r.result.counterexample) {
      row.violations = 1;
      row.message = "false: " + r.result.counterexample->violation.message;
      in.counterexamples.push_back(
          report::counterexample_view(name, r.config, r.apply, *r.result.counterexample));
    } else if (r.result.lasso) {
      row.violations = 1;
      row.message = "false: " + r.result.lasso->stuck + " never finishes on a fair cycle";
      in.counterexamples.push_back(report::lasso_view(name, r.config, r.apply, *r.result.lasso));
    } else {
      row.message = (r.result.complete ? "holds in all " : "no counterexample in ") +
                    std::to_string(r.result.states) + " states";
    }
    if (row.violations > 0) {
      ++false_claims;
      row.reproduce = "build/apps/mqharness audit --out " + o.out;
    }
    row.message = "checked: " + r.checked + ". " + row.message;
    in.properties.push_back(std::move(row));
  }
  in.outcome = std::to_string(false_claims) + " of " + std::to_string(runs.size()) + " readings false";
  return write_outputs(o.report, std::move(in), "audit");
}

// The first line (from 1) where `a` and `b` differ; REQUIRES a != b.
size_t first_differing_line(const std::string& a, const std::string& b) {
  const auto at = std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin();
  return static_cast<size_t>(std::count(a.begin(), a.begin() + at, '\n')) + 1;
}

}  // namespace

void add_audit_command(CLI::App& app, AuditOptions& o) {
  auto* cmd = app.add_subcommand("audit",
                                 "Explore each theorem of the origin document as stated and as "
                                 "repaired, and write the report (docs/theorems.md)");
  cmd->add_option("--out", o.out, "Where to write the report")->default_val(o.out);
  cmd->add_flag("--check", o.check, "Do not write: exit 1 if the file differs from a fresh audit");
  add_report_options(cmd, o.report, false);
}

int run_audit_command(const AuditOptions& o) {
  // Before the minutes of exploring: with --check the generated file must be there to
  // compare (missing and a directory are not "stale"), without it writable.
  if (const std::string e = o.check ? input_file_error(o.out) : output_file_error(o.out); !e.empty()) {
    const std::string hint = o.check ? "; generate it with: mqharness audit --out " + o.out : "";
    std::fprintf(stderr, "audit: %s%s\n", e.c_str(), hint.c_str());
    return kExitUsage;
  }
  const std::vector<AuditRun> runs = audit_with_progress();
  const std::string text = render_audit(runs);
  if (o.report.any() && !write_audit_report(o, runs)) return 2;
  if (o.check) {
    std::ifstream in(o.out, std::ios::binary);
    std::ostringstream old;
    old << in.rdbuf();
    if (!in) {
      std::fprintf(stderr, "audit: %s: cannot read\n", o.out.c_str());
      return kExitUsage;
    }
    if (old.str() != text) {
      std::printf("audit: %s is stale (it differs from a fresh audit from line %zu); regenerate it with: "
                  "mqharness audit --out %s\n",
                  o.out.c_str(), first_differing_line(old.str(), text), o.out.c_str());
      return 1;
    }
    std::printf("audit: %s is up to date\n", o.out.c_str());
    return 0;
  }
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::fprintf(stderr, "audit: cannot write %s\n", o.out.c_str());
    return 2;
  }
  std::printf("audit: wrote %s\n", o.out.c_str());
  return 0;
}

}  // namespace mq::app
