#pragma once
/// @file
/// nas::OpSet: an ordered set of candidate operations, and the nas::op_set concept.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "nas/core/diagnostic.hpp"
#include "nas/core/fixed_string.hpp"
#include "nas/core/names.hpp"
#include "nas/ops/op.hpp"

namespace nas {

namespace diagnostic {
template <FixedString Name>
void op_names_in_an_OpSet_must_be_unique__this_name_appears_twice();
template <FixedString Name>
void this_OpSet_has_no_op_with_this_name();
}  // namespace diagnostic

namespace detail {
template <op_descriptor... Ops>
consteval bool check_unique_op_names() {
  constexpr std::array<std::string_view, sizeof...(Ops)> names{Ops::name...};
  ((count_name(names, Ops::name) > 1
        ? diagnostic::op_names_in_an_OpSet_must_be_unique__this_name_appears_twice<
              Ops::fixed_name>()
        : void()),
   ...);
  return true;
}

template <class... Ops>
concept unique_op_names = check_unique_op_names<Ops...>();
}  // namespace detail

/// An ordered set of candidate operations; the position of an op is its index in a genotype.
///
/// ```
/// using my_ops = nas::OpSet<nas::Op<"none", Zero>, nas::Op<"skip_connect", Identity>,
///                           nas::Op<"conv_3x3", Conv3>>;
/// static_assert(my_ops::index_of<"conv_3x3"> == 2);
/// ```
///
/// Requirements: at least one op, every argument a nas::op_descriptor, names
/// unique. A repeated name fails at the user's line and names the op.
/// Models: nas::op_set.
template <op_descriptor... Ops>
  requires(sizeof...(Ops) > 0 && detail::unique_op_names<Ops...>)
struct OpSet {
  /// Number of ops.
  static constexpr std::size_t size = sizeof...(Ops);
  /// Op names in index order.
  static constexpr std::array<std::string_view, size> names{Ops::name...};
  /// `is_zero[i]`: whether op `i` outputs zeros (nas::enable_zero_op).
  static constexpr std::array<bool, size> is_zero{Ops::is_zero...};
  /// `is_identity[i]`: whether op `i` is the identity at stride 1 (nas::enable_identity_op).
  static constexpr std::array<bool, size> is_identity{Ops::is_identity...};
  /// Number of zero ops, and of the others.
  static constexpr std::size_t zero_count = (std::size_t{Ops::is_zero ? 1U : 0U} + ...);
  static constexpr std::size_t nonzero_count = size - zero_count;
  /// The op descriptors as a tuple type (for the module layers).
  using descriptors = std::tuple<Ops...>;
  /// The descriptor of op `I`.
  template <std::size_t I>
  using op = std::tuple_element_t<I, descriptors>;

  /// The index of the op with this name, or nothing.
  [[nodiscard]] static constexpr std::optional<std::size_t> find(std::string_view name) noexcept {
    return detail::find_name(names, name);
  }

  /// The index of the op named `Name`; a name not in the set fails to compile.
  template <FixedString Name>
  static constexpr std::size_t index_of = [] {
    constexpr auto i = find(Name.view());
    if constexpr (!i) diagnostic::this_OpSet_has_no_op_with_this_name<Name>();
    return *i;
  }();

  /// The name of op `index`; throws nas::InvalidArgument when out of range.
  [[nodiscard]] static constexpr std::string_view name_of(std::size_t index) {
    if (index >= size) diagnostic::invalid_description("op index out of range for this OpSet");
    return names[index];
  }

  /// The names joined by ", " (for error messages).
  [[nodiscard]] static std::string name_list() {
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
      if (i != 0) out += ", ";
      out += names[i];
    }
    return out;
  }
};

namespace detail {
template <class T>
inline constexpr bool is_op_set = false;
template <class... Ops>
inline constexpr bool is_op_set<OpSet<Ops...>> = true;
}  // namespace detail

/// A set of candidate operations.
///
/// Requirements: `T` is a specialization of nas::OpSet.
/// Models: nas::OpSet.
template <class T>
concept op_set = detail::is_op_set<T>;

}  // namespace nas
