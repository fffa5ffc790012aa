#pragma once
/// @file
/// nas::layouts::Darts: DARTS's layout (cells "normal" and "reduce", each fed by the two
/// previous cells), on the CIFAR or ImageNet skeleton of DARTS's reference code; nas::CellSizes
/// and nas::darts_cell_shape, the shape of one DARTS cell (nas::DartsCell, in nn/darts_cell.hpp,
/// is that cell for a skeleton of the user's own).

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "nas/layout/layout.hpp"
#include "nas/layout/stack.hpp"
#include "nas/ops/cost.hpp"
#include "nas/ops/darts.hpp"
#include "nas/ops/relu.hpp"
#include "nas/space/genotype.hpp"
#include "nas/space/space.hpp"

namespace nas {

/// Channel sizes of a DARTS cell in a stack.
struct CellSizes {
  std::int64_t prev_prev = 0;   ///< channels of the cell two back
  std::int64_t prev = 0;        ///< channels of the previous cell
  std::int64_t channels = 0;    ///< channels of each node
  bool reduction = false;       ///< halve the resolution
  bool reduction_prev = false;  ///< the previous cell halved it (preprocess0 reduces)
};

/// The nas::CellShape of a DARTS cell: input 0 preprocessed by FactorizedReduce (after a
/// reduction) or ReLUConvBN, input 1 by ReLUConvBN, both to `channels`; stride 2 on the edges
/// of a reduction cell that leave an input.
[[nodiscard]] inline CellShape darts_cell_shape(const CellSizes& sizes,
                                                const CellOptions& options = {}) {
  const auto c = sizes.channels;
  const bool affine = options.affine;
  const bool track = options.track_running_stats;
  CellShape shape;
  if (sizes.reduction_prev)
    shape.inputs.push_back(
        {c, 2, [=, pp = sizes.prev_prev] {
           return built_op(ops::FactorizedReduce(OpArgs{pp, c, 2, affine, track}));
         }});
  else
    shape.inputs.push_back(
        {c, 1, [=, pp = sizes.prev_prev] {
           return built_op(ops::ReLUConvBN(ops::ReLUConvBNOptions{
               .in = pp, .out = c, .affine = affine, .track_running_stats = track}));
         }});
  shape.inputs.push_back(
      {c, 1, [=, p = sizes.prev] {
         return built_op(ops::ReLUConvBN(ops::ReLUConvBNOptions{
             .in = p, .out = c, .affine = affine, .track_running_stats = track}));
       }});
  shape.edge = uniform_edges(c, sizes.reduction ? 2 : 1);
  return shape;
}

namespace detail {
template <class S>
consteval bool darts_accepts() {
  if constexpr (!(S::cell_count == 2 && S::find_cell("normal").has_value() &&
                  S::find_cell("reduce").has_value())) {
    return false;
  } else {
    using normal = typename S::template cell<"normal">;
    using reduce = typename S::template cell<"reduce">;
    return normal::input_count == 2 && reduce::input_count == 2 &&
           normal::dag.output == Output::concat_nodes && reduce::dag.output == Output::concat_nodes;
  }
}
}  // namespace detail

namespace layouts {

/// DARTS's layout, exactly as DARTS's reference code stacks cells: `Stack::layers` cells, the
/// ones at 1/3 and 2/3 of the depth of kind "reduce" (stride 2, channels doubled), the others
/// "normal"; each cell is fed by the outputs of the two cells before it; a global pooling and
/// a linear classifier. `Stack::skeleton` picks the stem: `darts_cifar` (a 3x3 convolution to
/// `stem_multiplier x channels`) or `darts_imagenet` (three stride-2 3x3 convolutions); a
/// network with `Stack::auxiliary` gets DARTS's auxiliary head after the cell at 2/3. The
/// supernet stacks on `darts_cifar` (DARTS's search network).
///
/// Accepts: spaces of two cell kinds named "normal" and "reduce", each taking 2 inputs and
/// concatenating its nodes (nas::spaces::darts, nas::spaces::nasnet).
/// Submodules: `stem` (`stem0`, `stem1` on ImageNet), `cells`, `auxiliary_head` (if any),
/// `classifier`.
struct Darts {
  static constexpr std::string_view name = "DARTS";
  template <search_space S>
  static constexpr bool accepts = detail::darts_accepts<S>();
  static constexpr bool track_running_stats_in_search = true;

  /// What nas::StateNames::reference follows: DARTS's reference code, `model.py`'s
  /// `NetworkCIFAR` (Skeleton::darts_cifar) and `NetworkImageNet` (Skeleton::darts_imagenet).
  static constexpr std::string_view reference_code = "DARTS model.py";

