#include "sim/choices.h"

#include <algorithm>

#include "base/check.h"

namespace mq::sim {
namespace {

constexpr int kKindShift = 56;
constexpr int kWhoShift = 32;
constexpr uint64_t kIndexMask = 0xFFFF'FFFFull;

uint32_t who_of(ChoiceKey key) {
  return static_cast<uint32_t>((key >> kWhoShift) & kMaxChoiceWho);
}
uint32_t index_of(ChoiceKey key) {
  return static_cast<uint32_t>(key & kIndexMask);
}

std::string fault_slot_name(uint32_t slot) {
  switch (slot) {
    case kSlotBrokerCrash:
      return "broker crash";
    case kSlotTornWrite:
      return "torn write of the crash";
    case kSlotBitFlip:
      return "flipped bit of the crash";
    case kSlotPartition:
      return "partition";
    case kSlotClog:
      return "clog";
    case kSlotDiskFull:
      return "full disk";
    default:
      return "crash of consumer " + std::to_string(slot - kSlotConsumerCrash);
  }
}

std::string link_name(uint32_t who) {
  return std::string(who % 2 == 1 ? "to" : "from") + " client endpoint " + std::to_string(who / 2);
}

}  // namespace

ChoiceKey choice_key(ChoiceKind kind, uint32_t who, uint32_t index) {
  MQ_CHECK_MSG(who <= kMaxChoiceWho, "a choice's owner fits its key");
  return (static_cast<uint64_t>(kind) << kKindShift) | (static_cast<uint64_t>(who) << kWhoShift) | index;
}

ChoiceKind choice_kind(ChoiceKey key) {
  return static_cast<ChoiceKind>(key >> kKindShift);
}

std::string describe_choice(ChoiceKey key) {
  const uint32_t who = who_of(key), index = index_of(key);
  switch (choice_kind(key)) {
    case ChoiceKind::kMessage:
      return "message " + std::to_string(index) + " of producer " + std::to_string(who);
    case ChoiceKind::kFault:
      return fault_slot_name(index) + " at tick " + std::to_string(who);
    case ChoiceKind::kNack:
      return "nack of delivery " + std::to_string(index) + " by consumer " + std::to_string(who);
    case ChoiceKind::kLoss:
      return "loss of packet " + std::to_string(index) + " " + link_name(who);
    case ChoiceKind::kDuplicate:
      return "duplicate of packet " + std::to_string(index) + " " + link_name(who);
  }
  return "choice " + std::to_string(key) + " (unknown kind)";
}

ChoiceSet::ChoiceSet(std::vector<ChoiceKey> skipped, bool record)
    : skipped_(std::move(skipped)), record_(record) {
  std::sort(skipped_.begin(), skipped_.end());
}

bool ChoiceSet::allow(ChoiceKey key) {
  if (std::binary_search(skipped_.begin(), skipped_.end(), key)) return false;
  if (!record_) return true;
  if (made_.size() < kMaxRecorded) {
    made_.push_back(key);
  } else {
    overflow_ = true;
  }
  return true;
}

}  // namespace mq::sim
