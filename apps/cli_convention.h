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
#include <cstdlib>
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

inline constexpr int kExitUsage = 2;

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