  /// The name DARTS's `model.py` gives the tensor nas names `nas_name` in `net` (a nas::Network on
  /// this layout; nas::state_dict). The stems, `classifier` and the cells' FactorizedReduce keep
  /// their names; ReLUConvBN's `conv`, `bn` are `op.1`, `op.2`; the auxiliary head's layers are
  /// `features.<i>` and its last linear layer `classifier`; a cell's kept ops are `_ops.<k>`, `k`
  /// counting them in the order the cell built them (the order of the (op, input) pairs of
  /// nas::to_darts), inside them SepConv's two blocks `op.1`-`op.3` and `op.5`-`op.7`, DilConv's
  /// `op.1`-`op.3`, `conv_7x1_1x7`'s `1`-`3` (a bare Sequential in model.py), a stride-2
  /// skip_connect's FactorizedReduce
  /// without its `reduce.` level. The names inside an op of a user's own stay as nas gives them.
  template <class Net>
  [[nodiscard]] static std::string reference_name(const Net& net, std::string_view nas_name) {
    const auto starts = [](std::string_view s, std::string_view p) { return s.starts_with(p); };
    const auto head_and_rest = [](std::string_view s) {
      const auto dot = s.find('.');
      return std::pair{s.substr(0, dot),
                       dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1)};
    };
    std::string out;
    if (starts(nas_name, "auxiliary_head.")) {
      const auto index_rest = head_and_rest(nas_name.substr(15));
      const std::string_view index = index_rest.first;
      const std::string_view rest = index_rest.second;
      const auto& head = net.skeleton().auxiliary_head;
      const bool last = head && index == std::to_string(head->size() - 1);
      out = last ? "auxiliary_head.classifier." : "auxiliary_head.features.";
      if (!last) {
        out += index;
        out += '.';
      }
      out += rest;
      return out;
    }
    if (!starts(nas_name, "cells.")) return std::string(nas_name);
    const auto position_in_cell = head_and_rest(nas_name.substr(6));
    const std::string_view position = position_in_cell.first;
    const std::string_view in_cell = position_in_cell.second;
    out = "cells.";
    out += position;
    out += '.';
    const auto child_rest = head_and_rest(in_cell);
    const std::string_view child = child_rest.first;
    const std::string_view rest = child_rest.second;
    // ReLUConvBN's Sequential(ReLU, Conv2d, BatchNorm2d) in model.py
    const auto relu_conv_bn = [&](std::string_view inner) {
      const auto module_tensor = head_and_rest(inner);
      const std::string_view module = module_tensor.first;
      const std::string_view tensor = module_tensor.second;
      if (module == "conv") return "op.1." + std::string(tensor);
      if (module == "bn") return "op.2." + std::string(tensor);
      return std::string(inner);
    };
    const std::size_t cell = static_cast<std::size_t>(std::stoul(std::string(position)));
    if (starts(child, "preprocess")) {
      // preprocess0 after a reduction (and of the first ImageNet cell) is a FactorizedReduce,
      // whose names model.py shares; the others are ReLUConvBN
      const Stack& s = net.stack();
      const bool factorized =
          child == "preprocess0" &&
          (cell == 0 ? s.skeleton == Skeleton::darts_imagenet
                     : skeleton::is_reduction(s, static_cast<std::int64_t>(cell) - 1));
      out += child;
      out += '.';
      out += factorized ? std::string(rest) : relu_conv_bn(rest);
      return out;
    }
    if (!starts(child, "edge_")) return std::string(nas_name);
    // the op's index among the cell's kept ops, in the order they were registered
    std::size_t k = 0;
    for (const auto& c : net.cells()->ptr(cell)->named_children()) {
      if (c.key() == child) break;
      if (c.key().starts_with("edge_")) ++k;
    }
    out += "_ops." + std::to_string(k) + ".";
    // the op name: what follows edge_<from>_<to>_
    std::string_view op = child.substr(5);
    op = op.substr(op.find('_') + 1);
    op = op.substr(op.find('_') + 1);
    const auto module_tensor = head_and_rest(rest);
    const std::string_view module = module_tensor.first;
    const std::string_view tensor = module_tensor.second;
    const auto mapped =
        [&](std::initializer_list<std::pair<std::string_view, std::string_view>> table)
        -> std::string {
      for (const auto& [ours, theirs] : table)
        if (module == ours) return std::string(theirs) + "." + std::string(tensor);
      return std::string(rest);
    };
    if (starts(op, "sep_conv_"))
      out += mapped({{"depthwise_1", "op.1"},
                     {"pointwise_1", "op.2"},
                     {"bn_1", "op.3"},
                     {"depthwise_2", "op.5"},
                     {"pointwise_2", "op.6"},
                     {"bn_2", "op.7"}});
    else if (starts(op, "dil_conv_"))
      out += mapped({{"depthwise", "op.1"}, {"pointwise", "op.2"}, {"bn", "op.3"}});
    else if (starts(op, "conv_7x1_1x7"))
      out += mapped({{"conv_1x7", "1"}, {"conv_7x1", "2"}, {"bn", "3"}});  // no `op` level
    else if (starts(op, "skip_connect") && module == "reduce")
      out += tensor;
    else
      out += rest;
    return out;
  }

