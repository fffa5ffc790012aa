#pragma once
/// @file
/// nas::CellGenotype and nas::Genotype: one derived architecture of a space.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "nas/core/diagnostic.hpp"
#include "nas/core/fixed_string.hpp"
#include "nas/space/cell.hpp"
#include "nas/space/space.hpp"

namespace nas {

/// What is wrong with a genotype, as data (see nas::CellGenotype::problem).
struct GenotypeProblem {
  enum class Kind : std::uint8_t {
    none,          ///< the genotype is valid
    missing_edge,  ///< a cell that keeps every edge has an edge without an op
    kept_count,    ///< a node keeps a number of inputs other than the keep rule says
    zero_op_kept,  ///< a kept edge of a keep-k cell holds a zero op
    empty_concat,  ///< a concat cell concatenates no node
  };
  Kind kind = Kind::none;
  std::size_t node = 0;   ///< the node concerned
  std::size_t from = 0;   ///< the edge concerned (missing_edge, zero_op_kept)
  std::size_t count = 0;  ///< inputs kept (kept_count)
  [[nodiscard]] constexpr explicit operator bool() const noexcept { return kind != Kind::none; }
};

/// The ops kept on one edge of a cell genotype: at most `N`, in ascending op order.
/// Iterable (`for (std::size_t op : g.ops(e))`); `size()` is the edge's multiplicity.
template <std::size_t N>
struct EdgeOps {
  std::array<std::size_t, N> ops{};
  std::size_t count = 0;
  [[nodiscard]] constexpr std::size_t size() const noexcept { return count; }
  [[nodiscard]] constexpr bool empty() const noexcept { return count == 0; }
  [[nodiscard]] constexpr const std::size_t* begin() const noexcept { return ops.data(); }
  [[nodiscard]] constexpr const std::size_t* end() const noexcept { return ops.data() + count; }
  [[nodiscard]] constexpr std::size_t operator[](std::size_t i) const noexcept { return ops[i]; }
};

/// The architecture of one cell kind: the ops kept on every edge (one op or none;
/// up to k when the DAG lets a node take one input several times, `.repeat`), and
/// for a cell whose output is a concatenation, which computed nodes are concatenated.
///
/// A fixed-size value (no heap), ordered, hashable and usable in constant
/// expressions. A default-constructed cell genotype keeps no edge and
/// concatenates every computed node; it becomes valid once each node keeps the
/// inputs its keep rule asks for (exactly k, or every edge under nas::keep_all).
/// Setters check edges and op indices at once and throw nas::InvalidArgument (or
/// stop compilation in a constant expression); the keep rule is checked by
/// valid() / problem(), since a genotype is built one edge at a time.
template <cell_kind C>
class CellGenotype {
 public:
  using cell = C;
  using ops_type = typename C::ops;
  static constexpr const Dag& dag = C::dag;
  static constexpr std::size_t edge_count = C::edge_count;
  /// Ops one edge can keep: 1, or k for a DAG whose nodes may repeat an input.
  static constexpr std::size_t max_ops_per_edge = C::dag.max_ops_per_edge();

  constexpr CellGenotype() noexcept {
    ops_.fill(absent_);
    if (dag.output == Output::concat_nodes) concat_ = all_computed_mask();
  }

  /// The op on edge `edge` (by index), or nothing when the edge is not kept. On an
  /// edge that keeps several ops (`.repeat`), the first in op order; see ops().
  [[nodiscard]] constexpr std::optional<std::size_t> op(std::size_t edge) const {
    check_edge_index(edge);
    if (slot(edge, 0) == absent_) return std::nullopt;
    return static_cast<std::size_t>(slot(edge, 0));
  }
  /// The op on edge `from -> to`, or nothing when it is not kept.
  [[nodiscard]] constexpr std::optional<std::size_t> op(std::size_t from, std::size_t to) const {
    return op(C::edge_index(from, to));
  }
  /// The name of the op on edge `edge`, or nothing.
  [[nodiscard]] constexpr std::optional<std::string_view> op_name(std::size_t edge) const {
    const auto o = op(edge);
    if (!o) return std::nullopt;
    return ops_type::names[*o];
  }
  /// Every op kept on edge `edge`, in op order (several only under `.repeat`).
  [[nodiscard]] constexpr EdgeOps<max_ops_per_edge> ops(std::size_t edge) const {
    check_edge_index(edge);
    EdgeOps<max_ops_per_edge> out;
    for (std::size_t j = 0; j < max_ops_per_edge && slot(edge, j) != absent_; ++j)
      out.ops[out.count++] = static_cast<std::size_t>(slot(edge, j));
    return out;
  }

