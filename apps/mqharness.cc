// mqharness: the command-line front end. Each subcommand lives in its own file.
//
// Exit status, the same for every verb (README "One convention for every command"): 0 ok / every property
// held; 1 a property violated or a check failed; 2 a usage or input error (CLI11's
// own parse errors included, which would otherwise exit 104-115); 3 a bound reached
// without a verdict.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "apps/audit_command.h"
#include "apps/check_command.h"
#include "apps/cli_convention.h"
#include "apps/complexity_command.h"
#include "apps/explore_command.h"
#include "apps/live_command.h"
#include "apps/report_output.h"
#include "apps/sim_commands.h"
#include "apps/walk_command.h"
#include "mq_version.h"

namespace {

using mq::app::kExitUsage;

// The first argument that is not an option, when it names no subcommand: CLI11
// would only say "A subcommand is required".
int unknown_subcommand(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return 0;
  const std::string verb = argv[1];
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == verb) return 0;
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  std::fprintf(stderr, "mqharness: unknown subcommand '%s' (one of: %s; see mqharness --help)\n",
               verb.c_str(), names.c_str());
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  mq::app::set_command_line(argc, argv);
  CLI::App app{"mqharness: a verification and simulation harness for message queues"};
  app.set_version_flag("--version", std::string("mqharness ") + MQ_VERSION,
                       "The git revision this build is of");
  app.footer(
      "Exit status (every verb): 0 ok, every property held; 1 a property violated or a check failed; "
      "2 a usage or input error; 3 a bound reached without a verdict.");
  app.require_subcommand(1);
  mq::app::WalkOptions walk;
  mq::app::add_walk_command(app, walk);
  mq::app::ExploreOptions explore;
  mq::app::add_explore_command(app, explore);
  mq::app::CheckCommandOptions check;
  mq::app::add_check_command(app, check);
  mq::app::AuditOptions audit;
  mq::app::add_audit_command(app, audit);
  mq::app::ComplexityOptions complexity;
  mq::app::add_complexity_command(app, complexity);
  mq::app::LiveCommandOptions live;
  mq::app::add_live_command(app, live);
  mq::app::SimCommandOptions sim;
  mq::app::add_sim_commands(app, sim);
  if (const int status = unknown_subcommand(app, argc, argv); status != 0) return status;
  if (const auto status = mq::app::parse_command_line(app, argc, argv)) return *status;
  if (app.got_subcommand("walk")) return mq::app::run_walk_command(walk);
  if (app.got_subcommand("explore")) return mq::app::run_explore_command(explore);
  if (app.got_subcommand("check")) return mq::app::run_check_command(check);
  if (app.got_subcommand("audit")) return mq::app::run_audit_command(audit);
  if (app.got_subcommand("complexity")) return mq::app::run_complexity_command(complexity);
  if (app.got_subcommand("live")) return mq::app::run_live_command(live);
  if (const int status = mq::app::run_sim_command(app, sim); status >= 0) return status;
  return kExitUsage;
}