  struct skeleton {
    torch::nn::Sequential stem0{nullptr};
    torch::nn::Sequential stem1{nullptr};
    torch::nn::Sequential auxiliary_head{nullptr};
    torch::nn::Linear classifier{nullptr};

    template <class Net>
    void build(Net& net) {
      const Stack& s = net.stack();
      const bool cifar = s.skeleton == Skeleton::darts_cifar;
      if constexpr (Net::searching) {
        TORCH_CHECK(cifar,
                    "a DARTS-style supernet stacks on Skeleton::darts_cifar; got another skeleton");
        TORCH_CHECK(s.layers >= 3,
                    "nas::Supernet needs at least 3 layers (two are reduction cells); got ",
                    s.layers);
        TORCH_CHECK(s.channels % 2 == 0, "nas::Supernet needs an even channel count; got ",
                    s.channels);
      } else {
        TORCH_CHECK(cifar || s.skeleton == Skeleton::darts_imagenet,
                    "Skeleton::nb201 and Skeleton::mobile stack other layouts; a DARTS-style "
                    "space takes Skeleton::darts_cifar or Skeleton::darts_imagenet");
        TORCH_CHECK(s.layers >= 3, "nas::Network needs at least 3 layers (two are reduction ",
                    "cells); got ", s.layers);
        TORCH_CHECK(s.channels % 2 == 0, "nas::Network needs a positive, even channel count; got ",
                    s.channels);
      }
      const auto conv = [](std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                           std::int64_t pad) {
        return torch::nn::Conv2d(
            torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
      };
      std::int64_t c_prev_prev = 0;
      std::int64_t c_prev = 0;
      bool reduction_prev = false;
      if (cifar) {
        const std::int64_t c_stem = s.stem_multiplier * s.channels;
        stem0 = net.register_module("stem",
                                    torch::nn::Sequential(conv(s.input_channels, c_stem, 3, 1, 1),
                                                          torch::nn::BatchNorm2d(c_stem)));
        c_prev_prev = c_prev = c_stem;
      } else {
        const std::int64_t c = s.channels;
        stem0 = net.register_module(
            "stem0", torch::nn::Sequential(conv(s.input_channels, c / 2, 3, 2, 1),
                                           torch::nn::BatchNorm2d(c / 2), ops::ReLU(),
                                           conv(c / 2, c, 3, 2, 1), torch::nn::BatchNorm2d(c)));
        stem1 = net.register_module("stem1", torch::nn::Sequential(ops::ReLU(), conv(c, c, 3, 2, 1),
                                                                   torch::nn::BatchNorm2d(c)));
        c_prev_prev = c_prev = c;
        reduction_prev = true;
      }
      std::int64_t c_curr = s.channels;
      std::int64_t c_auxiliary = 0;
      for (std::int64_t i = 0; i < s.layers; ++i) {
        const bool reduction = is_reduction(s, i);
        if (reduction) c_curr *= 2;
        const CellShape shape = darts_cell_shape(
            CellSizes{c_prev_prev, c_prev, c_curr, reduction, reduction_prev}, net.cell_options());
        const std::int64_t out = reduction ? net.template add_cell<"reduce">(shape)
                                           : net.template add_cell<"normal">(shape);
        reduction_prev = reduction;
        c_prev_prev = c_prev;
        c_prev = out;
        if (i == 2 * s.layers / 3) c_auxiliary = c_prev;
      }
      if (!Net::searching && s.auxiliary) {
        torch::nn::Sequential head;
        head->push_back(ops::ReLU());
        head->push_back(torch::nn::AvgPool2d(
            torch::nn::AvgPool2dOptions(5).stride(cifar ? 3 : 2).count_include_pad(false)));
        head->push_back(conv(c_auxiliary, 128, 1, 1, 0));
        head->push_back(torch::nn::BatchNorm2d(128));
        head->push_back(ops::ReLU());
        head->push_back(conv(128, 768, 2, 1, 0));
        // DARTS's ImageNet head has no batch norm here (its code keeps it out on purpose)
        if (cifar) head->push_back(torch::nn::BatchNorm2d(768));
        head->push_back(ops::ReLU());
        head->push_back(torch::nn::Flatten());
        head->push_back(torch::nn::Linear(768, s.classes));
        auxiliary_head = net.register_module("auxiliary_head", head);
      }
      classifier = net.register_module("classifier", torch::nn::Linear(c_prev, s.classes));
    }

    template <class Net>
    std::tuple<torch::Tensor, torch::Tensor> forward_with_auxiliary(Net& net,
                                                                    const torch::Tensor& x) {
      const Stack& s = net.stack();
      const bool cifar = s.skeleton == Skeleton::darts_cifar;
      // every stride-2 step must see an even size: the stems, then two reduction cells
      const std::int64_t multiple = cifar ? 4 : 32;
      TORCH_CHECK(x.size(2) % multiple == 0 && x.size(3) % multiple == 0, Net::kind_name,
                  " on the ", cifar ? "DARTS CIFAR" : "DARTS ImageNet",
                  " skeleton needs a height and width divisible by ", multiple,
                  " (each reduction halves them); got ", x.size(2), "x", x.size(3));
      // the auxiliary head pools 5x5 windows (stride 3 on CIFAR, 2 on ImageNet), then a 2x2 conv
      const bool auxiliary = auxiliary_head && net.is_training();
      const std::int64_t auxiliary_min = multiple * (cifar ? 8 : 7);
      TORCH_CHECK(!auxiliary || (x.size(2) >= auxiliary_min && x.size(3) >= auxiliary_min),
                  "the auxiliary head needs, in training, images of at least ", auxiliary_min, "x",
                  auxiliary_min, "; got ", x.size(2), "x", x.size(3));
      torch::Tensor s0;
      torch::Tensor s1;
      if (cifar) {
        s0 = s1 = stem0->forward(x);
      } else {
        s0 = stem0->forward(x);
        s1 = stem1->forward(s0);
      }
      torch::Tensor aux;
      for (std::size_t i = 0; i < net.positions(); ++i) {
        auto next = net.cell(i, s0, s1);
        s0 = s1;
        s1 = next;
        if (auxiliary && static_cast<std::int64_t>(i) == 2 * s.layers / 3)
          aux = auxiliary_head->forward(s1);
      }
      const auto pooled = torch::adaptive_avg_pool2d(s1, {1, 1}).flatten(1);
      return {classifier(pooled), aux};
    }

    template <class Net>
    torch::Tensor forward(Net& net, const torch::Tensor& x) {
      return std::get<0>(forward_with_auxiliary(net, x));
    }

    template <class Net>
    [[nodiscard]] std::int64_t multiply_adds(const Net& net, std::int64_t height,
                                             std::int64_t width) const {
      const Stack& s = net.stack();
      const auto stride2 = [](std::int64_t r) { return conv_output_size(r, 3, 2, 1); };
      std::int64_t n = 0;
      std::int64_t h0 = height, w0 = width, h1 = height, w1 = width;
      if (s.skeleton == Skeleton::darts_cifar) {
        n += conv_multiply_adds(s.input_channels, s.stem_multiplier * s.channels, 3, 3, 1, height,
                                width);
      } else {
        const std::int64_t c = s.channels;
        const std::int64_t ha = stride2(height), wa = stride2(width);
        h0 = stride2(ha);
        w0 = stride2(wa);
        h1 = stride2(h0);
        w1 = stride2(w0);
        n += conv_multiply_adds(s.input_channels, c / 2, 3, 3, 1, ha, wa) +
             conv_multiply_adds(c / 2, c, 3, 3, 1, h0, w0) +
             conv_multiply_adds(c, c, 3, 3, 1, h1, w1);
      }
      for (std::size_t i = 0; i < net.positions(); ++i) {
        n += net.cell_multiply_adds(i, {{h0, w0}, {h1, w1}});
        h0 = h1;
        w0 = w1;
        if (is_reduction(s, static_cast<std::int64_t>(i))) {
          h1 = stride2(h1);
          w1 = stride2(w1);
        }
      }
      return n + classifier->options.in_features() * classifier->options.out_features();
    }

    /// Whether cell `i` of a stack is a reduction cell (at 1/3 and 2/3 of the depth).
    [[nodiscard]] static bool is_reduction(const Stack& s, std::int64_t i) noexcept {
      return i == s.layers / 3 || i == 2 * s.layers / 3;
    }
  };
};

}  // namespace layouts

}  // namespace nas