  /// Every op kept on edge `from -> to`, in op order.
  [[nodiscard]] constexpr EdgeOps<max_ops_per_edge> ops(std::size_t from, std::size_t to) const {
    return ops(C::edge_index(from, to));
  }

  /// Keeps edge `edge` with the single op `op_index`, or drops it with `std::nullopt`.
  constexpr CellGenotype& set(std::size_t edge, std::optional<std::size_t> op_index) {
    check_edge_index(edge);
    if (op_index) check_op_index(*op_index);
    for (std::size_t j = 0; j < max_ops_per_edge; ++j) slot(edge, j) = absent_;
    if (op_index) slot(edge, 0) = static_cast<std::int16_t>(*op_index);
    return *this;
  }
  /// Keeps edge `from -> to` with the single op `op_index`.
  constexpr CellGenotype& set(std::size_t from, std::size_t to, std::size_t op_index) {
    return set(C::edge_index(from, to), op_index);
  }
  /// Keeps edge `from -> to` with the single op named `op_name`.
  constexpr CellGenotype& set(std::size_t from, std::size_t to, std::string_view op_name) {
    return set(C::edge_index(from, to), find_op(op_name));
  }
  /// Adds one more op on edge `edge` (a node taking the same input again, as NASNet-A
  /// does). Needs a DAG with `.repeat = true` and room on the edge (at most k ops).
  constexpr CellGenotype& add(std::size_t edge, std::size_t op_index) {
    check_edge_index(edge);
    check_op_index(op_index);
    if (slot(edge, max_ops_per_edge - 1) != absent_)
      diagnostic::invalid_genotype(
          max_ops_per_edge == 1
              ? "this edge already keeps an op and the cell's nodes take each input once "
                "(a DAG with .repeat = true lets a node take an input again)"
              : "this edge already keeps as many ops as a node keeps inputs");
    // insert in ascending op order (absent slots are at the end)
    std::size_t j = max_ops_per_edge - 1;
    const auto value = static_cast<std::int16_t>(op_index);
    while (j > 0 && (slot(edge, j - 1) == absent_ || slot(edge, j - 1) > value)) {
      slot(edge, j) = slot(edge, j - 1);
      --j;
    }
    slot(edge, j) = value;
    return *this;
  }
  /// Adds one more op on edge `from -> to`.
  constexpr CellGenotype& add(std::size_t from, std::size_t to, std::string_view op_name) {
    return add(C::edge_index(from, to), find_op(op_name));
  }
  /// Removes one occurrence of `op_index` from edge `edge` (nothing if it is not kept there).
  constexpr CellGenotype& remove(std::size_t edge, std::size_t op_index) {
    check_edge_index(edge);
    for (std::size_t j = 0; j < max_ops_per_edge; ++j) {
      if (slot(edge, j) != static_cast<std::int16_t>(op_index)) continue;
      for (; j + 1 < max_ops_per_edge; ++j) slot(edge, j) = slot(edge, j + 1);
      slot(edge, max_ops_per_edge - 1) = absent_;
      break;
    }
    return *this;
  }
  /// Drops edge `from -> to`.
  constexpr CellGenotype& erase(std::size_t from, std::size_t to) {
    return set(C::edge_index(from, to), std::nullopt);
  }

  /// Whether computed node `node` (a node id, inputs counted) is in the concatenation.
  [[nodiscard]] constexpr bool concatenated(std::size_t node) const noexcept {
    return node >= dag.inputs && node < dag.node_count() &&
           ((concat_ >> (node - dag.inputs)) & 1U) != 0;
  }
  /// The concatenation as a bit mask: bit i is computed node `inputs + i`.
  [[nodiscard]] constexpr std::uint64_t concat_mask() const noexcept { return concat_; }
  /// Sets the concatenated nodes (node ids, inputs counted: DARTS writes `[2, 3, 4, 5]`).
  constexpr CellGenotype& set_concat(std::initializer_list<std::size_t> nodes) {
    std::uint64_t mask = 0;
    for (std::size_t n : nodes) mask |= node_bit(n);
    concat_ = mask;
    return *this;
  }
  /// Sets the concatenation from a mask (bit i is computed node `inputs + i`).
  constexpr CellGenotype& set_concat_mask(std::uint64_t mask) {
    if (dag.output != Output::concat_nodes) {
      if (mask != 0)
        diagnostic::invalid_genotype("this cell's output is its last node; it has no concat list");
    } else if ((mask & ~all_computed_mask()) != 0) {
      diagnostic::invalid_genotype("concat names a node that is not a computed node of the cell");
    }
    concat_ = mask;
    return *this;
  }
  /// The bit of computed node `node` in the concat mask (checked).
  [[nodiscard]] static constexpr std::uint64_t node_bit(std::size_t node) {
    if (dag.output != Output::concat_nodes)
      diagnostic::invalid_genotype("this cell's output is its last node; it has no concat list");
    if (node < dag.inputs || node >= dag.node_count())
      diagnostic::invalid_genotype("concat names a node that is not a computed node of the cell");
    return std::uint64_t{1} << (node - dag.inputs);
  }
  /// Every computed node.
  [[nodiscard]] static constexpr std::uint64_t all_computed_mask() noexcept {
    return dag.nodes >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << dag.nodes) - 1;
  }

