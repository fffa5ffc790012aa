#pragma once
/// @file
/// nas::Controller<Space>: an LSTM policy over the architectures of a space (Zoph & Le,
/// ICLR 2017; NASNet, CVPR 2018; ENAS, ICML 2018), whose decision sequence is computed at
/// compile time from the space.

#include <torch/nn/functional/activation.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "nas/core/random.hpp"
#include "nas/space/genotype.hpp"
#include "nas/space/space.hpp"

namespace nas {

/// One choice a controller makes. For a cell that keeps k inputs per node, each computed
/// node takes k `input` decisions (which in-edge; among the node's predecessors) and then
/// k `op` decisions (the op of each kept input; zero ops excluded). For a cell that keeps
/// every edge (nas::keep_all, NAS-Bench-201), one `op` decision per edge (every op).
struct Decision {
  enum class Kind : std::uint8_t { input, op };
  Kind kind = Kind::op;
  std::size_t cell = 0;     ///< cell kind index
  std::size_t node = 0;     ///< the computed node decided for
  std::size_t slot = 0;     ///< which kept input of the node (keep_all: which in-edge)
  std::size_t choices = 0;  ///< size of the choice (in-degree, or the op count)
};

namespace detail {
template <class S>
struct decision_table;
template <class... Cells>
struct decision_table<Space<Cells...>> {
  static constexpr std::size_t count = (Cells::decision_count + ...);
  static constexpr std::array<Decision, count> value = [] {
    std::array<Decision, count> out{};
    std::size_t d = 0;
    std::size_t kind = 0;
    (([&] {
       constexpr const Dag& dag = Cells::dag;
       for (std::size_t v = dag.inputs; v < dag.node_count(); ++v) {
         if (dag.keeps_all()) {
           for (std::size_t j = 0; j < dag.in_degree(v); ++j)
             out[d++] = {Decision::Kind::op, kind, v, j, Cells::ops::size};
         } else {
           for (std::size_t j = 0; j < dag.keep; ++j)
             out[d++] = {Decision::Kind::input, kind, v, j, dag.in_degree(v)};
           for (std::size_t j = 0; j < dag.keep; ++j)
             out[d++] = {Decision::Kind::op, kind, v, j, Cells::ops::size};
         }
       }
       ++kind;
     }()),
     ...);
    return out;
  }();
};

/// A uniform double in [0, 1) from 53 random bits (the same on every platform).
template <std::uniform_random_bit_generator G>
double uniform_unit(G& g) {
  return static_cast<double>(random_bits64(g) >> 11U) * 0x1.0p-53;
}
}  // namespace detail

/// The decisions a nas::Controller<S> takes, in order: cell kind after cell kind, node
/// after node (see nas::Decision). `nas::decisions<S>.size() == S::decision_count`.
template <search_space S>
inline constexpr const auto& decisions = detail::decision_table<S>::value;

/// Options of nas::Controller. Defaults: ENAS's micro-search controller (ENAS paper: an
/// LSTM of 100 units; its `cifar10_micro_search.sh`: tanh constant 1.10, op tanh
/// reduce 2.5, no temperature).
struct ControllerOptions {
  std::int64_t hidden = 100;    ///< LSTM units (also the size of every embedding)
  double temperature = 1.0;     ///< logits are divided by it before the tanh clip
  double tanh_constant = 1.10;  ///< logits become `c * tanh(logits)`; 0 switches the clip off
  double op_tanh_reduce = 2.5;  ///< op logits use `tanh_constant / op_tanh_reduce`
  double init_range = 0.1;      ///< parameters start uniform in [-r, r] (ENAS: 0.1)
};

/// What one pass of the controller produced: an architecture, the sum of the
/// log-probabilities of its decisions, and the sum of the entropies of the distributions
/// it drew them from (scalars, with a graph to the controller's parameters when grad
/// mode is on).
template <search_space S>
struct ControllerSample {
  Genotype<S> genotype;
  torch::Tensor log_prob;
  torch::Tensor entropy;
};

/// The module implementing nas::Controller<S>.
///
/// One LSTM cell runs through nas::decisions<S>. Each cell kind has its own heads: an op
/// head (linear, with an embedding that feeds the chosen op to the next step) and, for
/// a cell that keeps k inputs, ENAS's attention over the node's predecessors (each node's
/// LSTM state after its decisions is its anchor; the chosen anchor feeds the next step).
/// Each cell kind starts from a zero state and a learned start input. Logits are divided
/// by the temperature and clipped by `tanh_constant * tanh(.)` as in ENAS.
///
/// The decision order is canonical, so that a genotype has exactly one decision sequence
/// and `log_prob(g)` is the probability of the architecture: the k inputs of a node are
/// chosen in ascending order (strictly, unless the DAG lets a node repeat an input; then
/// the (input, op) pairs ascend). A sample is always a valid genotype.
template <search_space S>
class ControllerImpl : public torch::nn::Module {
 public:
  static constexpr std::size_t cell_kinds = S::cell_count;

