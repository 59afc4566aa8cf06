#include "live/mqd_target.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>

#include "impl/client.h"
#include "live/process.h"

namespace mq::live {
namespace {

// The live command allows at most this many producers and consumers (apps/live_command.cc).
constexpr int kMaxClients = 64;
constexpr const char* kQueue = "work";
constexpr const char* kConfigFile = "mqd-live.json";

std::string mqd_binary() {
  if (const char* env = std::getenv("MQ_MQD"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "mqd";
  return (self.parent_path() / "mqd").string();
}

// A payload starts with its value (live/workload.cc): the value is the message id.
std::optional<uint64_t> id_of(const std::string& payload) {
  uint64_t v = 0;
  size_t k = 0;
  for (; k < payload.size() && k < 20 && payload[k] >= '0' && payload[k] <= '9'; ++k) {
    v = v * 10 + static_cast<uint64_t>(payload[k] - '0');
  }
  if (k == 0) return std::nullopt;
  return v;
}

class MqdClient final : public TargetClient {
 public:
  MqdClient(Endpoint endpoint, ClientOptions options) : endpoint_(std::move(endpoint)), options_(std::move(options)) {}

  Outcome connect() override {
    disconnect();
    // A blocking fetch waits fetch_wait on the server, so the socket waits longer.
    auto c = impl::Client::connect(endpoint_.host, endpoint_.port, options_.op_timeout + options_.fetch_wait);
    if (!c.ok()) return Outcome::fail(c.status().message());
    client_.emplace(std::move(c).value());
    if (!options_.consumer) return Outcome::ok();
    // The newest connection holds the consumer: what an older one held comes back.
    const Outcome out = mqd_outcome(client_->attach(options_.name));
    if (!out.is_ok()) disconnect();
    return out;
  }
  bool connected() const override { return client_.has_value(); }
  void disconnect() override { client_.reset(); }

  Outcome publish(const std::string& value) override {
    if (!client_) return Outcome::fail("not connected");
    const auto id = id_of(value);
    if (!id) return Outcome::fail("a payload without its value: '" + value.substr(0, 32) + "'");
    auto r = client_->send(kQueue, *id, value);
    if (!r.ok()) return drop_if_unknown(mqd_outcome(r.status()));
    switch (*r) {
      case impl::SendOutcome::kStored:
      case impl::SendOutcome::kDuplicate: return Outcome::ok();
      case impl::SendOutcome::kFull: return Outcome::fail("FULL");
      case impl::SendOutcome::kNoSpace: return Outcome::fail("NOSPACE");
    }
    return Outcome::fail("unknown answer");
  }

  Fetch fetch() override {
    if (!client_) return Fetch{Outcome::fail("not connected"), std::nullopt};
    auto r = client_->fetch(options_.name, 1, std::max<int64_t>(options_.fetch_wait.count(), 1));
    if (!r.ok()) return Fetch{drop_if_unknown(mqd_outcome(r.status())), std::nullopt};
    if (r->empty()) return Fetch{Outcome::fail(kEmpty), std::nullopt};
    const impl::ClientDelivery& d = r->front();
    return Fetch{Outcome::ok(), Delivery{d.payload, d.attempts, std::to_string(d.id)}};
  }

  Outcome ack(const Delivery& delivery) override {
    if (!client_) return Outcome::fail("not connected");
    const auto id = id_of(delivery.receipt);
    if (!id) return Outcome::fail("a delivery without an id");
    return drop_if_unknown(mqd_outcome(client_->ack(options_.name, *id)));
  }

 private:
  // A connection that gave no answer is unusable (the client says so): drop it.
  Outcome drop_if_unknown(Outcome out) {
    if (out.type == EventType::kInfo) disconnect();
    return out;
  }

  Endpoint endpoint_;
  ClientOptions options_;
  std::optional<impl::Client> client_;
};

}  // namespace

Outcome mqd_outcome(const Status& s) {
  if (s.ok()) return Outcome::ok();
  if (s.code() == Code::kIoError) return Outcome::info(s.message());
  return Outcome::fail(s.message());
}

std::optional<MqdFsync> MqdTarget::parse_fsync(const std::string& config) {
  if (config == "always") return MqdFsync::kAlways;
  if (config == "batch") return MqdFsync::kBatch;
  if (config == "never") return MqdFsync::kNever;
  return std::nullopt;
}

std::string MqdTarget::config() const {
  switch (fsync_) {
    case MqdFsync::kAlways: return "always";
    case MqdFsync::kBatch: return "batch";
    case MqdFsync::kNever: return "never";
  }
  return "?";
}

std::string MqdTarget::describe() const {
  return "mqd --fsync " + config() + ": one durable queue '" + kQueue +
         "', consumers attach per connection, SEND/FETCH/ACK (docs/protocol.md)";
}

std::string MqdTarget::version() const {
  auto out = capture_command({mqd_binary(), "--version"}, std::chrono::milliseconds(5000));
  if (!out.ok()) return "unknown (" + out.status().message() + ")";
  std::string v = *out;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

std::optional<std::string> MqdTarget::unavailable() const {
  auto out = capture_command({mqd_binary(), "--version"}, std::chrono::milliseconds(5000));
  if (!out.ok()) {
    return "mqd is not built at " + mqd_binary() + " (build the target mqd, or set MQ_MQD): " +
           out.status().message();
  }
  return std::nullopt;
}

std::string MqdTarget::config_json(std::chrono::milliseconds redeliver_after) {
  std::ostringstream s;
  s << R"({"queues": [{"name": ")" << kQueue << R"(", "capacity": 10000000, "durable": true, )"
    << R"("max_retries": 1000000, "visibility_timeout_ns": )" << redeliver_after.count() * 1'000'000 << "}],\n";
  s << R"( "producers": [)";
  for (int k = 0; k < kMaxClients; ++k) s << (k ? ", " : "") << R"({"name": "p)" << k << R"("})";
  s << "],\n" << R"( "consumers": [)";
  for (int k = 0; k < kMaxClients; ++k) {
    s << (k ? ", " : "") << R"({"name": "c)" << k << R"(", "queue": ")" << kQueue << R"(", "prefetch": 8})";
  }
  s << "]}\n";
  return s.str();
}

Launch MqdTarget::launch(const LaunchContext& ctx) const {
  Launch l;
  // Written into the run directory (not the data directory, which may be the
  // power-loss layer's).
  l.files.emplace_back(kConfigFile, config_json(ClientOptions{}.redeliver_after));
  l.argv = {mqd_binary(), "--data",  ctx.data_dir, "--listen", ctx.bind_host + ":" + std::to_string(ctx.port),
            "--config",   ctx.run_dir + "/" + kConfigFile, "--fsync", config()};
  return l;
}

std::unique_ptr<TargetClient> MqdTarget::client(const Endpoint& endpoint, const ClientOptions& options) const {
  return std::make_unique<MqdClient>(endpoint, options);
}

Claim MqdTarget::claim(FaultKind fault) const {
  switch (fsync_) {
    case MqdFsync::kAlways:
    case MqdFsync::kBatch:
      return {true, "a publish is confirmed only after the sync of its record (docs/durability.md, rule 2)"};
    case MqdFsync::kNever:
      if (fault == FaultKind::kPowerLoss) {
        return {false, "--fsync never: confirmed once written; what the page cache held is lost with the power"};
      }
      return {true, "--fsync never: confirmed once written to the page cache, which a process kill keeps"};
  }
  return {true, ""};
}

}  // namespace mq::live
