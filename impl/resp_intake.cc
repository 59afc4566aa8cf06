#include "impl/resp_intake.h"

#include <string>
#include <utility>

#include "base/check.h"

namespace mq::impl {

RespIntake::RespIntake(const RespCommands& commands, ConnId conn, RespLimits limits)
    : commands_(commands), conn_(conn), reader_(limits) {}

void RespIntake::feed(std::string_view bytes) {
  if (!done_) reader_.feed(bytes);
}

std::optional<Request> RespIntake::next() {
  if (done_) return std::nullopt;
  auto args = reader_.next();
  if (!args.ok()) return refuse(args.status().message());
  if (!args->has_value()) return std::nullopt;
  ParsedRequest parsed = commands_.parse(**args, conn_);
  done_ = parsed.close_after;
  return std::move(parsed.request);
}

Request RespIntake::abandon(std::string_view why) {
  MQ_CHECK_MSG(!done_, "a connection that stopped reading has no request to give up on");
  return refuse(why);
}

Request RespIntake::refuse(std::string_view why) {
  done_ = true;
  protocol_error_ = true;
  std::string answer;
  resp_error(answer, protocol::error_text(protocol::ErrorWord::kErr, "Protocol error: " + std::string(why)));
  return req::Inline{std::move(answer)};
}

}  // namespace mq::impl
