#pragma once
/// @file
/// Every architecture of a space as a lazy range, rank and unrank, uniform
/// sampling and one-step mutation.
///
/// An architecture is a sequence of digits, cell kind after cell kind: under
/// nas::keep_all one digit per edge (its op); keeping k distinct inputs, per node
/// one digit for the k-subset of its inputs (lexicographic) and then k digits for
/// the ops of the kept edges (zero ops excluded); keeping k inputs that may repeat,
/// per node one digit for the multiset of its k (input, op) pairs. The concat list is not searched:
/// it is every computed node, as in DARTS. Enumeration runs through the digits in lexicographic
/// order, the last digit fastest; nas::rank and nas::unrank map an architecture to its position in
/// that order.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <range/v3/view/facade.hpp>

#include "nas/core/diagnostic.hpp"
#include "nas/core/math.hpp"
#include "nas/core/random.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

namespace detail {

/// Digits of one node: under nas::keep_all one per edge; keeping k distinct inputs, the
/// k-subset of the in-edges and then k ops; keeping k inputs that may repeat, one digit
/// for the multiset of k (input, op) pairs.
template <cell_kind C>
constexpr std::size_t node_digit_count(std::size_t v) {
  if (C::dag.keeps_all()) return C::dag.in_degree(v);
  return C::dag.repeat ? 1 : 1 + C::dag.keep;
}

template <cell_kind C>
inline constexpr std::size_t cell_digit_count = [] {
  std::size_t n = 0;
  for (std::size_t v = C::dag.inputs; v < C::dag.node_count(); ++v) n += node_digit_count<C>(v);
  return n;
}();

template <cell_kind C>
inline constexpr auto nonzero_ops = [] {
  std::array<std::size_t, C::ops::nonzero_count> out{};
  std::size_t j = 0;
  for (std::size_t i = 0; i < C::ops::size; ++i)
    if (!C::ops::is_zero[i]) out[j++] = i;
  return out;
}();

/// (input, op) pairs a node of a repeat cell chooses from.
template <cell_kind C>
constexpr std::uint64_t repeat_pairs(std::size_t v) {
  return C::dag.in_degree(v) * C::ops::nonzero_count;
}

template <cell_kind C>
inline constexpr auto cell_radices = [] {
  std::array<std::uint64_t, cell_digit_count<C>> r{};
  std::size_t d = 0;
  for (std::size_t v = C::dag.inputs; v < C::dag.node_count(); ++v) {
    if (C::dag.keeps_all()) {
      for (std::size_t e = 0; e < C::dag.in_degree(v); ++e) r[d++] = C::ops::size;
    } else if (C::dag.repeat) {
      r[d++] = binomial(repeat_pairs<C>(v) + C::dag.keep - 1, C::dag.keep);
    } else {
      r[d++] = binomial(C::dag.in_degree(v), C::dag.keep);
      for (std::size_t j = 0; j < C::dag.keep; ++j) r[d++] = C::ops::nonzero_count;
    }
  }
  return r;
}();

template <cell_kind C>
inline constexpr bool enumerable = [] {
  for (std::size_t v = C::dag.inputs; v < C::dag.node_count(); ++v)
    if (!C::dag.keeps_all() &&
        !(C::dag.repeat ? checked_binomial(repeat_pairs<C>(v) + C::dag.keep - 1, C::dag.keep)
                        : checked_binomial(C::dag.in_degree(v), C::dag.keep)))
      return false;
  return true;
}();

/// The `c`-th k-subset of {0, ..., n-1} in lexicographic order, ascending, into `out`.
template <std::size_t N>
constexpr void unrank_subset(std::uint64_t n, std::uint64_t k, std::uint64_t c,
                             std::array<std::size_t, N>& out) {
  std::size_t m = 0;
  for (std::uint64_t x = 0; k > 0; ++x) {
    const std::uint64_t with_x = binomial(n - x - 1, k - 1);
    if (c < with_x) {
      out[m++] = static_cast<std::size_t>(x);
      --k;
    } else {
      c -= with_x;
    }
  }
}

/// The position of the ascending k-subset `a[0..k)` of {0, ..., n-1} in lexicographic order.
template <std::size_t N>
constexpr std::uint64_t rank_subset(std::uint64_t n, std::size_t k,
                                    const std::array<std::size_t, N>& a) {
  std::uint64_t c = 0;
  std::uint64_t x = 0;
  for (std::size_t j = 0; j < k; ++j) {
    for (; x < a[j]; ++x) c += binomial(n - x - 1, k - j - 1);
    x = a[j] + 1;
  }
  return c;
}

template <cell_kind C>
constexpr std::size_t nonzero_slot(std::size_t op) {
  std::size_t slot = 0;
  while (nonzero_ops<C>[slot] != op) ++slot;
  return slot;
}

template <class S>
struct space_digits;
template <class... Cells>
struct space_digits<Space<Cells...>> {
  static constexpr std::size_t count = (cell_digit_count<Cells> + ...);
  static constexpr auto radices = [] {
    std::array<std::uint64_t, count> r{};
    std::size_t d = 0;
    (([&] {
       for (auto x : cell_radices<Cells>) r[d++] = x;
     }()),
     ...);
    return r;
  }();
};

/// Writes the cell's architecture for `digits[d ...]` into `g`; advances `d`.
template <cell_kind C, std::size_t N>
constexpr void decode_cell(const std::array<std::uint64_t, N>& digits, std::size_t& d,
                           CellGenotype<C>& g) {
  constexpr const Dag& dag = C::dag;
  static_assert(enumerable<C>, "a node of this cell has more choices than fit in 64 bits");
  g = CellGenotype<C>{};
  for (std::size_t v = dag.inputs; v < dag.node_count(); ++v) {
    const std::size_t first = dag.first_edge_into(v);
    if constexpr (dag.keeps_all()) {
      for (std::size_t e = first; e < dag.end_edge_into(v); ++e)
        g.set(e, static_cast<std::size_t>(digits[d++]));
    } else if constexpr (dag.repeat) {
      // a multiset of k pairs p_0 <= ... <= p_{k-1} is the k-subset {p_j + j} (stars and bars)
      std::array<std::size_t, max_dag_edges> a{};
      unrank_subset(repeat_pairs<C>(v) + dag.keep - 1, dag.keep, digits[d++], a);
      for (std::size_t j = 0; j < dag.keep; ++j) {
        const std::size_t p = a[j] - j;
        g.add(first + p / C::ops::nonzero_count, nonzero_ops<C>[p % C::ops::nonzero_count]);
      }
    } else {
      std::array<std::size_t, max_dag_edges> a{};
      unrank_subset(dag.in_degree(v), dag.keep, digits[d++], a);
      for (std::size_t j = 0; j < dag.keep; ++j)
        g.set(first + a[j], nonzero_ops<C>[static_cast<std::size_t>(digits[d++])]);
    }
  }
}

/// Reads the digits of the cell's architecture `g` into `digits[d ...]`; advances `d`.
template <cell_kind C, std::size_t N>
constexpr void encode_cell(const CellGenotype<C>& g, std::array<std::uint64_t, N>& digits,
                           std::size_t& d) {
  constexpr const Dag& dag = C::dag;
  for (std::size_t v = dag.inputs; v < dag.node_count(); ++v) {
    const std::size_t first = dag.first_edge_into(v);
    if constexpr (dag.keeps_all()) {
      for (std::size_t e = first; e < dag.end_edge_into(v); ++e) digits[d++] = *g.op(e);
    } else if constexpr (dag.repeat) {
      std::array<std::size_t, max_dag_edges> a{};
      std::size_t j = 0;
      for (std::size_t x = 0; x < dag.in_degree(v); ++x)
        for (std::size_t op : g.ops(first + x)) {  // ascending ops: ascending pairs
          a[j] = x * C::ops::nonzero_count + nonzero_slot<C>(op) + j;
          ++j;
        }
      digits[d++] = rank_subset(repeat_pairs<C>(v) + dag.keep - 1, dag.keep, a);
    } else {
      std::array<std::size_t, max_dag_edges> a{};
      std::size_t j = 0;
      const std::size_t ops_at = d + 1;
      for (std::size_t x = 0; x < dag.in_degree(v); ++x)
        if (const auto op = g.op(first + x)) {
          digits[ops_at + j] = nonzero_slot<C>(*op);
          a[j++] = x;
        }
      digits[d] = rank_subset(dag.in_degree(v), dag.keep, a);
      d = ops_at + dag.keep;
    }
  }
}

template <search_space S>
constexpr Genotype<S> decode(const std::array<std::uint64_t, space_digits<S>::count>& digits) {
  Genotype<S> g;
  std::size_t d = 0;
  g.for_each_cell([&](auto& c) { decode_cell(digits, d, c); });
  return g;
}

template <search_space S>
constexpr std::array<std::uint64_t, space_digits<S>::count> encode(const Genotype<S>& g) {
  std::array<std::uint64_t, space_digits<S>::count> digits{};
  std::size_t d = 0;
  g.for_each_cell([&](const auto& c) { encode_cell(c, digits, d); });
  return digits;
}

template <search_space S>
void require_valid(const Genotype<S>& g, const char* who) {
  if (!g.valid())
    throw InvalidArgument(std::string("nas: ") + who +
                          " needs a valid genotype: " + g.describe_problem());
}
}  // namespace detail

