#include "live/live_server.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace mq::live {
namespace {

constexpr std::chrono::milliseconds kReadyPoll{50};
constexpr std::chrono::milliseconds kFiuCtrlTimeout{5000};
constexpr size_t kLogTailBytes = 1500;

// The libfiu failure points a disk fault enables: every fsync and fdatasync fails
// (EIO), and one positional write in ten. Plain write(2) is left alone: libfiu cannot
// tell a socket from a file, and a failed socket write is a network fault.
const char* const kFiuEnable[] = {
    "enable name=posix/io/sync/*",
    "enable_random name=posix/io/rw/pwrite,probability=0.1",
    "enable_random name=posix/io/rw/pwritev,probability=0.1",
};
// Each disables exactly what kFiuEnable enabled: libfiu refuses to disable a point by
// its own name when a wildcard enabled it (the fault would stay on after the heal).
const char* const kFiuDisable[] = {
    "disable name=posix/io/sync/*",
    "disable name=posix/io/rw/pwrite",
    "disable name=posix/io/rw/pwritev",
};

}  // namespace

Result<std::unique_ptr<LiveServer>> LiveServer::create(const Target& target, const ServerOptions& options) {
  std::unique_ptr<LiveServer> s(new LiveServer(target, options));
  s->log_path_ = options.run_dir + "/server.log";
  if (options.netns) {
    auto ns = NetNamespace::create(options.run_dir + "/netns.log");
    if (!ns.ok()) return ns.status();
    s->netns_ = std::move(ns).value();
  }
  const std::string host = s->netns_ ? s->netns_->inside_address() : "127.0.0.1";
  auto port = free_port();
  if (!port.ok()) return port.status();
  s->endpoint_ = {host, *port};
  for (uint16_t& aux : s->aux_ports_) {
    auto p = free_port();
    if (!p.ok()) return p.status();
    aux = *p;
  }
  std::error_code ec;
  if (options.powerfs) {
    const std::string backing = options.run_dir + "/data-backing";
    s->data_dir_ = options.run_dir + "/data";
    std::filesystem::create_directories(backing, ec);
    std::filesystem::create_directories(s->data_dir_, ec);
    const std::string binary =
        options.powerfs_binary.empty() ? default_powerfs_binary() : options.powerfs_binary;
    auto fs = PowerFs::mount(binary, backing, s->data_dir_, options.run_dir + "/powerfs.log");
    if (!fs.ok()) return fs.status();
    s->powerfs_ = std::move(fs).value();
  } else {
    s->data_dir_ = options.run_dir + "/data";
    std::filesystem::create_directories(s->data_dir_, ec);
  }
  if (ec) return io_error("cannot create " + s->data_dir_ + ": " + ec.message());
  s->fiu_prefix_ = options.run_dir + "/fiu-ctrl";
  return s;
}

LiveServer::~LiveServer() {
  process_.kill_and_wait();
  for (auto& h : helpers_) h->stop(std::chrono::milliseconds(2000));
  powerfs_.reset();  // unmount before the namespace goes (order does not matter, but logs read better)
  netns_.reset();
}

std::string LiveServer::log_tail() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > kLogTailBytes) text = "..." + text.substr(text.size() - kLogTailBytes);
  return text;
}

Status LiveServer::start() {
  LaunchContext ctx;
  ctx.bind_host = endpoint_.host;
  ctx.port = endpoint_.port;
  for (int i = 0; i < kAuxPorts; ++i) ctx.aux_ports[i] = aux_ports_[i];
  ctx.data_dir = data_dir_;
  ctx.run_dir = options_.run_dir;
  Launch launch = target_.launch(ctx);
  for (size_t i = helpers_.size(); i < launch.helpers.size(); ++i) {
    std::vector<std::string> argv;
    if (netns_) argv = netns_->exec_prefix();
    argv.insert(argv.end(), launch.helpers[i].begin(), launch.helpers[i].end());
    helpers_.push_back(std::make_unique<ServerProcess>());
    MQ_RETURN_IF_ERROR(
        helpers_.back()->start({argv, {}, options_.run_dir + "/helper.log", options_.run_dir}));
  }
  for (const auto& [name, content] : launch.files) {
    std::ofstream out(options_.run_dir + "/" + name);
    out << content;
    if (!out) return io_error("cannot write " + options_.run_dir + "/" + name);
  }
  std::vector<std::string> argv;
  if (netns_) argv = netns_->exec_prefix();
  if (options_.fiu) argv.insert(argv.end(), {"fiu-run", "-x", "-f", fiu_prefix_});
  argv.insert(argv.end(), launch.argv.begin(), launch.argv.end());
  {
    std::ofstream log(log_path_, std::ios::app);
    log << "\n---- mqharness: start #" << ++starts_ << ":";
    for (const auto& a : argv) log << " " << a;
    log << "\n";
  }
  MQ_RETURN_IF_ERROR(process_.start({argv, launch.env, log_path_, options_.run_dir}));
  const auto deadline = std::chrono::steady_clock::now() + launch.ready_timeout;
  for (int64_t i = 0; i < launch.ready_timeout / kReadyPoll + 1; ++i) {
    if (!process_.running()) {
      return unavailable(target_.name() + " ended while starting (" + process_.last_exit() + "); " +
                         log_path_ + " ends with:\n" + log_tail());
    }
    if (tcp_accepts(endpoint_.host, endpoint_.port, kReadyPoll)) return Status();
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(kReadyPoll);
  }
  return unavailable(target_.name() + " did not accept connections on " + endpoint_.host + ":" +
                     std::to_string(endpoint_.port) + " within " +
                     std::to_string(launch.ready_timeout.count()) + " ms; " + log_path_ + " ends with:\n" +
                     log_tail());
}

Status LiveServer::kill() {
  if (!process_.running())
    return failed_precondition("the server is not running (" + process_.last_exit() + ")");
  process_.kill_and_wait();
  return Status();
}

Status LiveServer::partition() {
  if (!netns_) return failed_precondition("the server does not run in a network namespace");
  return netns_->link_down();
}

Status LiveServer::heal_partition() {
  if (!netns_) return Status();
  return netns_->link_up();
}

Status LiveServer::disk_faults(bool on) {
  if (!options_.fiu) return failed_precondition("the server does not run under fiu-run");
  if (!process_.running()) return failed_precondition("the server is not running");
  std::vector<std::string> argv = {"fiu-ctrl", "-f", fiu_prefix_};
  if (on) {
    for (const char* c : kFiuEnable) argv.insert(argv.end(), {"-c", c});
  } else {
    for (const char* c : kFiuDisable) argv.insert(argv.end(), {"-c", c});
  }
  argv.push_back(std::to_string(process_.pid()));
  auto rc = run_command(argv, kFiuCtrlTimeout, options_.run_dir + "/fiu.log");
  if (!rc.ok()) return rc.status();
  if (*rc != 0)
    return io_error("fiu-ctrl exited " + std::to_string(*rc) + " (see " + options_.run_dir + "/fiu.log)");
  return Status();
}

Status LiveServer::power_loss() {
  if (!powerfs_) return failed_precondition("the data directory is not on mq-powerfs");
  if (process_.running()) process_.kill_and_wait();
  return powerfs_->drop();
}

void LiveServer::stop() {
  process_.stop(std::chrono::milliseconds(5000));
  for (auto& h : helpers_) h->stop(std::chrono::milliseconds(2000));
}

Result<std::string> LiveServer::powerfs_stats() const {
  if (!powerfs_) return failed_precondition("no mq-powerfs");
  return powerfs_->stats();
}

}  // namespace mq::live
