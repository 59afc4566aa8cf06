#pragma once
// The command-line convention every binary shares (README "One convention for every
// command"): parse errors exit 2, not CLI11's own 104-115; unsigned numbers are
// never wrapped.
//
// Unsigned numbers on the command line are read, never wrapped: CLI11 turns "-1" into
// 18446744073709551615 and "99999999999999999999" into the same (strtoull saturates
// without a word), so every unsigned option gets this check first. A value that is
// not a decimal number in range is a usage error (exit 2) naming the option.
//
// Thread-safety: none needed; used while the parser is being built.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace mq::app {

// "" when `text` is decimal digits whose value fits in 64 bits; else why not.
inline std::string unsigned_number_error(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    return "'" + text + "' is not a non-negative whole number";
  }
  errno = 0;
  (void)std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) return "'" + text + "' is too large (at most 18446744073709551615)";
  return "";
}

// Adds the check to every option of `app` and its subcommands, recursively, whose
// type is unsigned (CLI11 names it "UINT"). Narrower types (uint32_t) are then range
// checked by CLI11 itself, which refuses a value that does not fit.
inline void refuse_wrapping_numbers(CLI::App& app) {
  const CLI::Validator check([](std::string& text) { return unsigned_number_error(text); }, "UINT");
  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_type_name() == "UINT") opt->check(check);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) refuse_wrapping_numbers(*sub);
}

// A real number in [lo, hi]: CLI11's Range lets "nan" through (every comparison with
// it is false) and "inf" past a bound given as infinity.
inline CLI::Validator finite_range(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end == nullptr || *end != '\0' || !(v >= lo && v <= hi)) {
          return "'" + text + "' is not a number in " + std::to_string(lo) + ".." + std::to_string(hi);
        }
        return "";
      },
      "NUMBER in " + std::to_string(lo) + ".." + std::to_string(hi));
}

// Why `path` cannot be written as a file, checked before the work that would write
// it (a run of minutes should not end in "cannot open"): "" when it can be tried.
inline std::string output_file_error(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return path + ": is a directory, not a file";
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    return path + ": its directory " + parent.string() +
           (fs::exists(parent, ec) ? " is not a directory" : " does not exist");
  }
  return "";
}

// Why `path` cannot be read as a file: a directory or a missing file, each named.
inline std::string input_file_error(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return path + ": is a directory, not a file";
  if (!fs::exists(path, ec)) return path + ": no such file";
  return "";
}

// Why `path` cannot be used as a directory that is created if missing: it is a file,
// or the nearest of its ancestors that exists is not a directory. "" when it can be tried.
inline std::string directory_error(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) return "";
  // Bounded by the path's depth: each round goes one level up.
  for (bool first = true; !p.empty(); first = false) {
    if (fs::exists(p, ec)) {
      if (fs::is_directory(p, ec)) return "";
      return first ? path + ": not a directory" : path + ": " + p.string() + " is not a directory";
    }
    if (p == p.parent_path()) return "";
    p = p.parent_path();
  }
  return "";
}

inline constexpr int kExitUsage = 2;

// kExitUsage when the first argument is not an option and names no subcommand of
// `app` (said, with the names there are: CLI11 would only say "A subcommand is
// required" or "not expected"); else 0.
inline int unknown_subcommand(const CLI::App& app, const std::string& program, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return 0;
  const std::string verb = argv[1];
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == verb) return 0;
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  std::fprintf(stderr, "%s: unknown subcommand '%s' (one of: %s; see %s --help)\n", program.c_str(), verb.c_str(),
               names.c_str(), program.c_str());
  return kExitUsage;
}

// --json (apps/json_output.h) on every subcommand of `app`, and on `app` itself when
// `top_level` (a binary whose bare form is a verb too: mqharness-mutants' report).
inline void add_json_flags(CLI::App& app, bool& json, bool top_level = false) {
  const char* what =
      "Write one JSON object to standard output (the exit status, the outcome, what was found); "
      "the text goes to standard error";
  if (top_level) app.add_flag("--json", json, what);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) sub->add_flag("--json", json, what);
}

// The verb whose --json object to start before parsing, so that a usage error of a
// verb given --json is an object too (the flag itself is set only by a parse that
// succeeds): the first argument after any --json flags (`mqharness-mutants --json run`
// is the verb run) when it names a subcommand of `app`, else `top_level_verb` ("":
// none, as for mqharness, whose bare form is no verb); nullopt without --json. An
// option other than --json ends the search: whether the next argument is its value
// is CLI11's to say.
inline std::optional<std::string> json_verb_requested(const CLI::App& app, int argc, char** argv,
                                                      const std::string& top_level_verb) {
  bool asked = false;
  for (int i = 1; i < argc && !asked; ++i) asked = std::string(argv[i]) == "--json";
  if (!asked) return std::nullopt;
  int first = 1;
  while (first < argc && std::string(argv[first]) == "--json") ++first;
  if (first < argc && argv[first][0] != '-') {
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == argv[first]) return sub->get_name();
    }
  }
  if (top_level_verb.empty()) return std::nullopt;
  return top_level_verb;
}

// Reproduce lines run from any directory: every file they name is absolute. `path`
// made absolute against the current directory ("" and "-" for standard input stay).
inline std::string rooted(const std::string& path) {
  if (path.empty() || path == "-") return path;
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// The running binary, absolute (from /proc/self/exe), for reproduce lines; `fallback`
// when it cannot be read.
inline std::string self_path(const std::string& fallback) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? fallback : p.string();
}

// Parses argv into `app` (after refuse_wrapping_numbers): nullopt to go on, or the
// exit status: 0 after --help or --version (printed), kExitUsage after a parse error
// (printed with CLI11's usage hint).
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  refuse_wrapping_numbers(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);  // prints the message as CLI11 does
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace mq::app
