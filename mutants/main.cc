// mqharness-mutants: the broker with named faults, and the report that shows every one
// of them caught (docs/mutants.md). A test build only: the production mqharness has no
// faults compiled in.
//
// With a subcommand (run, sweep, replay, shrink) it is mqharness's simulator with one
// fault switched on by `--mutant NAME`: the same commands, options, output directory
// and reproduce lines, so a mutant can be swept like the real broker (on Slurm too:
// scripts/slurm-sweep --binary build/mutants/mqharness-mutants -- --mutant NAME ...).
#include <CLI/CLI.hpp>

#include "apps/cli_convention.h"
#include "apps/sim_commands.h"
#include "impl/mutant.h"
#include "mutants/mutants_command.h"
#include "sim/simulator.h"

int main(int argc, char** argv) {
  CLI::App app{"mqharness-mutants: named faults in the broker, each caught by the harness"};
  mq::mutants::MutantsOptions options;
  for (int i = 0; i < argc; ++i)
    options.command_line += (i == 0 ? "mqharness-mutants" : std::string(" ") + argv[i]);
  mq::mutants::add_mutants_options(app, options);
  app.require_subcommand(0, 1);
  mq::app::SimCommandOptions sim;
  sim.program = "build/mutants/mqharness-mutants";
  mq::app::add_sim_commands(app, sim);
  std::vector<std::string> names = {"none"};
  for (const auto& m : mq::impl::kMutants) names.emplace_back(m.name);
  std::string mutant = "none";
  uint64_t abort_seed = 0;
  for (const char* verb : {"run", "sweep", "replay", "shrink"}) {
    app.get_subcommand(verb)
        ->add_option("--mutant", mutant, "The fault to switch on (impl/mutant.h; 'none': the clean broker)")
        ->check(CLI::IsMember(names))
        ->default_val(mutant);
    app.get_subcommand(verb)->add_option(
        "--test-abort-seed", abort_seed,
        "Test hook: the run of this seed trips an always-on assertion after 3 history events (0: none)");
  }
  if (const auto status = mq::app::parse_command_line(app, argc, argv)) return *status;
  if (app.get_subcommands().empty()) return mq::mutants::run_mutants(options);
  const auto selected = mq::impl::mutant_by_name(mutant);
  if (!selected) return 2;  // unreachable: the option only takes names of kMutants
  mq::impl::select_mutant(*selected);
  if (*selected != mq::impl::Mutant::kNone) sim.verb_args = " --mutant " + mutant;
  if (abort_seed != 0) {
    mq::sim::set_test_abort_seed(abort_seed);
    sim.verb_args += " --test-abort-seed " + std::to_string(abort_seed);
  }
  return mq::app::run_sim_command(app, sim);
}
