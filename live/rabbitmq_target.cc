#include "live/rabbitmq_target.h"

#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <unistd.h>

#include <cstring>

#include "live/process.h"

namespace mq::live {
namespace {

constexpr const char* kQueue = "mq-live";
constexpr const char* kServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
constexpr amqp_channel_t kChannel = 1;
// Frames other than our confirm (heartbeats, a basic.return) read before giving up.
constexpr int kMaxFramesPerConfirm = 1000;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string bytes_text(const amqp_bytes_t& b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

// The broker's delivery count: x-delivery-count (quorum queues) + 1; 1 for a first
// delivery of a classic queue; 0 (unknown) for a classic redelivery.
uint32_t attempts_of(const amqp_envelope_t& env) {
  const amqp_basic_properties_t& p = env.message.properties;
  if ((p._flags & AMQP_BASIC_HEADERS_FLAG) != 0) {
    for (int i = 0; i < p.headers.num_entries; ++i) {
      const amqp_table_entry_t& e = p.headers.entries[i];
      if (bytes_text(e.key) != "x-delivery-count") continue;
      switch (e.value.kind) {
        case AMQP_FIELD_KIND_I64:
          return static_cast<uint32_t>(e.value.value.i64) + 1;
        case AMQP_FIELD_KIND_U64:
          return static_cast<uint32_t>(e.value.value.u64) + 1;
        case AMQP_FIELD_KIND_I32:
          return static_cast<uint32_t>(e.value.value.i32) + 1;
        case AMQP_FIELD_KIND_U32:
          return e.value.value.u32 + 1;
        default:
          return 0;
      }
    }
  }
  return env.redelivered != 0 ? 0 : 1;
}

class RabbitClient final : public TargetClient {
 public:
  RabbitClient(RabbitQueueType type, Endpoint endpoint, ClientOptions options)
      : type_(type), endpoint_(std::move(endpoint)), options_(std::move(options)) {}
  ~RabbitClient() override { disconnect(); }

  Outcome connect() override;
  bool connected() const override { return conn_ != nullptr; }
  void disconnect() override;
  Outcome publish(const std::string& value) override;
  Fetch fetch() override;
  Outcome ack(const Delivery& delivery) override;

 private:
  Outcome setup();
  Outcome rpc(const char* what) {
    Outcome o = rabbit_rpc_outcome(amqp_get_rpc_reply(conn_), true);
    if (!o.is_ok()) o.error = std::string(what) + ": " + o.error;
    return o;
  }

  RabbitQueueType type_;
  Endpoint endpoint_;
  ClientOptions options_;
  amqp_connection_state_t conn_ = nullptr;
};

void RabbitClient::disconnect() {
  if (conn_ == nullptr) return;
  // No close handshake: the connection may be dead, and a broker that is paused would
  // hold the handshake for the whole rpc timeout.
  amqp_destroy_connection(conn_);
  conn_ = nullptr;
}

Outcome RabbitClient::connect() {
  disconnect();
  conn_ = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(conn_);
  if (socket == nullptr) {
    disconnect();
    return Outcome::fail("cannot create a socket");
  }
  timeval tv = to_timeval(options_.op_timeout);
  const int rc = amqp_socket_open_noblock(socket, endpoint_.host.c_str(), endpoint_.port, &tv);
  if (rc != AMQP_STATUS_OK) {
    disconnect();
    return Outcome::fail(std::string("connect: ") + amqp_error_string2(rc));
  }
  amqp_set_handshake_timeout(conn_, &tv);
  amqp_set_rpc_timeout(conn_, &tv);
  Outcome out = setup();
  if (!out.is_ok()) disconnect();
  return out;
}

Outcome RabbitClient::setup() {
  const amqp_rpc_reply_t login =
      amqp_login(conn_, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
  if (Outcome o = rabbit_rpc_outcome(login, true); !o.is_ok()) return Outcome::fail("login: " + o.error);
  amqp_channel_open(conn_, kChannel);
  if (Outcome o = rpc("channel.open"); !o.is_ok()) return o;
  amqp_table_entry_t quorum{amqp_cstring_bytes("x-queue-type"), {}};
  quorum.value.kind = AMQP_FIELD_KIND_UTF8;
  quorum.value.value.bytes = amqp_cstring_bytes("quorum");
  amqp_table_t args{type_ == RabbitQueueType::kQuorum ? 1 : 0, &quorum};
  amqp_queue_declare(conn_, kChannel, amqp_cstring_bytes(kQueue), /*passive=*/0, /*durable=*/1,
                     /*exclusive=*/0,
                     /*auto_delete=*/0, args);
  if (Outcome o = rpc("queue.declare"); !o.is_ok()) return o;
  if (!options_.consumer) {
    amqp_confirm_select(conn_, kChannel);
    return rpc("confirm.select");
  }
  amqp_basic_qos(conn_, kChannel, 0, kPrefetch, 0);
  if (Outcome o = rpc("basic.qos"); !o.is_ok()) return o;
  amqp_basic_consume(conn_, kChannel, amqp_cstring_bytes(kQueue), amqp_empty_bytes, /*no_local=*/0,
                     /*no_ack=*/0,
                     /*exclusive=*/0, amqp_empty_table);
  return rpc("basic.consume");
}

Outcome RabbitClient::publish(const std::string& value) {
  if (conn_ == nullptr) return Outcome::fail("not connected");
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.delivery_mode = 2;  // persistent
  amqp_bytes_t body{value.size(), const_cast<char*>(value.data())};
  const int rc =
      amqp_basic_publish(conn_, kChannel, amqp_empty_bytes, amqp_cstring_bytes(kQueue), 0, 0, &props, body);
  if (rc != AMQP_STATUS_OK) {
    disconnect();
    return Outcome::info(std::string("publish: ") + amqp_error_string2(rc));
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.op_timeout;
  for (int i = 0; i < kMaxFramesPerConfirm; ++i) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    timeval tv = to_timeval(std::max(left, std::chrono::milliseconds(0)));
    amqp_frame_t frame{};
    const int w = amqp_simple_wait_frame_noblock(conn_, &frame, &tv);
    if (w != AMQP_STATUS_OK) {
      disconnect();
      return rabbit_confirm_outcome(w, 0);
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    const Outcome o = rabbit_confirm_outcome(w, frame.payload.method.id);
    if (o.type == EventType::kInfo && o.error == "unrelated frame") continue;
    if (!o.is_ok() && o.type == EventType::kInfo) disconnect();
    return o;
  }
  disconnect();
  return Outcome::info("no confirm among the frames read");
}

Fetch RabbitClient::fetch() {
  if (conn_ == nullptr) return {Outcome::fail("not connected"), std::nullopt};
  amqp_maybe_release_buffers(conn_);
  amqp_envelope_t env{};
  timeval tv = to_timeval(options_.fetch_wait);
  const amqp_rpc_reply_t r = amqp_consume_message(conn_, &env, &tv, 0);
  if (r.reply_type == AMQP_RESPONSE_NORMAL) {
    Delivery d{bytes_text(env.message.body), attempts_of(env), std::to_string(env.delivery_tag)};
    amqp_destroy_envelope(&env);
    return {Outcome::ok(), d};
  }
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) {
    return {Outcome::fail(kEmpty), std::nullopt};
  }
  // A frame other than a delivery (a channel close, a basic.cancel when the queue
  // went away) or a dead connection: whatever was delivered and not acked comes back.
  disconnect();
  Outcome o = rabbit_rpc_outcome(r, true);
  if (o.is_ok()) o = Outcome::info("unexpected frame while consuming");
  return {Outcome::info(o.error), std::nullopt};
}

Outcome RabbitClient::ack(const Delivery& delivery) {
  if (conn_ == nullptr) return Outcome::fail("not connected");
  const int rc = amqp_basic_ack(conn_, kChannel, std::stoull(delivery.receipt), 0);
  if (rc != AMQP_STATUS_OK) {
    disconnect();
    return Outcome::info(std::string("ack: ") + amqp_error_string2(rc));
  }
  return Outcome::ok();  // basic.ack has no answer: sent is all a client can know
}

}  // namespace

Outcome rabbit_rpc_outcome(const amqp_rpc_reply_t& reply, bool sent) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return Outcome::ok();
    case AMQP_RESPONSE_NONE:
      return sent ? Outcome::info("no reply") : Outcome::fail("no reply");
    case AMQP_RESPONSE_SERVER_EXCEPTION: {
      // The broker closed the channel or connection in answer: the method was refused.
      std::string why = "server exception";
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD || reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* close = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
        if (close != nullptr) why = std::to_string(close->reply_code) + " " + bytes_text(close->reply_text);
      }
      return Outcome::fail(why);
    }
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: {
      const std::string why =
          reply.library_error == AMQP_STATUS_TIMEOUT ? "timeout" : amqp_error_string2(reply.library_error);
      return sent ? Outcome::info(why) : Outcome::fail(why);
    }
  }
  return Outcome::info("unknown reply type");
}

