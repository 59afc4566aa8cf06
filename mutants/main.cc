// mqharness-mutants: the broker with named faults, and the report that shows every one
// of them caught (docs/mutants.md). A test build only: the production mqharness has no
// faults compiled in.
#include <CLI/CLI.hpp>

#include "mutants/mutants_command.h"

int main(int argc, char** argv) {
  CLI::App app{"mqharness-mutants: named faults in the broker, each caught by the harness"};
  mq::mutants::MutantsOptions options;
  for (int i = 0; i < argc; ++i) options.command_line += (i == 0 ? "mqharness-mutants" : std::string(" ") + argv[i]);
  mq::mutants::add_mutants_options(app, options);
  CLI11_PARSE(app, argc, argv);
  return mq::mutants::run_mutants(options);
}
