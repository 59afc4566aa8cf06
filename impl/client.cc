#include "impl/client.h"

#include <hiredis/hiredis.h>

#include <sys/time.h>

namespace mq::impl {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

}  // namespace

void Client::Deleter::operator()(redisContext* c) const { redisFree(c); }

Client::Client(redisContext* c) : ctx_(c) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Result<Client> Client::connect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, to_timeval(timeout));
  if (c == nullptr) return io_error("cannot allocate a connection to " + host);
  if (c->err != 0) {
    const std::string why = c->errstr;
    redisFree(c);
    return io_error("cannot connect to " + host + ":" + std::to_string(port) + ": " + why);
  }
  if (redisSetTimeout(c, to_timeval(timeout)) != REDIS_OK) {
    redisFree(c);
    return io_error("cannot set the timeout on the connection to " + host);
  }
  client_protocol::bound_answers(c->reader);
  return Client(c);
}

Status Client::broken(const std::string& what) {
  broken_ = true;
  return io_error(what + ": " + (ctx_ && ctx_->err != 0 ? std::string(ctx_->errstr) : "no answer") +
                  " (the outcome is unknown)");
}

Result<redisReply*> Client::command(const std::vector<std::string>& args) {
  if (broken_) return io_error("the connection failed earlier (the outcome is unknown)");
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  void* r = redisCommandArgv(ctx_.get(), static_cast<int>(args.size()), argv.data(), lens.data());
  if (r == nullptr) return broken(args[0]);
  return static_cast<redisReply*>(r);
}

// Each call: its arguments, the answer, read by client_protocol.
template <typename Read>
auto Client::call(const std::vector<std::string>& args, Read&& read) -> decltype(read(nullptr)) {
  auto r = command(args);
  if (!r.ok()) return r.status();
  ReplyPtr reply(*r);
  return read(reply.get());
}

Result<SendOutcome> Client::send(const std::string& queue, uint64_t id, const std::string& payload,
                                 const SendOptions& o) {
  return call(send_args(queue, id, payload, o), client_protocol::read_send);
}

Result<NamedValues> Client::publish(const std::string& topic, uint64_t id, const std::string& payload,
                                    const SendOptions& o) {
  return call(publish_args(topic, id, payload, o), client_protocol::read_publish);
}

Result<std::vector<ClientDelivery>> Client::fetch(const std::string& consumer, uint32_t count, int64_t block_ms) {
  return call(fetch_args(consumer, count, block_ms), client_protocol::read_fetch);
}

Status Client::ack(const std::string& consumer, uint64_t id) {
  return call(ack_args(consumer, id),
              [](const redisReply* r) { return client_protocol::read_ok(r, "ACK"); });
}

Status Client::nack(const std::string& consumer, uint64_t id, bool requeue) {
  return call(nack_args(consumer, id, requeue),
              [](const redisReply* r) { return client_protocol::read_ok(r, "NACK"); });
}

Status Client::attach(const std::string& consumer) {
  return call({"ATTACH", consumer}, [](const redisReply* r) { return client_protocol::read_ok(r, "ATTACH"); });
}

Status Client::ping() {
  return call({"PING"}, [](const redisReply* r) { return client_protocol::read_ok(r, "PING"); });
}

Result<NamedValues> Client::qstats(const std::string& queue) {
  return call({"QSTATS", queue}, client_protocol::read_pairs);
}

Result<std::string> Client::info() { return call({"INFO"}, client_protocol::read_info); }

Result<std::string> Client::raw(const std::vector<std::string>& args) {
  if (args.empty()) return invalid_argument("raw: no command");
  return call(args, [](const redisReply* r) -> Result<std::string> { return client_protocol::flatten(r); });
}

}  // namespace mq::impl
