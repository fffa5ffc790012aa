#pragma once
/// @file
/// nas::Stack and nas::Skeleton: the run-time sizes of a network, and nas::parameter_count.

#include <torch/nn/module.h>

#include <c10/util/Exception.h>

#include <cstdint>
#include <memory>
#include <string>

namespace nas {

/// Which skeleton a built-in layout builds: nas::layouts::Darts takes `darts_cifar` or
/// `darts_imagenet`, nas::layouts::Nb201 takes `nb201`, nas::layouts::Mobile takes `mobile`
/// (each names the one it needs when given another). A layout of your own may read it or not.
enum class Skeleton : std::uint8_t {
  darts_cifar,     ///< 3x3 conv stem (channels x stem_multiplier), 32x32 inputs
  darts_imagenet,  ///< three stride-2 3x3 conv stems (the "mobile" setting), 224x224 inputs
  nb201,           ///< NAS-Bench-201: 3 stages of `layers` cells, residual reduction blocks
  mobile,  ///< ProxylessNAS's MobileNetV2-like body: stride-2 stem, 6 stages of searched layers
};

/// The run-time sizes of a network: the same genotype builds a small proxy and the
/// big final network. The space's layout reads them (nas::layout); the built-in ones: DARTS:
/// `layers` cells, reduction cells at 1/3 and 2/3 of the depth. NAS-Bench-201: `layers` cells in
/// each of 3 stages. Mobile: the depth is the space's (one searched layer per edge); `channels` is
/// the width of the first block (16 in ProxylessNAS; the stage widths scale with it).
struct Stack {
  std::int64_t layers = 8;          ///< cells (NAS-Bench-201: cells per stage)
  std::int64_t channels = 16;       ///< channels of the first cells (doubled at each reduction)
  std::int64_t classes = 10;        ///< classifier outputs
  std::int64_t input_channels = 3;  ///< image channels
  bool auxiliary = false;           ///< auxiliary head after the cell at 2/3 depth
  Skeleton skeleton = Skeleton::darts_cifar;
  std::int64_t stem_multiplier = 3;  ///< darts_cifar: stem channels = stem_multiplier x channels
  double drop_path = 0.0;            ///< drop-path probability in training (see set_drop_path)
};

namespace detail {
/// `*p`, after checking that the network's module list holds what the network put there.
template <class T>
T& checked(const std::shared_ptr<T>& p) {
  TORCH_CHECK(p != nullptr,
              "nas::Network: its cells list no longer holds the modules it built (was it "
              "changed from outside?)");
  return *p;
}
}  // namespace detail

/// Options of nas::parameter_count.
struct ParameterCountOptions {
  bool auxiliary = false;  ///< count parameters whose name contains "auxiliary" (DARTS does not)
};

/// The number of parameters of `module`; as DARTS counts them, the auxiliary head
/// is left out unless `options.auxiliary`.
inline std::int64_t parameter_count(const torch::nn::Module& module,
                                    const ParameterCountOptions& options = {}) {
  std::int64_t n = 0;
  for (const auto& p : module.named_parameters())
    if (options.auxiliary || p.key().find("auxiliary") == std::string::npos) n += p.value().numel();
  return n;
}

}  // namespace nas
