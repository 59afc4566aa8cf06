// mqharness: the command-line front end. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include "apps/explore_command.h"
#include "apps/walk_command.h"

int main(int argc, char** argv) {
  CLI::App app{"mqharness: a verification and simulation harness for message queues"};
  app.require_subcommand(1);
  mq::app::WalkOptions walk;
  mq::app::add_walk_command(app, walk);
  mq::app::ExploreOptions explore;
  mq::app::add_explore_command(app, explore);
  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("walk")) return mq::app::run_walk_command(walk);
  if (app.got_subcommand("explore")) return mq::app::run_explore_command(explore);
  return 2;
}
