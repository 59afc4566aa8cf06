// mqharness-mutants: the broker with named faults, and the report that shows every one
// of them caught (docs/mutants.md). A test build only: the production mqharness has no
// faults compiled in.
//
// With a subcommand (run, sweep, replay, shrink) it is mqharness's simulator with one
// fault switched on by `--mutant NAME`: the same commands, options, output directory
// and reproduce lines, so a mutant can be swept like the real broker (on Slurm too:
// scripts/slurm-sweep --binary build/mutants/mqharness-mutants -- --mutant NAME ...).
//
// The convention of mqharness (README "One convention for every command"): exit status
// 0/1/2/3, --json on every verb (the report is the verb "report": the object's key is
// "mqharness_mutants_report"; the subcommands' "mqharness_mutants_run", ...), --version,
// and reproduce lines that name this binary and every file absolutely.
#include <CLI/CLI.hpp>

#include "apps/cli_convention.h"
#include "apps/json_output.h"
#include "apps/report_output.h"
#include "apps/sim_commands.h"
#include "impl/mutant.h"
#include "mq_version.h"
#include "mutants/mutants_command.h"
#include "sim/simulator.h"

int main(int argc, char** argv) {
  mq::app::set_command_line(argc, argv);
  CLI::App app{"mqharness-mutants: named faults in the broker, each caught by the harness"};
  app.set_version_flag("--version", std::string("mqharness-mutants ") + MQ_VERSION,
                       "The git revision this build is of");
  app.footer(
      "Exit status (the report and every verb): 0 ok, every fault caught / every property held; 1 a fault "
      "escaped or a property violated; 2 a usage or input error; 3 a bound reached without a verdict.");
  mq::mutants::MutantsOptions options;
  // The report's header names the binary as the repository's docs do (relative).
  for (int i = 0; i < argc; ++i)
    options.command_line += (i == 0 ? "mqharness-mutants" : std::string(" ") + argv[i]);
  mq::mutants::add_mutants_options(app, options);
  app.require_subcommand(0, 1);
  mq::app::SimCommandOptions sim;
  sim.program = mq::app::self_path("build/mutants/mqharness-mutants");  // reproduce lines run from anywhere
  options.program = sim.program;
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
  bool json = false;
  mq::app::add_json_flags(app, json, /*top_level=*/true);
  if (const int status = mq::app::unknown_subcommand(app, "mqharness-mutants", argc, argv); status != 0)
    return status;
  if (const auto verb = mq::app::json_verb_requested(app, argc, argv, "report")) {
    if (!mq::app::start_json_output("mqharness_mutants", *verb)) return mq::app::kExitUsage;
  }
  if (const auto status = mq::app::parse_command_line(app, argc, argv))
    return mq::app::finish_json_output(*status);
  if (app.get_subcommands().empty()) return mq::app::finish_json_output(mq::mutants::run_mutants(options, sim));
  const auto selected = mq::impl::mutant_by_name(mutant);
  MQ_CHECK_MSG(selected.has_value(), "--mutant only takes the names of kMutants");
  mq::impl::select_mutant(*selected);
  if (*selected != mq::impl::Mutant::kNone) sim.verb_args = " --mutant " + mutant;
  sim.mutant = mutant;
  if (abort_seed != 0) {
    mq::sim::set_test_abort_seed(abort_seed);
    sim.verb_args += " --test-abort-seed " + std::to_string(abort_seed);
  }
  return mq::app::finish_json_output(mq::app::run_sim_command(app, sim));
}
