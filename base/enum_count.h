#pragma once
// enum_count: how many enumerators an enum has, derived by the compiler from the
// one switch that names them, instead of a count kept by hand beside the enum.
//
// The pattern: each enum the project iterates over has one constexpr function whose
// switch has a case for every enumerator and no default (-Werror=switch makes a
// missing case an error in every build), returning a non-null name for each and
// nullptr after the switch for any other value. Counting the values 0, 1, 2, ... that
// have a name then gives the count; adding an enumerator means adding its case, and
// the count, every table sized by it and every loop over it follow.
//
// REQUIRES: the enumerators are 0, 1, 2, ... without gaps (the default numbering),
// and fewer than kMaxEnumerators.

#include <cstddef>
#include <optional>
#include <string_view>

namespace mq {

inline constexpr int kMaxEnumerators = 256;

template <typename Enum, typename NameFn>
constexpr int enum_count(NameFn name_of) {
  int n = 0;
  while (n < kMaxEnumerators && name_of(static_cast<Enum>(n)) != nullptr) ++n;
  return n;
}

// The enumerator of Enum whose name is exactly `name`; nullopt: none. REQUIRES: as
// enum_count.
template <typename Enum, typename NameFn>
constexpr std::optional<Enum> enum_named(std::string_view name, NameFn name_of) {
  for (int k = 0; k < enum_count<Enum>(name_of); ++k) {
    if (name == name_of(static_cast<Enum>(k))) return static_cast<Enum>(k);
  }
  return std::nullopt;
}

}  // namespace mq