/// A lazy range over every architecture of the space `S`, in rank order (see
/// the file comment). Works for spaces of any size: iteration never needs the
/// count. Each element is a valid nas::Genotype<S>.
template <search_space S>
class ArchitectureView : public ranges::view_facade<ArchitectureView<S>, ranges::finite> {
  using digits_t = std::array<std::uint64_t, detail::space_digits<S>::count>;
  friend ranges::range_access;

  struct cursor {
    digits_t digits{};
    bool done = false;
    [[nodiscard]] Genotype<S> read() const { return detail::decode<S>(digits); }
    void next() {
      for (std::size_t i = digits.size(); i-- > 0;) {
        if (++digits[i] < detail::space_digits<S>::radices[i]) return;
        digits[i] = 0;
      }
      done = true;
    }
    [[nodiscard]] bool equal(ranges::default_sentinel_t) const { return done; }
    [[nodiscard]] bool equal(const cursor& other) const {
      return done == other.done && digits == other.digits;
    }
  };
  [[nodiscard]] cursor begin_cursor() const { return {}; }
};

/// Every architecture of `S` as a lazy range: `for (auto g : nas::architectures<space>())`.
/// The NAS-Bench-201 space yields exactly 15,625.
template <search_space S>
[[nodiscard]] ArchitectureView<S> architectures() {
  return {};
}