  explicit ControllerImpl(ControllerOptions options = {}) : options_(options) {
    TORCH_CHECK(options.hidden > 0, "nas::Controller: hidden must be positive; got ",
                options.hidden);
    TORCH_CHECK(options.temperature > 0.0, "nas::Controller: temperature must be positive; got ",
                options.temperature);
    TORCH_CHECK(options.tanh_constant >= 0.0 && options.op_tanh_reduce > 0.0,
                "nas::Controller: tanh_constant must be >= 0 and op_tanh_reduce > 0");
    const auto h = options.hidden;
    lstm = register_module("lstm", torch::nn::LSTMCell(h, h));
    start = register_parameter("start", torch::zeros({1, h}));
    heads_.resize(cell_kinds);
    for_each_kind([&]<std::size_t I>() {
      using C = typename S::template cell_at<I>;
      const std::string kind{C::name};
      Heads& hd = heads_[I];
      hd.op = register_module("op_head_" + kind, torch::nn::Linear(h, C::ops::size));
      hd.op_embed = register_module("op_embed_" + kind, torch::nn::Embedding(C::ops::size, h));
      if constexpr (!C::dag.keeps_all()) {
        const auto plain = torch::nn::LinearOptions(h, h).bias(false);
        hd.anchor = register_module("attn_anchor_" + kind, torch::nn::Linear(plain));
        hd.query = register_module("attn_query_" + kind, torch::nn::Linear(plain));
        hd.v = register_module("attn_v_" + kind,
                               torch::nn::Linear(torch::nn::LinearOptions(h, 1).bias(false)));
      }
    });
    torch::NoGradGuard no_grad;
    for (auto& p : parameters()) p.uniform_(-options.init_range, options.init_range);
  }

  /// Draws an architecture from the policy with `rng` (the draws are the same on every
  /// platform for the same generator state).
  template <std::uniform_random_bit_generator G>
  ControllerSample<S> sample(G& rng) {
    return walk([&](std::size_t, const torch::Tensor& log_probs, const std::vector<bool>& allowed) {
      const auto p = log_probs.detach().exp().to(torch::kCPU, torch::kDouble).contiguous();
      const double* q = p.template data_ptr<double>();
      const double u = detail::uniform_unit(rng);
      double acc = 0.0;
      std::size_t last = 0;
      for (std::size_t i = 0; i < allowed.size(); ++i) {
        if (!allowed[i]) continue;
        last = i;
        acc += q[i];
        if (u < acc) return i;
      }
      return last;  // rounding: the cumulative sum ended just below 1
    });
  }

  /// The log-probability and the entropies along the decisions of `g` (with a graph when
  /// grad mode is on): REINFORCE's `log pi(g)`. Throws nas::InvalidArgument for an invalid
  /// genotype.
  ControllerSample<S> evaluate(const Genotype<S>& g) {
    g.validate();
    const auto forced = decisions_of(g);
    return walk([&](std::size_t d, const torch::Tensor&, const std::vector<bool>& allowed) {
      TORCH_INTERNAL_ASSERT(forced[d] < allowed.size() && allowed[forced[d]],
                            "nas::Controller: a genotype's decision is outside its mask");
      return forced[d];
    });
  }

  /// The log-probability of the architecture `g` under the policy (a scalar).
  torch::Tensor log_prob(const Genotype<S>& g) { return evaluate(g).log_prob; }

