// The program every package-test consumer builds (find_package, add_subdirectory, FetchContent):
// nas::nas must give both LibTorch and the nas headers. NAS_CONSUMER names the way in.
#include <ATen/core/Tensor.h>  // a light LibTorch header set: this TU must compile fast
#include <ATen/ops/ones.h>
#include <torch/version.h>

#include <cstdio>

#include <nas/core.hpp>

namespace {
struct Conv {
  explicit Conv(const nas::OpArgs& /*args*/) {}
};
using ops = nas::OpSet<nas::Op<"conv_3x3", Conv>, nas::Op<"conv_5x5", Conv>>;
inline constexpr auto dag = nas::make_dag({.inputs = 1}, {{0, 1}, {0, 2}, {1, 2}});
using space = nas::Space<nas::Cell<"cell", dag, ops>>;
}  // namespace

int main() {
  const auto sum = at::ones({2, 3}).sum().item<float>();
  if (sum != 6.0F) {
    std::printf("unexpected tensor sum %f\n", static_cast<double>(sum));
    return 1;
  }
  const auto g = nas::parse_nb201<space>("|conv_3x3~0|+|conv_5x5~0|conv_3x3~1|");
  if (nas::to_nb201(g) != "|conv_3x3~0|+|conv_5x5~0|conv_3x3~1|" ||
      *space::architecture_count != 8) {
    std::printf("unexpected nas result\n");
    return 1;
  }
  std::printf("%s consumer: LibTorch %s, nas genotype %s\n", NAS_CONSUMER, TORCH_VERSION,
              nas::to_nb201(g).c_str());
  return 0;
}
