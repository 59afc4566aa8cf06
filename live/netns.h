#pragma once
// NetNamespace: a network namespace the run creates for its server, joined to the
// host by a veth pair with link-local addresses (169.254.X.1 on the host side,
// 169.254.X.2 inside). Clients connect to the inside address; the partition nemesis
// takes the host end of the link down and up. Traffic goes only to addresses inside
// the namespace the run made. The namespace (and with it both veth ends) is deleted
// on destruction and, if the run is interrupted, by the interrupt handler
// (live/process.h).
//
// Needs root (CAP_NET_ADMIN) and `ip` (iproute2); create() says exactly what failed.
// Thread-safety: one thread at a time.

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq::live {

class NetNamespace {
 public:
  // Creates the namespace and the link. `log_path` receives the `ip` commands' output.
  static Result<std::unique_ptr<NetNamespace>> create(const std::string& log_path);
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;
  ~NetNamespace();

  const std::string& name() const { return name_; }
  const std::string& inside_address() const { return inside_; }
  // The prefix that runs a command inside: {"ip", "netns", "exec", name}.
  std::vector<std::string> exec_prefix() const { return {"ip", "netns", "exec", name_}; }
  Status link_down();
  Status link_up();

 private:
  NetNamespace() = default;
  Status ip(const std::vector<std::string>& args);
  std::string name_;
  std::string host_veth_;
  std::string inside_;
  std::string log_path_;
  int cleanup_slot_ = -1;
  bool created_ = false;
};

}  // namespace mq::live
