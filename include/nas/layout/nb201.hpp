#pragma once
/// @file
/// nas::layouts::Nb201: NAS-Bench-201's layout (one cell kind with one input, stacked in three
/// stages joined by residual reduction blocks), exactly as NAS-Bench-201's reference code
/// builds its networks.

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nas/layout/layout.hpp"
#include "nas/layout/stack.hpp"
#include "nas/ops/cost.hpp"
#include "nas/ops/nb201.hpp"
#include "nas/ops/relu.hpp"
#include "nas/space/space.hpp"

namespace nas::layouts {

/// NAS-Bench-201's layout: a 3x3 conv stem, 3 stages of `Stack::layers` cells at `channels`,
/// 2x and 4x channels, joined by residual reduction blocks (nas::ops::ResNetBasicBlock), then
/// batch norm, ReLU, global pooling and a linear classifier. Every edge of a cell maps the
/// stage's channels to themselves at stride 1. Needs `Stack::skeleton = Skeleton::nb201`.
///
/// Accepts: spaces of one cell kind that takes 1 input and outputs its last node
/// (nas::spaces::nb201).
/// Submodules: `stem`, `cells` (cells and reduction blocks in order), `lastact`, `classifier`.
struct Nb201 {
  static constexpr std::string_view name = "NAS-Bench-201";
  template <search_space S>
  static constexpr bool accepts = S::cell_count == 1 && S::template cell_at<0>::input_count == 1 &&
                                  S::template cell_at<0>::dag.output == Output::last_node;

  struct skeleton {
    torch::nn::Sequential stem{nullptr};
    torch::nn::Sequential lastact{nullptr};
    torch::nn::Linear classifier{nullptr};

    template <class Net>
    void build(Net& net) {
      const Stack& s = net.stack();
      TORCH_CHECK(s.skeleton == Skeleton::nb201,
                  "a NAS-Bench-201-style space is stacked on Skeleton::nb201; set "
                  "Stack::skeleton = nas::Skeleton::nb201");
      TORCH_CHECK(s.layers >= 1, "Stack::layers (cells per stage) must be positive; got ",
                  s.layers);
      stem = net.register_module(
          "stem",
          torch::nn::Sequential(
              torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(s.input_channels, s.channels, 3).padding(1).bias(false)),
              torch::nn::BatchNorm2d(s.channels)));
      std::int64_t c_prev = s.channels;
      for (std::int64_t stage = 0; stage < 3; ++stage) {
        const std::int64_t c = s.channels << stage;
        if (stage > 0) net.add_block(ops::ResNetBasicBlock(OpArgs{c_prev, c, 2, true}));
        for (std::int64_t i = 0; i < s.layers; ++i)
          net.template add_cell_at<0>(CellShape{{CellInput{c}}, uniform_edges(c)});
        c_prev = c;
      }
      lastact = net.register_module(
          "lastact", torch::nn::Sequential(torch::nn::BatchNorm2d(c_prev), ops::ReLU()));
      classifier = net.register_module("classifier", torch::nn::Linear(c_prev, s.classes));
    }

    template <class Net>
    torch::Tensor forward(Net& net, const torch::Tensor& x) {
      TORCH_CHECK(x.size(2) % 4 == 0 && x.size(3) % 4 == 0, Net::kind_name,
                  " on the NAS-Bench-201 skeleton needs a height and width divisible by 4 (two "
                  "residual reduction blocks halve them); got ",
                  x.size(2), "x", x.size(3));
      auto y = stem->forward(x);
      for (std::size_t i = 0; i < net.positions(); ++i) {
        if (net.cell_kind_at(i) == 0)
          y = net.cell(i, y);
        else
          y = net.template block<ops::ResNetBasicBlockImpl>(i).forward(y);
      }
      y = lastact->forward(y);
      return classifier(torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
    }

    template <class Net>
    [[nodiscard]] std::int64_t multiply_adds(const Net& net, std::int64_t height,
                                             std::int64_t width) const {
      const Stack& s = net.stack();
      std::int64_t n = conv_multiply_adds(s.input_channels, s.channels, 3, 3, 1, height, width);
      std::int64_t h = height, w = width;
      for (std::size_t i = 0; i < net.positions(); ++i) {
        if (net.cell_kind_at(i) == 0) {
          n += net.cell_multiply_adds(i, {{h, w}});
        } else {
          n += net.template block<ops::ResNetBasicBlockImpl>(i).multiply_adds(h, w);
          h = conv_output_size(h, 3, 2, 1);
          w = conv_output_size(w, 3, 2, 1);
        }
      }
      return n + classifier->options.in_features() * classifier->options.out_features();
    }
  };
};

}  // namespace nas::layouts