/// The position of `g` in nas::architectures<S>() (needs a count that fits in 64 bits).
template <search_space S>
  requires(S::architecture_count.has_value())
[[nodiscard]] std::uint64_t rank(const Genotype<S>& g) {
  detail::require_valid(g, "nas::rank");
  const auto digits = detail::encode<S>(g);
  std::uint64_t r = 0;
  for (std::size_t i = 0; i < digits.size(); ++i)
    r = r * detail::space_digits<S>::radices[i] + digits[i];
  return r;
}

/// The architecture at position `index` of nas::architectures<S>(); throws
/// nas::InvalidArgument when `index` is not below the architecture count.
template <search_space S>
  requires(S::architecture_count.has_value())
[[nodiscard]] Genotype<S> unrank(std::uint64_t index) {
  if (index >= *S::architecture_count)
    throw InvalidArgument("nas::unrank: index " + std::to_string(index) +
                          " is not below the space's architecture count " +
                          std::to_string(*S::architecture_count));
  std::array<std::uint64_t, detail::space_digits<S>::count> digits{};
  for (std::size_t i = digits.size(); i-- > 0;) {
    digits[i] = index % detail::space_digits<S>::radices[i];
    index /= detail::space_digits<S>::radices[i];
  }
  return detail::decode<S>(digits);
}

/// A uniformly random architecture of `S`: every architecture has the same chance.
/// Deterministic for a given generator state on every platform (nas::uniform_below).
template <search_space S, std::uniform_random_bit_generator G>
[[nodiscard]] Genotype<S> sample(G& rng) {
  std::array<std::uint64_t, detail::space_digits<S>::count> digits{};
  for (std::size_t i = 0; i < digits.size(); ++i)
    digits[i] = uniform_below(rng, detail::space_digits<S>::radices[i]);
  return detail::decode<S>(digits);
}