  /// Number of inputs node `node` keeps (an input kept twice counts twice).
  [[nodiscard]] constexpr std::size_t kept_inputs(std::size_t node) const noexcept {
    std::size_t n = 0;
    for (std::size_t e = dag.first_edge_into(node); e < dag.end_edge_into(node); ++e)
      for (std::size_t j = 0; j < max_ops_per_edge; ++j) n += slot(e, j) != absent_ ? 1U : 0U;
    return n;
  }

  /// The first broken rule, or a problem of kind `none`.
  [[nodiscard]] constexpr GenotypeProblem problem() const noexcept {
    using K = GenotypeProblem::Kind;
    for (std::size_t v = dag.inputs; v < dag.node_count(); ++v) {
      for (std::size_t e = dag.first_edge_into(v); e < dag.end_edge_into(v); ++e) {
        if (slot(e, 0) == absent_) {
          if (dag.keeps_all()) return {K::missing_edge, v, dag.edges[e].from, 0};
          continue;
        }
        for (std::size_t j = 0; j < max_ops_per_edge && slot(e, j) != absent_; ++j)
          if (!dag.keeps_all() && ops_type::is_zero[static_cast<std::size_t>(slot(e, j))])
            return {K::zero_op_kept, v, dag.edges[e].from, 0};
      }
      const std::size_t kept = kept_inputs(v);
      if (kept != dag.kept_inputs(v)) return {K::kept_count, v, 0, kept};
    }
    if (dag.output == Output::concat_nodes && concat_ == 0) return {K::empty_concat, 0, 0, 0};
    return {};
  }
  /// Whether every rule holds.
  [[nodiscard]] constexpr bool valid() const noexcept { return !problem(); }

  /// The problem in words, or an empty string.
  [[nodiscard]] std::string describe_problem() const {
    const GenotypeProblem p = problem();
    const std::string cell_name{C::name};
    using K = GenotypeProblem::Kind;
    auto edge = [&] {
      return "edge (" + std::to_string(p.from) + " -> " + std::to_string(p.node) + ")";
    };
    switch (p.kind) {
      case K::none:
        return {};
      case K::missing_edge:
        return "cell '" + cell_name + "': " + edge() + " has no op; a '" + cell_name +
               "' cell keeps every edge";
      case K::zero_op_kept: {
        std::string zero;
        for (std::size_t o : ops(C::edge_index(p.from, p.node)))
          if (ops_type::is_zero[o]) zero = std::string(ops_type::names[o]);
        return "cell '" + cell_name + "': " + edge() + " keeps the zero op '" + zero +
               "'; a derived cell that keeps k inputs per node keeps no zero op";
      }
      case K::kept_count:
        return "cell '" + cell_name + "': node " + std::to_string(p.node) + " keeps " +
               std::to_string(p.count) + " input(s); it must keep " +
               std::to_string(dag.kept_inputs(p.node));
      case K::empty_concat:
        return "cell '" + cell_name + "': the concat list is empty; concatenate at least one node";
    }
    return {};
  }

  /// Throws nas::InvalidArgument naming the first broken rule.
  void validate() const {
    if (!valid()) throw InvalidArgument("nas: invalid genotype: " + describe_problem());
  }

  friend constexpr bool operator==(const CellGenotype&, const CellGenotype&) = default;
  friend constexpr auto operator<=>(const CellGenotype&, const CellGenotype&) = default;

 private:
  static constexpr std::int16_t absent_ = -1;
  static_assert(ops_type::size < 32767, "an op set holds at most 32766 ops");

