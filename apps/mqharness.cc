// mqharness: the command-line front end. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include "apps/audit_command.h"
#include "apps/complexity_command.h"
#include "apps/check_command.h"
#include "apps/explore_command.h"
#include "apps/live_command.h"
#include "apps/report_output.h"
#include "apps/sim_commands.h"
#include "apps/walk_command.h"

int main(int argc, char** argv) {
  mq::app::set_command_line(argc, argv);
  CLI::App app{"mqharness: a verification and simulation harness for message queues"};
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
  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("walk")) return mq::app::run_walk_command(walk);
  if (app.got_subcommand("explore")) return mq::app::run_explore_command(explore);
  if (app.got_subcommand("check")) return mq::app::run_check_command(check);
  if (app.got_subcommand("audit")) return mq::app::run_audit_command(audit);
  if (app.got_subcommand("complexity")) return mq::app::run_complexity_command(complexity);
  if (app.got_subcommand("live")) return mq::app::run_live_command(live);
  if (const int status = mq::app::run_sim_command(app, sim); status >= 0) return status;
  return 2;
}
