#include "live/netns.h"

#include <unistd.h>

#include <atomic>

#include "live/process.h"

namespace mq::live {
namespace {

constexpr std::chrono::milliseconds kIpTimeout{5000};
std::atomic<int> g_serial{0};

}  // namespace

Status NetNamespace::ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto rc = run_command(argv, kIpTimeout, log_path_);
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  if (!rc.ok()) return io_error("'" + cmd + "': " + rc.status().message());
  if (*rc != 0) {
    return io_error("'" + cmd + "' exited with " + std::to_string(*rc) + " (see " + log_path_ +
                    "; partitions need root and iproute2)");
  }
  return Status();
}

Result<std::unique_ptr<NetNamespace>> NetNamespace::create(const std::string& log_path) {
  std::unique_ptr<NetNamespace> ns(new NetNamespace());
  const int serial = g_serial.fetch_add(1);
  const int pid = static_cast<int>(::getpid());
  ns->log_path_ = log_path;
  ns->name_ = "mqh-" + std::to_string(pid) + "-" + std::to_string(serial);
  // Interface names hold at most 15 bytes.
  const std::string tag = std::to_string(pid % 100000) + "x" + std::to_string(serial % 100);
  ns->host_veth_ = "mqh" + tag + "a";
  const std::string inside_veth = "mqh" + tag + "b";
  // A /30 of 169.254.0.0/16 chosen by pid and serial, so concurrent runs differ.
  const int octet3 = 1 + (pid + serial) % 250;
  const int octet4 = 4 * ((pid / 250 + serial) % 60) + 4;
  const std::string base = "169.254." + std::to_string(octet3) + ".";
  const std::string host_addr = base + std::to_string(octet4 + 1);
  ns->inside_ = base + std::to_string(octet4 + 2);

  MQ_RETURN_IF_ERROR(ns->ip({"netns", "add", ns->name_}));
  ns->created_ = true;
  ns->cleanup_slot_ = register_cleanup_command({"ip", "netns", "delete", ns->name_});
  MQ_RETURN_IF_ERROR(ns->ip({"link", "add", ns->host_veth_, "type", "veth", "peer", "name", inside_veth}));
  MQ_RETURN_IF_ERROR(ns->ip({"link", "set", inside_veth, "netns", ns->name_}));
  MQ_RETURN_IF_ERROR(ns->ip({"addr", "add", host_addr + "/30", "dev", ns->host_veth_}));
  MQ_RETURN_IF_ERROR(ns->ip({"link", "set", ns->host_veth_, "up"}));
  MQ_RETURN_IF_ERROR(
      ns->ip({"netns", "exec", ns->name_, "ip", "addr", "add", ns->inside_ + "/30", "dev", inside_veth}));
  MQ_RETURN_IF_ERROR(ns->ip({"netns", "exec", ns->name_, "ip", "link", "set", inside_veth, "up"}));
  MQ_RETURN_IF_ERROR(ns->ip({"netns", "exec", ns->name_, "ip", "link", "set", "lo", "up"}));
  return ns;
}

NetNamespace::~NetNamespace() {
  if (!created_) return;
  // Deleting the namespace destroys the inside veth end, and with it the host end.
  (void)ip({"netns", "delete", name_});
  (void)run_command({"ip", "link", "delete", host_veth_}, kIpTimeout, "");  // gone already: fine
  unregister_cleanup_command(cleanup_slot_);
}

Status NetNamespace::link_down() {
  return ip({"link", "set", host_veth_, "down"});
}
Status NetNamespace::link_up() {
  return ip({"link", "set", host_veth_, "up"});
}

}  // namespace mq::live