  static constexpr void check_edge_index(std::size_t edge) {
    if (edge >= edge_count) diagnostic::invalid_genotype("edge index out of range for the cell");
  }
  static constexpr void check_op_index(std::size_t op_index) {
    if (op_index >= ops_type::size)
      diagnostic::invalid_genotype("op index out of range for the cell's op set");
  }
  static constexpr std::size_t find_op(std::string_view op_name) {
    const auto i = ops_type::find(op_name);
    if (!i) diagnostic::invalid_genotype("no op with this name in the cell's op set");
    return *i;
  }
  [[nodiscard]] constexpr std::int16_t& slot(std::size_t edge, std::size_t j) noexcept {
    return ops_[edge * max_ops_per_edge + j];
  }
  [[nodiscard]] constexpr std::int16_t slot(std::size_t edge, std::size_t j) const noexcept {
    return ops_[edge * max_ops_per_edge + j];
  }

  // ops_[edge * max_ops_per_edge + j]: the j-th op of an edge, ascending, absent ones last.
  std::array<std::int16_t, edge_count * max_ops_per_edge> ops_{};
  std::uint64_t concat_ = 0;
};

namespace detail {
template <class S>
struct genotype_storage;
template <class... Cells>
struct genotype_storage<Space<Cells...>> {
  using type = std::tuple<CellGenotype<Cells>...>;
};
}  // namespace detail

/// One architecture of the space `S`: a nas::CellGenotype for each cell kind.
///
/// ```
/// nas::Genotype<space> g;
/// g.cell<"normal">().set(0, 2, "sep_conv_3x3").set(1, 2, "skip_connect");
/// ```
///
/// A fixed-size value (no heap), with equality, ordering and `std::hash`;
/// printed and parsed in DARTS text, NAS-Bench-201 text and JSON
/// (nas/space/format.hpp); enumerated, sampled and mutated by nas/space/enumerate.hpp.
template <search_space S>
class Genotype {
 public:
  using space = S;

  /// The cell genotype of the cell kind named `Name`.
  template <FixedString Name>
  [[nodiscard]] constexpr auto& cell() noexcept {
    return std::get<S::template cell_index<Name>>(cells_);
  }
  template <FixedString Name>
  [[nodiscard]] constexpr const auto& cell() const noexcept {
    return std::get<S::template cell_index<Name>>(cells_);
  }
  /// The cell genotype of cell kind `I`.
  template <std::size_t I>
  [[nodiscard]] constexpr auto& cell_at() noexcept {
    return std::get<I>(cells_);
  }
  template <std::size_t I>
  [[nodiscard]] constexpr const auto& cell_at() const noexcept {
    return std::get<I>(cells_);
  }

  /// Calls `f(cell_genotype)` for each cell kind in order.
  template <class F>
  constexpr void for_each_cell(F&& f) {
    std::apply([&](auto&... c) { (f(c), ...); }, cells_);
  }
  template <class F>
  constexpr void for_each_cell(F&& f) const {
    std::apply([&](const auto&... c) { (f(c), ...); }, cells_);
  }

  /// Whether every cell genotype is valid.
  [[nodiscard]] constexpr bool valid() const noexcept {
    bool ok = true;
    for_each_cell([&](const auto& c) { ok = ok && c.valid(); });
    return ok;
  }
  /// The first problem in words, or an empty string.
  [[nodiscard]] std::string describe_problem() const {
    std::string out;
    for_each_cell([&](const auto& c) {
      if (out.empty()) out = c.describe_problem();
    });
    return out;
  }
  /// Throws nas::InvalidArgument naming the first broken rule.
  void validate() const {
    if (!valid()) throw InvalidArgument("nas: invalid genotype: " + describe_problem());
  }

  /// A 64-bit hash of the architecture (FNV-1a over every edge's ops and the concat lists).
  [[nodiscard]] constexpr std::uint64_t hash() const noexcept {
    std::uint64_t h = 14695981039346656037ULL;
    auto mix = [&](std::uint64_t v) {
      for (int i = 0; i < 8; ++i) {
        h ^= (v >> (8 * i)) & 0xFFU;
        h *= 1099511628211ULL;
      }
    };
    for_each_cell([&](const auto& c) {
      for (std::size_t e = 0; e < c.edge_count; ++e) {
        const auto ops = c.ops(e);
        mix(ops.size());
        for (std::size_t o : ops) mix(o);
      }
      mix(c.concat_mask());
    });
    return h;
  }

  friend constexpr bool operator==(const Genotype&, const Genotype&) = default;
  friend constexpr auto operator<=>(const Genotype&, const Genotype&) = default;

 private:
  typename detail::genotype_storage<S>::type cells_{};
};

}  // namespace nas

/// Hashing for unordered containers: `std::unordered_set<nas::Genotype<space>>`.
template <nas::search_space S>
struct std::hash<nas::Genotype<S>> {
  [[nodiscard]] std::size_t operator()(const nas::Genotype<S>& g) const noexcept {
    return static_cast<std::size_t>(g.hash());
  }
};
