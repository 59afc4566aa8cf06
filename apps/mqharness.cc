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
#include "apps/json_output.h"
#include "apps/live_command.h"
#include "apps/report_output.h"
#include "apps/sim_commands.h"
#include "apps/walk_command.h"
#include "mq_version.h"

namespace {

using mq::app::kExitUsage;

int run_verb(const CLI::App& app, const std::string& verb, const mq::app::WalkOptions& walk,
             const mq::app::ExploreOptions& explore, const mq::app::CheckCommandOptions& check,
             const mq::app::AuditOptions& audit, const mq::app::ComplexityOptions& complexity,
             const mq::app::LiveCommandOptions& live, const mq::app::SimCommandOptions& sim) {
  if (verb == "walk") return mq::app::run_walk_command(walk);
  if (verb == "explore") return mq::app::run_explore_command(explore);
  if (verb == "check") return mq::app::run_check_command(check);
  if (verb == "audit") return mq::app::run_audit_command(audit);
  if (verb == "complexity") return mq::app::run_complexity_command(complexity);
  if (verb == "live") return mq::app::run_live_command(live);
  if (const int status = mq::app::run_sim_command(app, sim); status >= 0) return status;
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
  sim.program = mq::app::self_path(sim.program);  // reproduce lines run from any directory
  mq::app::add_sim_commands(app, sim);
  bool json = false;
  mq::app::add_json_flags(app, json);
  if (const int status = mq::app::unknown_subcommand(app, "mqharness", argc, argv); status != 0) return status;
  if (const auto verb = mq::app::json_verb_requested(app, argc, argv, "")) {
    if (!mq::app::start_json_output("mqharness", *verb)) return kExitUsage;
  }
  if (const auto status = mq::app::parse_command_line(app, argc, argv))
    return mq::app::finish_json_output(*status);
  const std::string verb = app.get_subcommands().front()->get_name();
  return mq::app::finish_json_output(run_verb(app, verb, walk, explore, check, audit, complexity, live, sim));
}
