#include "apps/audit_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "properties/audit.h"

namespace mq::app {

void add_audit_command(CLI::App& app, AuditOptions& o) {
  auto* cmd = app.add_subcommand("audit",
                                 "Explore each theorem of the origin document as stated and as "
                                 "repaired, and write the report (docs/theorems.md)");
  cmd->add_option("--out", o.out, "Where to write the report")->default_val(o.out);
  cmd->add_flag("--check", o.check, "Do not write: exit 1 if the file differs from a fresh audit");
}

int run_audit_command(const AuditOptions& o) {
  const std::string text = generate_audit();
  if (o.check) {
    std::ifstream in(o.out, std::ios::binary);
    std::ostringstream old;
    old << in.rdbuf();
    if (!in || old.str() != text) {
      std::printf("audit: %s is stale; regenerate it with: mqharness audit --out %s\n", o.out.c_str(),
                  o.out.c_str());
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
