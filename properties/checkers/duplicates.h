#pragma once
// Duplicates: a message is delivered again only as a marked redelivery.
//
// Precisely: for two consecutive deliveries (deliver ok) of the same (queue, id), at
// positions i < j: (1) something between them gave the message back: a requeue or an
// ok nack of it, a detach of the consumer that got delivery i, or a crash; and
// (2) delivery j's attempt count is strictly higher than delivery i's. So with no
// fault (no nack, requeue, detach or crash) a message is delivered at most once per
// queue. Witness: the two deliveries.
//
// REQUIRES: validate_history(history).ok().

#include "model/history.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kDuplicates = "duplicates";

Verdict check_duplicates(const History& history);

}  // namespace mq
