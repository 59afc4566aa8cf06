// mqd: the mqharness broker as a server. It speaks RESP (the Redis protocol) on
// 127.0.0.1, keeps durable queues in a write-ahead log under --data, and runs the
// same server shell the simulator checks (impl/server_shell.h). docs/protocol.md
// lists its commands; `mqd --help` its options.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <sys/resource.h>

#include "apps/cli_convention.h"
#include "apps/mqd_config.h"
#include "impl/daemon.h"

#include "mq_version.h"

namespace {

// Room for max_clients connections: the soft limit on open files goes up to the
// hard one (as Redis does); a shortfall is said, not hidden.
void raise_file_limit(size_t want) {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  const rlim_t need = static_cast<rlim_t>(want);
  if (r.rlim_cur >= need) return;
  r.rlim_cur = std::min(need, r.rlim_max);
  (void)setrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < need) {
    std::fprintf(stderr, "mqd: the open-file limit is %llu; fewer connections than --max-clients can be served\n",
                 static_cast<unsigned long long>(r.rlim_cur));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mqd: a message broker (RESP protocol) whose server shell is the one mqharness simulates"};
  std::string data, listen = "127.0.0.1:6390", config_file, fsync = "always";
  uint32_t batch_ms = 2;
  size_t max_clients = 10000, max_request_bytes = size_t{64} << 20;
  uint32_t partial_timeout_ms = 30000;
  bool print_config = false, version = false;
  app.add_option("--data", data, "data directory (created if missing, locked while mqd runs)");
  app.add_option("--listen", listen, "address:port to listen on (port 0: any free port, printed)")
      ->capture_default_str();
  app.add_option("--config", config_file,
                 "broker configuration (JSON, docs/protocol.md); default: the built-in one (--print-config)");
  app.add_option("--fsync", fsync,
                 "always: sync every group commit; batch: sync at most every --batch-ms; never: confirm once written "
                 "(a power loss loses what the page cache held)")
      ->check(CLI::IsMember({"always", "batch", "never"}))
      ->capture_default_str();
  app.add_option("--batch-ms", batch_ms, "with --fsync batch: the least time between group commits")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str();
  app.add_option("--max-clients", max_clients, "connections served at once; more are told so and closed")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-request-bytes", max_request_bytes,
                 "the most bytes one request may take; a larger one is refused and its connection closed")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 32))
      ->capture_default_str();
  app.add_option("--partial-timeout-ms", partial_timeout_ms,
                 "a connection holding an incomplete request this long is closed")
      ->check(CLI::Range(10u, 3600u * 1000u))
      ->capture_default_str();
  app.add_flag("--print-config", print_config, "print the built-in configuration and exit");
  app.add_flag("--version", version, "print the version and exit");
  if (const auto status = mq::app::parse_command_line(app, argc, argv)) return *status;
  if (version) {
    std::printf("mqd %s\n", MQ_VERSION);
    return 0;
  }
  if (print_config) {
    std::fputs(mq::app::default_broker_config_json().c_str(), stdout);
    return 0;
  }
  if (data.empty()) {
    std::fprintf(stderr, "mqd: --data DIR is required (where the durable queues' log lives)\n");
    return 2;
  }
  if (const std::string e = mq::app::directory_error(data); !e.empty()) {
    std::fprintf(stderr, "mqd: --data: %s\n", e.c_str());
    return 2;
  }
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    std::fprintf(stderr, "mqd: --listen wants ADDRESS:PORT, got '%s'\n", listen.c_str());
    return 2;
  }
  mq::impl::DaemonOptions o;
  o.host = listen.substr(0, colon);
  // Digits only ("80x" is not port 80), in range.
  const std::string port = listen.substr(colon + 1);
  if (!mq::app::unsigned_number_error(port).empty() || port.size() > 5 || std::stoul(port) > 65535) {
    std::fprintf(stderr, "mqd: --listen: the port must be a number in 0..65535, got '%s'\n", port.c_str());
    return 2;
  }
  o.port = static_cast<uint16_t>(std::stoul(port));
  auto config = config_file.empty()
                    ? mq::app::broker_config_from_json_text(mq::app::default_broker_config_json(), "(built-in)")
                    : mq::app::broker_config_from_file(config_file);
  if (!config.ok()) {
    std::fprintf(stderr, "mqd: %s\n", config.status().message().c_str());
    return 2;
  }
  o.config = std::move(config).value();
  o.data_dir = data;
  o.fsync = fsync == "always" ? mq::impl::FsyncMode::kAlways
            : fsync == "batch" ? mq::impl::FsyncMode::kBatch
                               : mq::impl::FsyncMode::kNever;
  o.batch_delay = std::chrono::milliseconds(batch_ms);
  o.max_clients = max_clients;
  o.limits.max_request_bytes = max_request_bytes;
  o.partial_request_timeout = std::chrono::milliseconds(partial_timeout_ms);
  o.handle_signals = true;
  o.version = MQ_VERSION;
  raise_file_limit(max_clients + 64);
  auto daemon = mq::impl::Daemon::open(std::move(o));
  if (!daemon.ok()) {
    std::fprintf(stderr, "mqd: %s\n", daemon.status().to_string().c_str());
    return 1;
  }
  (*daemon)->run();
  std::fprintf(stderr, "mqd: stopped\n");
  return 0;
}
