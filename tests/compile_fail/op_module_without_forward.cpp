// needs: torch
// A user's mistake that must fail to compile with a message in nas's words.
// expect: nas::Network: every op.s module type must be a nas::operation
// expect: op_module_without_forward.cpp:[0-9]+:[0-9]+:   required from here
#include <torch/torch.h>

#include <nas/nn/network.hpp>
#include <nas/spaces/darts.hpp>

#include <type_traits>

struct NoForwardImpl : torch::nn::Module {
  explicit NoForwardImpl(const nas::OpArgs& /*args*/) {}
#ifndef NAS_COMPILE_FAIL
  torch::Tensor forward(const torch::Tensor& x) { return x; }
#endif
};
TORCH_MODULE(NoForward);

using ops = nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"mine", NoForward>>;
using space = nas::Space<nas::Cell<"normal", nas::spaces::darts_cell, ops>,
                         nas::Cell<"reduce", nas::spaces::darts_cell, ops>>;
template <>
struct nas::layout_of<space> : std::type_identity<nas::layouts::Darts> {};

auto build(const nas::Genotype<space>& g) {
  return nas::Network<space>(g, nas::Stack{.layers = 3, .channels = 4});
}