  /// The architecture of the most likely decision at every step.
  Genotype<S> greedy() {
    torch::NoGradGuard no_grad;
    return walk([](std::size_t, const torch::Tensor& log_probs, const std::vector<bool>&) {
             return static_cast<std::size_t>(log_probs.argmax().template item<std::int64_t>());
           })
        .genotype;
  }

  /// The decision sequence of `g` (the choice index of each nas::decisions<S> entry).
  [[nodiscard]] static std::array<std::size_t, S::decision_count> decisions_of(
      const Genotype<S>& g) {
    std::array<std::size_t, S::decision_count> out{};
    std::size_t d = 0;
    for_each_kind([&]<std::size_t I>() {
      using C = typename S::template cell_at<I>;
      constexpr const Dag& dag = C::dag;
      const auto& cg = g.template cell_at<I>();
      for (std::size_t v = dag.inputs; v < dag.node_count(); ++v) {
        const std::size_t first = dag.first_edge_into(v);
        if constexpr (dag.keeps_all()) {
          for (std::size_t e = first; e < dag.end_edge_into(v); ++e) out[d++] = *cg.op(e);
        } else {
          std::size_t j = 0;
          for (std::size_t x = 0; x < dag.in_degree(v); ++x)
            for (std::size_t op : cg.ops(first + x)) {
              out[d + j] = x;
              out[d + dag.keep + j] = op;
              ++j;
            }
          d += 2 * dag.keep;
        }
      }
    });
    return out;
  }

  [[nodiscard]] const ControllerOptions& options() const noexcept { return options_; }

  torch::nn::LSTMCell lstm{nullptr};
  torch::Tensor start;  ///< the first input of every cell kind (ENAS's `g_emb`)

 private:
  struct Heads {
    torch::nn::Linear op{nullptr};
    torch::nn::Embedding op_embed{nullptr};
    torch::nn::Linear anchor{nullptr};  ///< attention: projects each anchor
    torch::nn::Linear query{nullptr};   ///< attention: projects the LSTM state
    torch::nn::Linear v{nullptr};       ///< attention: scores tanh(anchor + query)
  };

  template <class F>
  static void for_each_kind(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }
    (std::make_index_sequence<cell_kinds>{});
  }

  /// Clipped, masked log-probabilities of one decision.
  [[nodiscard]] torch::Tensor log_probs(torch::Tensor logits, double clip,
                                        const std::vector<bool>& allowed) const {
    logits = logits.reshape({-1}) / options_.temperature;
    if (clip > 0.0) logits = clip * torch::tanh(logits);
    if (std::all_of(allowed.begin(), allowed.end(), [](bool a) { return a; }))
      return torch::log_softmax(logits, 0);  // nothing to mask (most op decisions)
    std::vector<std::uint8_t> bits(allowed.begin(), allowed.end());
    const auto mask =
        torch::tensor(torch::ArrayRef<std::uint8_t>(bits), torch::kUInt8).to(logits.device());
    logits = logits.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
    return torch::log_softmax(logits, 0);
  }

  static torch::Tensor entropy_of(const torch::Tensor& log_probs) {
    const auto finite = torch::isfinite(log_probs);
    const auto lp = log_probs.masked_fill(finite.logical_not(), 0.0);
    return -(lp.exp() * lp).sum();
  }