Outcome rabbit_confirm_outcome(int wait_status, amqp_method_number_t method) {
  if (wait_status == AMQP_STATUS_TIMEOUT) return Outcome::info("timeout");
  if (wait_status != AMQP_STATUS_OK) return Outcome::info(amqp_error_string2(wait_status));
  switch (method) {
    case AMQP_BASIC_ACK_METHOD:
      return Outcome::ok();
    case AMQP_BASIC_NACK_METHOD:
      return Outcome::fail("nack");  // the queue could not take it (an internal error)
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
      return Outcome::info("closed before the confirm");
    default:
      return Outcome::info("unrelated frame");
  }
}

std::string RabbitTarget::describe() const {
  return std::string(type_ == RabbitQueueType::kClassic ? "durable classic queue"
                                                        : "quorum queue (one member)") +
         ", persistent messages, publisher confirms, manual acks, prefetch " + std::to_string(kPrefetch);
}

std::string RabbitTarget::version() const {
  auto v = capture_command({"dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"},
                           std::chrono::milliseconds(5000));
  return v.ok() ? "RabbitMQ " + *v : "RabbitMQ (version unknown)";
}

std::optional<std::string> RabbitTarget::unavailable() const {
  if (::access(kServerScript, X_OK) != 0) {
    return std::string(kServerScript) + " is missing: install rabbitmq-server (scripts/setup.sh)";
  }
  return std::nullopt;
}

