// mqharness: the command-line front end. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include "apps/walk_command.h"

int main(int argc, char** argv) {
  CLI::App app{"mqharness: a verification and simulation harness for message queues"};
  app.require_subcommand(1);
  mq::app::WalkOptions walk;
  mq::app::add_walk_command(app, walk);
  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("walk")) return mq::app::run_walk_command(walk);
  return 2;
}
