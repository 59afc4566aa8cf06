#include "live/nats_target.h"

#include <map>

#include "live/process.h"

namespace mq::live {
namespace {

constexpr const char* kStream = "MQLIVE";
constexpr const char* kSubject = "mq.live";
constexpr const char* kDurable = "workers";

class NatsClient final : public TargetClient {
 public:
  NatsClient(Endpoint endpoint, ClientOptions options)
      : endpoint_(std::move(endpoint)), options_(std::move(options)) {}
  ~NatsClient() override { disconnect(); }

  Outcome connect() override;
  bool connected() const override { return nc_ != nullptr; }
  void disconnect() override;
  Outcome publish(const std::string& value) override;
  Fetch fetch() override;
  Outcome ack(const Delivery& delivery) override;

 private:
  Outcome setup();

  Endpoint endpoint_;
  ClientOptions options_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  natsSubscription* sub_ = nullptr;
  uint64_t next_receipt_ = 1;
  std::map<uint64_t, natsMsg*> held_;  // fetched, not yet acked; at most one in practice
};

void NatsClient::disconnect() {
  for (auto& [id, msg] : held_) natsMsg_Destroy(msg);
  held_.clear();
  if (sub_ != nullptr) natsSubscription_Destroy(sub_);
  sub_ = nullptr;
  if (js_ != nullptr) jsCtx_Destroy(js_);
  js_ = nullptr;
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
  nc_ = nullptr;
}

Outcome NatsClient::connect() {
  disconnect();
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return Outcome::fail("cannot create nats options");
  const std::string url = "nats://" + endpoint_.host + ":" + std::to_string(endpoint_.port);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetTimeout(opts, options_.op_timeout.count());
  natsOptions_SetAllowReconnect(opts, false);  // we reconnect ourselves, and say so in the history
  const natsStatus s = natsConnection_Connect(&nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    nc_ = nullptr;
    return Outcome::fail(std::string("connect: ") + natsStatus_GetText(s));
  }
  Outcome out = setup();
  if (!out.is_ok()) disconnect();
  return out;
}

Outcome NatsClient::setup() {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options_.op_timeout.count();
  if (natsStatus s = natsConnection_JetStream(&js_, nc_, &jo); s != NATS_OK) {
    return Outcome::fail(std::string("jetstream: ") + natsStatus_GetText(s));
  }
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char* subjects[] = {kSubject};
  cfg.Name = kStream;
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Retention = js_WorkQueuePolicy;
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = kDuplicateWindowS * 1'000'000'000;
  jsStreamInfo* si = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, &err);
  if (si != nullptr) jsStreamInfo_Destroy(si);
  if (s != NATS_OK && err != JSStreamNameExistErr) {
    Outcome o = nats_outcome(s, err, true);
    return Outcome{o.type, "add stream: " + o.error};
  }
  if (!options_.consumer) return Outcome::ok();
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = kStream;
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.AckWait = options_.redeliver_after.count() * 1'000'000;
  err = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&sub_, js_, kSubject, kDurable, nullptr, &so, &err);
  if (s != NATS_OK) {
    sub_ = nullptr;
    Outcome o = nats_outcome(s, err, true);
    return Outcome{o.type, "pull subscribe: " + o.error};
  }
  return Outcome::ok();
}

Outcome NatsClient::publish(const std::string& value) {
  if (js_ == nullptr) return Outcome::fail("not connected");
  jsPubOptions po;
  jsPubOptions_Init(&po);
  const std::string id = value.substr(0, value.find(' '));
  po.MsgId = id.c_str();
  po.MaxWait = options_.op_timeout.count();
  jsPubAck* pa = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_Publish(&pa, js_, kSubject, value.data(), static_cast<int>(value.size()), &po, &err);
  if (pa != nullptr) jsPubAck_Destroy(pa);
  const Outcome o = nats_outcome(s, err, true);
  if (o.type == EventType::kInfo && natsConnection_IsClosed(nc_)) disconnect();
  return o;
}