Launch RabbitTarget::launch(const LaunchContext& ctx) const {
  Launch l;
  l.argv = {kServerScript};
  const std::string epmd_port = std::to_string(ctx.aux_ports[1]);
  l.env = {"RUNNING_UNDER_SYSTEMD=true",  // exec erl directly: our pid is the broker's
           "RABBITMQ_NODENAME=mqh" + std::to_string(ctx.port) + "@localhost",
           "RABBITMQ_NODE_IP_ADDRESS=" + ctx.bind_host,
           "RABBITMQ_NODE_PORT=" + std::to_string(ctx.port),
           "RABBITMQ_DIST_PORT=" + std::to_string(ctx.aux_ports[0]),
           "ERL_EPMD_PORT=" + epmd_port,
           "RABBITMQ_MNESIA_BASE=" + ctx.data_dir,
           "RABBITMQ_LOG_BASE=" + ctx.run_dir + "/rabbitmq-log",
           "RABBITMQ_LOGS=-",
           "RABBITMQ_CONFIG_FILE=" + ctx.run_dir + "/rabbitmq.conf",
           "RABBITMQ_ENABLED_PLUGINS_FILE=" + ctx.run_dir + "/enabled_plugins",
           "RABBITMQ_PID_FILE=" + ctx.run_dir + "/rabbitmq.pid",
           "HOME=" + ctx.run_dir};
  l.files = {{"rabbitmq.conf", "loopback_users = none\nlog.console = true\nlog.file = false\n"},
             {"enabled_plugins", "[].\n"}};
  l.helpers = {{"epmd", "-port", epmd_port}};
  l.ready_timeout = std::chrono::milliseconds(60'000);
  return l;
}

std::unique_ptr<TargetClient> RabbitTarget::client(const Endpoint& endpoint,
                                                   const ClientOptions& options) const {
  return std::make_unique<RabbitClient>(type_, endpoint, options);
}

Claim RabbitTarget::claim(FaultKind fault) const {
  switch (fault) {
    case FaultKind::kKill:
    case FaultKind::kPowerLoss:
      return {true, "a confirmed persistent message in a durable queue is on disk (publisher confirms docs)"};
    case FaultKind::kPause:
    case FaultKind::kPartition:
      return {true, "unacked deliveries are requeued when their channel closes"};
    case FaultKind::kDisk:
      return {true, "a message the queue could not write is not confirmed"};
  }
  return {true, ""};
}

}  // namespace mq::live
