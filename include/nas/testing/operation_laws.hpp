#pragma once
/// @file
/// nas::check_operation_laws: the laws every candidate operation must keep, as a
/// checker a user runs on their own op (no test framework needed).

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "nas/ops/op_args.hpp"
#include "nas/ops/operation.hpp"

namespace nas {

/// Options of nas::check_operation_laws.
struct OperationLawOptions {
  std::int64_t channels = 8;          ///< input channels
  std::int64_t size = 8;              ///< input height and width (even)
  std::int64_t batch = 2;             ///< batch size (2 or more: batch norm needs it in training)
  bool check_channel_change = false;  ///< also build the op with twice the output channels
  std::uint64_t seed = 0;             ///< seed of the input
};

/// Checks the laws of operation `M` and returns what broke (empty: every law holds):
/// - built from nas::OpArgs at stride 1 and 2, affine on and off, its output has shape
///   [batch, out, size / stride, size / stride];
/// - in training, a backward pass reaches every parameter;
/// - `affine = false` leaves no batch-norm scale or shift (no parameter named `*.bn*.weight`);
/// - in eval mode, the forward is deterministic;
/// - `clone()` gives a module whose eval forward equals the original's (LibTorch modules
///   clone when their `Impl` derives from `torch::nn::Cloneable`).
/// An exception from building, running or cloning the op is reported as a broken law.
///
/// ```
/// static_assert(nas::operation<MyOp>);
/// CHECK(nas::check_operation_laws<MyOp>().empty());
/// ```
template <operation M>
[[nodiscard]] std::vector<std::string> check_operation_laws(
    const OperationLawOptions& options = {}) {
  std::vector<std::string> broken;
  auto first_line = [](const std::string& text) { return text.substr(0, text.find('\n')); };
  auto fail = [&](std::int64_t stride, bool affine, std::int64_t out, const std::string& what) {
    std::ostringstream os;
    os << "stride " << stride << ", affine " << (affine ? "on" : "off") << ", out " << out << ": "
       << what;
    broken.push_back(os.str());
  };
  torch::manual_seed(options.seed);
  const auto x = torch::randn({options.batch, options.channels, options.size, options.size});
  std::vector<std::int64_t> outs{options.channels};
  if (options.check_channel_change) outs.push_back(2 * options.channels);
  for (std::int64_t out : outs) {
    for (std::int64_t stride : {1, 2}) {
      for (bool affine : {true, false}) {
        try {
          M op = operation_traits<M>::make(OpArgs{options.channels, out, stride, affine});
          auto module = operation_traits<M>::module(op);
          module->train();
          const auto input = x.clone().requires_grad_(true);
          const auto y = operation_traits<M>::forward(op, input);
          const std::vector<std::int64_t> expected{options.batch, out, options.size / stride,
                                                   options.size / stride};
          if (y.sizes() != torch::IntArrayRef(expected)) {
            std::ostringstream os;
            os << "output shape " << y.sizes() << ", expected " << torch::IntArrayRef(expected);
            fail(stride, affine, out, os.str());
            continue;
          }
          if (y.requires_grad()) y.square().sum().backward();
          for (const auto& p : module->named_parameters()) {
            if (!p.value().grad().defined())
              fail(stride, affine, out, "no gradient reaches parameter " + p.key());
            if (!affine && p.key().find("bn") != std::string::npos &&
                (p.key().ends_with(".weight") || p.key().ends_with(".bias")) &&
                p.value().dim() == 1)
              fail(stride, affine, out, "affine = false but batch norm has parameter " + p.key());
          }
          module->eval();
          torch::NoGradGuard no_grad;
          const auto a = operation_traits<M>::forward(op, x);
          if (!torch::equal(a, operation_traits<M>::forward(op, x)))
            fail(stride, affine, out, "eval forward is not deterministic");
          std::shared_ptr<torch::nn::Module> copy;
          try {
            copy = module->clone();
          } catch (const std::exception& e) {
            fail(stride, affine, out, "clone() failed: " + first_line(e.what()));
            continue;
          }
          auto typed = std::dynamic_pointer_cast<typename M::ContainedType>(copy);
          if (typed == nullptr) {
            fail(stride, affine, out, "clone() does not return the op's module type");
            continue;
          }
          M cloned(typed);
          if (!torch::equal(operation_traits<M>::forward(cloned, x), a)) {
            fail(stride, affine, out, "clone() computes something else than the original");
          }
        } catch (const std::exception& e) {
          fail(stride, affine, out, "threw: " + first_line(e.what()));
        }
      }
    }
  }
  return broken;
}

}  // namespace nas
