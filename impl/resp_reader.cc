#include "impl/resp_reader.h"

#include <hiredis/read.h>

#include <memory>

namespace mq::impl {
namespace {

// One parsed RESP value; an array owns its elements.
struct Node {
  int type = 0;
  std::string str;
  std::vector<Node*> elements;
  explicit Node(int t) : type(t) {}
  ~Node() {
    for (Node* e : elements) delete e;
  }
};

void* attach(const redisReadTask* task, Node* n) {
  if (task->parent != nullptr) {
    auto* parent = static_cast<Node*>(task->parent->obj);
    MQ_CHECK(parent->type == REDIS_REPLY_ARRAY && task->idx >= 0 &&
             static_cast<size_t>(task->idx) < parent->elements.size());
    parent->elements[static_cast<size_t>(task->idx)] = n;
  }
  return n;
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  auto* n = new Node(task->type);
  n->str.assign(str, len);
  return attach(task, n);
}

void* create_array(const redisReadTask* task, int elements) {
  auto* limits = static_cast<std::pair<size_t, bool*>*>(task->privdata);
  // A null object makes hiredis stop with an "out of memory" error; the flag tells
  // the real reason. Nothing is allocated for the refused count.
  if (elements < 0 || static_cast<size_t>(elements) > limits->first) {
    *limits->second = true;
    return nullptr;
  }
  auto* n = new Node(REDIS_REPLY_ARRAY);
  n->elements.assign(static_cast<size_t>(elements), nullptr);
  return attach(task, n);
}

void* create_integer(const redisReadTask* task, long long) { return attach(task, new Node(REDIS_REPLY_INTEGER)); }
void* create_nil(const redisReadTask* task) { return attach(task, new Node(REDIS_REPLY_NIL)); }
void free_object(void* p) { delete static_cast<Node*>(p); }

redisReplyObjectFunctions kFunctions = {create_string, create_array, create_integer, create_nil, free_object};

}  // namespace

RespReader::RespReader(RespLimits limits)
    : limits_(limits), reader_(redisReaderCreateWithFunctions(&kFunctions)) {
  MQ_CHECK_MSG(reader_ != nullptr, "hiredis could not make a reader");
  MQ_CHECK(limits_.max_args > 0 && limits_.max_request_bytes > 0);
  reader_->privdata = &array_bound_;
}

RespReader::~RespReader() { redisReaderFree(reader_); }

void RespReader::feed(std::string_view bytes) {
  if (failed_ || bytes.empty()) return;
  MQ_CHECK(redisReaderFeed(reader_, bytes.data(), bytes.size()) == REDIS_OK);
}

size_t RespReader::buffered() const { return reader_->len - reader_->pos; }

Status RespReader::fail(std::string why) {
  failed_ = true;
  return invalid_argument(std::move(why));
}

Result<std::optional<std::vector<std::string>>> RespReader::next() {
  if (failed_) return invalid_argument("the connection had a protocol error");
  void* reply = nullptr;
  const int rc = redisReaderGetReply(reader_, &reply);
  if (rc != REDIS_OK) {
    if (too_many_args_) return fail("a request has more than " + std::to_string(limits_.max_args) + " arguments");
    const std::string what = reader_->errstr;
    if (what.find("reply type byte") != std::string::npos) {
      return fail("expected a RESP array of bulk strings ('*'); inline commands are not supported");
    }
    return fail(what);
  }
  if (reply == nullptr) {
    if (buffered() > limits_.max_request_bytes) {
      return fail("a request exceeds " + std::to_string(limits_.max_request_bytes) + " bytes");
    }
    return std::optional<std::vector<std::string>>();
  }
  std::unique_ptr<Node> root(static_cast<Node*>(reply));
  if (root->type != REDIS_REPLY_ARRAY || root->elements.empty()) {
    return fail("a request is a non-empty array of bulk strings");
  }
  std::vector<std::string> args;
  args.reserve(root->elements.size());
  for (Node* e : root->elements) {
    if (e == nullptr || e->type != REDIS_REPLY_STRING) return fail("a request is a non-empty array of bulk strings");
    args.push_back(std::move(e->str));
  }
  return std::optional<std::vector<std::string>>(std::move(args));
}

}  // namespace mq::impl
