// Supernets: published sizes, the three relaxations, paths, parameter groups.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include <nas/nn/supernet.hpp>
#include <nas/relax/gumbel.hpp>
#include <nas/relax/single_path.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>

namespace {
std::int64_t numel(const std::vector<torch::Tensor>& ts) {
  std::int64_t n = 0;
  for (const auto& t : ts) n += t.numel();
  return n;
}
}  // namespace

TEST_CASE("Supernet: DARTS's search network at its published size") {
  torch::manual_seed(0);
  nas::Supernet<nas::spaces::darts, nas::relax::Softmax> net(nas::Stack{});
  CHECK(numel(net->weight_parameters()) == 1'930'618);
  CHECK(numel(net->arch_parameters()) == 224);
  CHECK(net->alpha<"normal">().sizes() == torch::IntArrayRef{14, 8});
  CHECK(net->alpha("reduce").sizes() == torch::IntArrayRef{14, 8});
  CHECK(net->named_arch_parameters().keys() == std::vector<std::string>{"normal", "reduce"});
  // the two groups split parameters() exactly
  CHECK(net->weight_parameters().size() + 2 == net->parameters().size());
  const auto y = net->forward(torch::randn({2, 3, 32, 32}));
  CHECK(y.sizes() == torch::IntArrayRef{2, 10});
  // pools are followed by an affine-free batch norm, as in DARTS's MixedOp; skip and
  // none are parameter-free, the convolutions are not
  CHECK(net->parameter_free(0, 0));
  CHECK(net->parameter_free(0, 1));
  CHECK(net->parameter_free(0, 3));
  CHECK_FALSE(net->parameter_free(0, 4));
}

TEST_CASE("Supernet: NAS-Bench-201's search network at its published size") {
  torch::manual_seed(0);
  nas::Supernet<nas::spaces::nb201, nas::relax::Softmax> net(
      nas::Stack{.layers = 5, .channels = 16, .skeleton = nas::Skeleton::nb201});
  CHECK(numel(net->weight_parameters()) == 1'692'826);
  CHECK(numel(net->arch_parameters()) == 30);
  // batch norms in the cells keep no running statistics
  std::int64_t tracked = 0;
  for (const auto& b : net->named_buffers())
    if (b.key().find("cells") != std::string::npos && b.key().find("edge_") != std::string::npos)
      ++tracked;
  CHECK(tracked == 0);
  CHECK(net->forward(torch::randn({2, 3, 32, 32})).sizes() == torch::IntArrayRef{2, 10});
}