  /// Runs the LSTM through every decision; `choose(d, log_probs, allowed)` picks each.
  template <class Choose>
  ControllerSample<S> walk(Choose&& choose) {
    const auto device = start.device();
    ControllerSample<S> out;
    out.log_prob = torch::zeros({}, start.options());
    out.entropy = torch::zeros({}, start.options());
    std::size_t d = 0;
    const double op_clip = options_.tanh_constant / options_.op_tanh_reduce;
    auto take = [&](const torch::Tensor& logits, double clip, const std::vector<bool>& allowed) {
      const auto lp = log_probs(logits, clip, allowed);
      const std::size_t c = choose(d, lp, allowed);
      out.log_prob = out.log_prob + lp[static_cast<std::int64_t>(c)];
      out.entropy = out.entropy + entropy_of(lp);
      ++d;
      return c;
    };
    for_each_kind([&]<std::size_t I>() {
      using C = typename S::template cell_at<I>;
      constexpr const Dag& dag = C::dag;
      auto& cg = out.genotype.template cell_at<I>();
      Heads& hd = heads_[I];
      auto state = std::make_tuple(torch::zeros({1, options_.hidden}, start.options()),
                                   torch::zeros({1, options_.hidden}, start.options()));
      auto step = [&](const torch::Tensor& x) {
        state = lstm->forward(x, state);
        return std::get<0>(state);
      };
      torch::Tensor x = start;
      const auto op_index = [&](std::size_t op) {
        return hd.op_embed->forward(torch::tensor(
            {static_cast<std::int64_t>(op)}, torch::TensorOptions(torch::kLong).device(device)));
      };
      if constexpr (dag.keeps_all()) {
        for (std::size_t v = dag.inputs; v < dag.node_count(); ++v)
          for (std::size_t e = dag.first_edge_into(v); e < dag.end_edge_into(v); ++e) {
            const auto h = step(x);
            const std::vector<bool> all(C::ops::size, true);
            const std::size_t op = take(hd.op->forward(h), op_clip, all);
            cg.set(e, op);
            x = op_index(op);
          }
      } else {
        std::vector<torch::Tensor> anchors;
        std::vector<torch::Tensor> keys;
        for (std::size_t i = 0; i < dag.inputs; ++i) {
          anchors.push_back(step(x));
          keys.push_back(hd.anchor->forward(anchors.back()));
        }
        constexpr std::size_t k = dag.keep;
        for (std::size_t v = dag.inputs; v < dag.node_count(); ++v) {
          const std::size_t first = dag.first_edge_into(v);
          const std::size_t degree = dag.in_degree(v);
          std::array<std::size_t, k> inputs{};
          std::array<std::size_t, k> ops{};
          for (std::size_t j = 0; j < k; ++j) {
            const auto h = step(x);
            std::vector<torch::Tensor> ks;
            for (std::size_t e = first; e < first + degree; ++e)
              ks.push_back(keys[dag.edges[e].from]);
            const auto scores =
                hd.v->forward(torch::tanh(torch::cat(ks, 0) + hd.query->forward(h)));
            std::vector<bool> allowed(degree, false);
            for (std::size_t p = 0; p < degree; ++p) {
              const bool after = j == 0 || (dag.repeat ? p >= inputs[j - 1] : p > inputs[j - 1]);
              const bool room = dag.repeat || p + (k - j) <= degree;
              allowed[p] = after && room;
            }
            inputs[j] = take(scores, options_.tanh_constant, allowed);
            x = anchors[dag.edges[first + inputs[j]].from];
          }
          for (std::size_t j = 0; j < k; ++j) {
            const auto h = step(x);
            std::vector<bool> allowed(C::ops::size, false);
            for (std::size_t o = 0; o < C::ops::size; ++o)
              allowed[o] =
                  !C::ops::is_zero[o] && (j == 0 || inputs[j] != inputs[j - 1] || o >= ops[j - 1]);
            ops[j] = take(hd.op->forward(h), op_clip, allowed);
            x = op_index(ops[j]);
          }
          for (std::size_t j = 0; j < k; ++j) cg.add(first + inputs[j], ops[j]);
          anchors.push_back(step(x));
          keys.push_back(hd.anchor->forward(anchors.back()));
          x = start;
        }
      }
    });
    TORCH_INTERNAL_ASSERT(out.genotype.valid(), "nas::Controller produced an invalid genotype: ",
                          out.genotype.describe_problem());
    return out;
  }

  ControllerOptions options_;
  std::vector<Heads> heads_;
};

/// An LSTM policy over the architectures of `S` (module holder of nas::ControllerImpl):
///
/// ```
/// nas::Controller<space> policy({.hidden = 100});
/// nas::Rng rng(0);
/// auto [genotype, log_prob, entropy] = policy->sample(rng);
/// ```
template <search_space S>
class Controller : public torch::nn::ModuleHolder<ControllerImpl<S>> {
 public:
  using torch::nn::ModuleHolder<ControllerImpl<S>>::ModuleHolder;
  Controller() : torch::nn::ModuleHolder<ControllerImpl<S>>(ControllerOptions{}) {}
  explicit Controller(ControllerOptions options)
      : torch::nn::ModuleHolder<ControllerImpl<S>>(options) {}
};

}  // namespace nas
