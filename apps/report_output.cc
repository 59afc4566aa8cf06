#include "apps/report_output.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "report/chrome_trace.h"

namespace mq::app {
namespace {

std::string& recorded_command_line() {
  static std::string line;
  return line;
}

// Quotes an argument for a POSIX shell when it needs it, so the line can be pasted.
std::string shell_word(const std::string& w) {
  if (!w.empty() &&
      w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+%") ==
          std::string::npos) {
    return w;
  }
  std::string q = "'";
  for (const char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

void add_report_options(CLI::App* command, ReportOptions& o, bool with_trace, const std::string& traced) {
  command
      ->add_option("--report", o.dir,
                   "Write an HTML report into DIR (index.html and its assets; opens from the file system)")
      ->type_name("DIR");
  if (with_trace) {
    command
        ->add_option(
            "--trace", o.trace,
            "Write " + traced + " as a Chrome Trace Event file (opens in Perfetto, chrome://tracing)")
        ->type_name("FILE");
  }
}

void set_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) line += (i ? " " : "") + shell_word(argv[i]);
  recorded_command_line() = line;
}

const std::string& command_line() {
  return recorded_command_line();
}

bool write_outputs(const ReportOptions& o, report::ReportInput input, const char* verb) {
  input.command_line = command_line();
  bool ok = true;
  if (!o.trace.empty()) {
    if (input.history == nullptr) {
      std::printf("trace: not written: this %s has no history to export\n", verb);
    } else if (const Status s =
                   report::write_chrome_trace(*input.history, input.topology, input.title, o.trace);
               !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", verb, s.to_string().c_str());
      ok = false;
    } else {
      std::printf("trace: %s (Chrome Trace Event format: open it in Perfetto or chrome://tracing)\n",
                  o.trace.c_str());
    }
  }
  if (!o.dir.empty()) {
    if (const Status s = report::write_report(o.dir, input); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", verb, s.to_string().c_str());
      ok = false;
    } else {
      std::printf("report: %s/index.html\n", o.dir.c_str());
    }
  }
  std::fflush(stdout);
  return ok;
}

}  // namespace mq::app
