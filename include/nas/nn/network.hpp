#pragma once
/// @file
/// nas::Network<Space>: the discrete network a genotype stands for, for any space of a
/// layout nas knows how to stack: DARTS-style spaces (nas::DartsNetworkImpl, on the
/// DARTS CIFAR or ImageNet skeleton) and NAS-Bench-201-style spaces
/// (nas::Nb201NetworkImpl, on the NAS-Bench-201 skeleton), layer-wise chain spaces
/// (nas::MobileNetworkImpl, on ProxylessNAS's mobile skeleton).

#include <cstdint>
#include <type_traits>

#include <torch/utils.h>

#include "nas/nn/darts_network.hpp"
#include "nas/nn/mobile_network.hpp"
#include "nas/nn/nb201_network.hpp"
#include "nas/nn/stack.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/ops/operation.hpp"
#include "nas/space/space.hpp"

namespace nas {

namespace detail {
template <class Ops>
struct ops_are_operations;
template <class... Ops>
struct ops_are_operations<OpSet<Ops...>> {
  static constexpr bool value = (operation<typename Ops::module> && ...);
};
template <class S>
struct space_ops_are_operations;
template <class... Cells>
struct space_ops_are_operations<Space<Cells...>> {
  static constexpr bool value = (ops_are_operations<typename Cells::ops>::value && ...);
};

template <class S>
struct network_impl {
  static_assert(space_ops_are_operations<S>::value,
                "nas::Network: every op's module type must be a nas::operation: built from "
                "nas::OpArgs, with forward(torch::Tensor) -> torch::Tensor, held as a LibTorch "
                "module (TORCH_MODULE); adapt another type through nas::operation_traits");
  static_assert(darts_style_space<S> || nb201_style_space<S>,
                "nas::Network stacks DARTS-style spaces (cells \"normal\" and \"reduce\", 2 "
                "inputs, concatenated outputs), NAS-Bench-201-style spaces (one cell kind, 1 "
                "input, output the last node) and layer-wise spaces (one chain cell); this space "
                "is none of them");
  using type = std::conditional_t<
      darts_style_space<S>, DartsNetworkImpl<S>,
      std::conditional_t<mobile_style_space<S>, MobileNetworkImpl<S>, Nb201NetworkImpl<S>>>;
};
}  // namespace detail

/// The module implementing nas::Network<S>.
template <search_space S>
using NetworkImpl = typename detail::network_impl<S>::type;

/// The discrete network a genotype stands for, at the run-time sizes of a nas::Stack:
/// `nas::Network<space>(genotype, nas::Stack{...})`. `forward` maps images to logits;
/// `multiply_adds(height, width)` counts convolutions and linear layers for one image.
template <search_space S>
class Network : public torch::nn::ModuleHolder<NetworkImpl<S>> {
 public:
  using torch::nn::ModuleHolder<NetworkImpl<S>>::ModuleHolder;
};

/// The cost of an architecture at given sizes, without training it.
struct Cost {
  std::int64_t parameters = 0;     ///< as DARTS counts them (auxiliary head left out)
  std::int64_t multiply_adds = 0;  ///< convolutions and linear layers, one image
  friend bool operator==(const Cost&, const Cost&) = default;
};

/// The parameter and multiply-add counts of the network `genotype` stands for at
/// `stack`, for `height` x `width` images (builds the network once, never runs it).
template <search_space S>
[[nodiscard]] Cost cost(const Genotype<S>& genotype, const Stack& stack, std::int64_t height,
                        std::int64_t width) {
  torch::NoGradGuard no_grad;
  Network<S> net(genotype, stack);
  return {parameter_count(*net), net->multiply_adds(height, width)};
}

}  // namespace nas
