#pragma once
// Overloaded: a visitor made of one lambda per alternative of a std::variant.
// std::visit(Overloaded{...}, v) does not compile unless every alternative has its
// lambda (none takes `auto`), so a new alternative (an operation, a command, a
// request) shows each place that must decide what to do with it, as -Werror=switch
// does for an enumeration.

namespace mq {

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <typename... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace mq
