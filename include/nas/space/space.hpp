#pragma once
/// @file
/// nas::Space: a search space made of named cell kinds, and the nas::search_space concept.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>

#include "nas/core/fixed_string.hpp"
#include "nas/core/math.hpp"
#include "nas/core/names.hpp"
#include "nas/space/cell.hpp"

namespace nas {

namespace diagnostic {
template <FixedString Name>
void cell_names_in_a_Space_must_be_unique__this_name_appears_twice();
template <FixedString Name>
void this_Space_has_no_cell_kind_with_this_name();
}  // namespace diagnostic

namespace detail {
template <cell_kind... Cells>
consteval bool check_unique_cell_names() {
  constexpr std::array<std::string_view, sizeof...(Cells)> names{Cells::name...};
  ((count_name(names, Cells::name) > 1
        ? diagnostic::cell_names_in_a_Space_must_be_unique__this_name_appears_twice<
              Cells::fixed_name>()
        : void()),
   ...);
  return true;
}

template <class... Cells>
concept unique_cell_names = check_unique_cell_names<Cells...>();
}  // namespace detail

/// A search space: one or more named cell kinds, each with its own DAG and op set.
///
/// ```
/// using space = nas::Space<nas::Cell<"normal", darts_dag, darts_ops>,
///                          nas::Cell<"reduce", darts_dag, darts_ops>>;
/// static_assert(space::cell<"normal">::edge_count == 14);
/// ```
///
/// The shape lives in the type (edge and decision counts, op names); sizes such as
/// channels and depth are run-time options of the networks built from it.
///
/// Requirements: at least one cell kind, each a nas::cell_kind, names unique (a
/// repeated name fails at the user's line and names the cell).
/// Models: nas::search_space.
template <cell_kind... Cells>
  requires(sizeof...(Cells) > 0 && detail::unique_cell_names<Cells...>)
struct Space {
  /// The cell kinds as a tuple type.
  using cells = std::tuple<Cells...>;
  /// Number of cell kinds.
  static constexpr std::size_t cell_count = sizeof...(Cells);
  /// Cell kind names in order.
  static constexpr std::array<std::string_view, cell_count> cell_names{Cells::name...};

  /// The index of the cell kind with this name, or nothing.
  [[nodiscard]] static constexpr std::optional<std::size_t> find_cell(
      std::string_view name) noexcept {
    return detail::find_name(cell_names, name);
  }

  /// The index of the cell kind named `Name`; an unknown name fails to compile.
  template <FixedString Name>
  static constexpr std::size_t cell_index = [] {
    constexpr auto i = find_cell(Name.view());
    if constexpr (!i) diagnostic::this_Space_has_no_cell_kind_with_this_name<Name>();
    return *i;
  }();

  /// The cell kind at position `I`.
  template <std::size_t I>
  using cell_at = std::tuple_element_t<I, cells>;
  /// The cell kind named `Name`.
  template <FixedString Name>
  using cell = cell_at<cell_index<Name>>;

  /// Edges over all cell kinds (one cell of each kind).
  static constexpr std::size_t edge_count = (Cells::edge_count + ...);
  /// Controller decisions over all cell kinds.
  static constexpr std::size_t decision_count = (Cells::decision_count + ...);
  /// Distinct architectures (the product over cell kinds), or nothing when the
  /// count does not fit in 64 bits.
  static constexpr std::optional<std::uint64_t> architecture_count = [] {
    std::optional<std::uint64_t> n = 1;
    ((n = detail::checked_mul(n, Cells::architecture_count)), ...);
    return n;
  }();
};

namespace detail {
template <class T>
inline constexpr bool is_space = false;
template <class... Cells>
inline constexpr bool is_space<Space<Cells...>> = true;
}  // namespace detail

/// A search space.
///
/// Requirements: `T` is a specialization of nas::Space.
/// Models: nas::Space.
/// See also: nas::Genotype, nas::architectures.
template <class T>
concept search_space = detail::is_space<T>;

}  // namespace nas