namespace detail {
/// A kept (edge, op) of a cell genotype: one input of a node.
struct KeptInput {
  std::size_t edge = 0;
  std::size_t op = 0;
};

/// Mutation sites of a cell: kept inputs whose op can change, kept inputs that can move.
template <cell_kind C>
struct MutationSites {
  static constexpr std::size_t capacity = C::edge_count * C::dag.max_ops_per_edge();
  std::array<KeptInput, capacity> op_sites{};
  std::size_t op_count = 0;
  std::array<KeptInput, capacity> input_sites{};
  std::size_t input_count = 0;
};

template <cell_kind C>
MutationSites<C> mutation_sites(const CellGenotype<C>& g) {
  constexpr const Dag& dag = C::dag;
  MutationSites<C> s;
  const std::size_t choices = dag.keeps_all() ? C::ops::size : C::ops::nonzero_count;
  for (std::size_t e = 0; e < C::edge_count; ++e) {
    const std::size_t in_degree = dag.in_degree(C::edges[e].to);
    // with repeat an input can move to any other in-edge; without, only to a free one
    const bool can_move = !dag.keeps_all() && (dag.repeat ? in_degree > 1 : in_degree > dag.keep);
    for (std::size_t op : g.ops(e)) {
      if (choices > 1) s.op_sites[s.op_count++] = {e, op};
      if (can_move) s.input_sites[s.input_count++] = {e, op};
    }
  }
  return s;
}

template <cell_kind C, class G>
void mutate_cell(CellGenotype<C>& g, const MutationSites<C>& s, G& rng) {
  constexpr const Dag& dag = C::dag;
  const bool change_input = s.input_count > 0 && (s.op_count == 0 || uniform_below(rng, 2) == 1);
  if (!change_input) {
    const KeptInput site = s.op_sites[uniform_below(rng, s.op_count)];
    std::size_t op = 0;
    if constexpr (dag.keeps_all()) {
      op = static_cast<std::size_t>(uniform_below(rng, C::ops::size - 1));
      if (op >= site.op) ++op;
    } else {
      std::size_t slot = static_cast<std::size_t>(uniform_below(rng, C::ops::nonzero_count - 1));
      if (nonzero_ops<C>[slot] >= site.op) ++slot;  // nonzero_ops is ascending
      op = nonzero_ops<C>[slot];
    }
    g.remove(site.edge, site.op);
    g.add(site.edge, op);
    return;
  }
  const KeptInput site = s.input_sites[uniform_below(rng, s.input_count)];
  const std::size_t node = C::edges[site.edge].to;
  std::array<std::size_t, C::edge_count> targets{};
  std::size_t n = 0;
  for (std::size_t f = dag.first_edge_into(node); f < dag.end_edge_into(node); ++f)
    if (f != site.edge && (dag.repeat || !g.op(f))) targets[n++] = f;
  const std::size_t target = targets[uniform_below(rng, n)];
  g.remove(site.edge, site.op);
  g.add(target, site.op);
}
}  // namespace detail

/// A one-step mutation of `g`, as in regularized evolution (Real et al., 2019):
/// pick a cell kind uniformly (among those that can change), then, where both are
/// possible, with equal chance either change the op of one kept edge to another
/// op or move one kept input of a node to another of its predecessors (keeping
/// the op). The result is valid and differs from `g`. Throws nas::InvalidArgument
/// when `g` is invalid or the space has a single architecture.
template <search_space S, std::uniform_random_bit_generator G>
[[nodiscard]] Genotype<S> mutate(const Genotype<S>& g, G& rng) {
  detail::require_valid(g, "nas::mutate");
  std::array<bool, S::cell_count> can{};
  std::size_t candidates = 0;
  std::size_t i = 0;
  g.for_each_cell([&](const auto& c) {
    const auto s = detail::mutation_sites(c);
    can[i] = s.op_count + s.input_count > 0;
    candidates += can[i] ? 1U : 0U;
    ++i;
  });
  if (candidates == 0)
    throw InvalidArgument("nas::mutate: the space has a single architecture; nothing can change");
  std::size_t pick = static_cast<std::size_t>(uniform_below(rng, candidates));
  Genotype<S> out = g;
  i = 0;
  out.for_each_cell([&](auto& c) {
    if (can[i] && pick-- == 0) detail::mutate_cell(c, detail::mutation_sites(c), rng);
    ++i;
  });
  return out;
}

}  // namespace nas