Fetch NatsClient::fetch() {
  if (sub_ == nullptr) return {Outcome::fail("not connected"), std::nullopt};
  natsMsgList list{nullptr, 0};
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = natsSubscription_Fetch(&list, sub_, 1, options_.fetch_wait.count(), &err);
  if (s == NATS_TIMEOUT) {
    natsMsgList_Destroy(&list);
    return {Outcome::fail(kEmpty), std::nullopt};
  }
  if (s != NATS_OK || list.Count < 1) {
    natsMsgList_Destroy(&list);
    Outcome o = nats_outcome(s == NATS_OK ? NATS_ERR : s, err, true);
    if (natsConnection_IsClosed(nc_)) disconnect();
    return {o.type == EventType::kOk ? Outcome::info("fetch: no message") : o, std::nullopt};
  }
  natsMsg* msg = list.Msgs[0];
  list.Msgs[0] = nullptr;  // ours now
  natsMsgList_Destroy(&list);
  Delivery d;
  d.value.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta != nullptr) {
    d.attempts = static_cast<uint32_t>(meta->NumDelivered);
    jsMsgMetaData_Destroy(meta);
  }
  const uint64_t receipt = next_receipt_++;
  held_[receipt] = msg;
  d.receipt = std::to_string(receipt);
  return {Outcome::ok(), d};
}

Outcome NatsClient::ack(const Delivery& delivery) {
  auto it = held_.find(std::stoull(delivery.receipt));
  if (it == held_.end()) return Outcome::fail("unknown delivery");
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = natsMsg_AckSync(it->second, nullptr, &err);
  natsMsg_Destroy(it->second);
  held_.erase(it);
  const Outcome o = nats_outcome(s, err, true);
  if (o.type == EventType::kInfo && natsConnection_IsClosed(nc_)) disconnect();
  return o;
}

}  // namespace

Outcome nats_outcome(natsStatus status, jsErrCode err, bool sent) {
  if (status == NATS_OK) return Outcome::ok();
  const std::string text = natsStatus_GetText(status);
  if (err != 0)
    return Outcome::fail("jetstream error " + std::to_string(static_cast<int>(err)) + ": " + text);
  switch (status) {
    case NATS_TIMEOUT:
      return sent ? Outcome::info("timeout") : Outcome::fail("timeout");
    case NATS_NO_RESPONDERS:
      return Outcome::fail("no responders");  // nothing subscribed took the request
    default:
      return sent ? Outcome::info(text) : Outcome::fail(text);
  }
}

std::string NatsTarget::describe() const {
  return "JetStream work-queue stream, file storage, message-id dedup (" + std::to_string(kDuplicateWindowS) +
         " s window), durable pull consumer with explicit acks";
}

std::string NatsTarget::version() const {
  auto v = capture_command({"nats-server", "--version"}, std::chrono::milliseconds(5000));
  if (!v.ok()) return "nats-server (version unknown)";
  std::string s = *v;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::optional<std::string> NatsTarget::unavailable() const {
  if (!capture_command({"nats-server", "--version"}, std::chrono::milliseconds(5000)).ok()) {
    return "nats-server is not installed (scripts/setup.sh installs it)";
  }
  return std::nullopt;
}

Launch NatsTarget::launch(const LaunchContext& ctx) const {
  Launch l;
  l.argv = {"nats-server", "-c", ctx.run_dir + "/nats.conf"};
  l.files = {{"nats.conf", "listen: \"" + ctx.bind_host + ":" + std::to_string(ctx.port) + "\"\n" +
                               "jetstream {\n  store_dir: \"" + ctx.data_dir + "\"\n}\n"}};
  return l;
}

std::unique_ptr<TargetClient> NatsTarget::client(const Endpoint& endpoint,
                                                 const ClientOptions& options) const {
  return std::make_unique<NatsClient>(endpoint, options);
}

Claim NatsTarget::claim(FaultKind fault) const {
  switch (fault) {
    case FaultKind::kPowerLoss:
      return {false, "the file store is fsynced on a timer, not before the publish ack"};
    case FaultKind::kKill:
      return {true, "a publish is acked once written to the file store; the page cache survives a kill"};
    case FaultKind::kPause:
    case FaultKind::kPartition:
    case FaultKind::kDisk:
      return {true, "unacked messages are redelivered after the ack wait"};
  }
  return {true, ""};
}

std::optional<std::string> NatsTarget::unsupported(FaultKind fault) const {
  if (fault == FaultKind::kDisk) {
    return "nats-server is a Go program: its system calls do not go through libc, so libfiu cannot fail them";
  }
  return std::nullopt;
}

}  // namespace mq::live
