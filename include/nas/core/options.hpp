#pragma once
/// @file
/// NAS_WITH: fluent, order-independent setters for nas's aggregate options.
///
/// Every options type in nas is an aggregate, so designated initializers work
/// (`{.order = 2, .epochs = 50}`); C++20 requires designators in declaration order, though.
/// `NAS_WITH(field)` adds a member `with_<field>(value)` that returns a copy of the options with
/// that field set, so a chain names fields in any order:
///
/// ```
/// auto o = nas::DartsOptions{}.with_epochs(50).with_order(2);   // order does not matter
/// auto p = nas::DartsOptions{.order = 2, .epochs = 50};           // the same options
/// ```
///
/// The setters return a new value (they never modify the object they are called on), so a
/// chain on a temporary never leaves a reference to it. A data member and a member function
/// cannot share a name, hence `with_epochs` next to the field `epochs` rather than LibTorch's
/// `epochs(50)`, which would rule designated initializers out.

#include <utility>

/// Declares `with_<field>(value)` in an options type: a copy of `*this` with `field` set to
/// `value`. Put it after the field's declaration (the setter takes the field's own type).
#define NAS_WITH(field)                                      \
  [[nodiscard]] auto with_##field(decltype(field) v) const { \
    auto copy = *this;                                       \
    copy.field = std::move(v);                               \
    return copy;                                             \
  }
