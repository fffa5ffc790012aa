// Differentiable search: DARTS's first- and second-order architecture gradients, GDAS's
// sampler, derivation rules, planted-op recovery and reproducibility.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nas/nn/supernet.hpp>
#include <nas/relax/gumbel.hpp>
#include <nas/relax/single_path.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/space/format.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/darts.hpp>
#include <nas/strategy/derive.hpp>
#include <nas/strategy/gdas.hpp>

namespace {

// ---- smooth ops (no ReLU, no max): finite differences see no kinks inside the cells
struct TanhConvImpl : torch::nn::Module {
  explicit TanhConvImpl(const nas::OpArgs& a)
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.out, 3)
                                                           .padding(1)
                                                           .stride(a.stride)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return torch::tanh(conv(x)); }
  torch::nn::Conv2d conv;
};
TORCH_MODULE(TanhConv);
struct ScaleImpl : torch::nn::Module {
  explicit ScaleImpl(const nas::OpArgs&) : w(register_parameter("w", torch::ones({1}))) {}
  torch::Tensor forward(const torch::Tensor& x) { return x * w; }
  torch::Tensor w;
};
TORCH_MODULE(Scale);
using smooth_ops = nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"tanh_conv", TanhConv>,
                              nas::Op<"skip", nas::ops::Nb201Skip>,
                              nas::Op<"avg_pool", nas::ops::Nb201AvgPool>, nas::Op<"scale", Scale>>;
using smooth_space = nas::Space<nas::Cell<"cell", nas::spaces::nb201_cell, smooth_ops>>;

// ---- ops that count their calls
std::array<int, 3> calls{};
template <int I>
struct CountImpl : torch::nn::Module {
  explicit CountImpl(const nas::OpArgs&)
      : w(register_parameter("w", torch::full({1}, 1.0 + I))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    ++calls[I];
    return x * w;
  }
  torch::Tensor w;
};
template <int I>
struct Count : torch::nn::ModuleHolder<CountImpl<I>> {
  using torch::nn::ModuleHolder<CountImpl<I>>::ModuleHolder;
};
using counting_ops = nas::OpSet<nas::Op<"a", Count<0>>, nas::Op<"b", Count<1>>,
                                nas::Op<"c", Count<2>>>;
using counting_space = nas::Space<nas::Cell<"cell", nas::spaces::nb201_cell, counting_ops>>;

nas::Stack tiny_nb201(std::int64_t classes = 3) {
  return nas::Stack{.layers = 1, .channels = 4, .classes = classes, .input_channels = 1,
                    .skeleton = nas::Skeleton::nb201};
}

nas::Batch batch(std::int64_t n, std::int64_t classes, torch::Dtype dtype = torch::kFloat) {
  return {torch::randn({n, 1, 8, 8}, dtype), torch::randint(classes, {n}, torch::kLong)};
}

double max_abs(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
  return m;
}
double max_abs(const std::vector<torch::Tensor>& a) {
  double m = 0.0;
  for (const auto& t : a) m = std::max(m, t.abs().max().item<double>());
  return m;
}

}  // namespace

TEST_CASE("DARTS first order: the architecture gradient is plain autograd's") {
  torch::manual_seed(0);
  nas::Supernet<smooth_space, nas::relax::Softmax> net(tiny_nb201());
  nas::Darts darts(net, {.order = 1});
  const auto t = batch(4, 3), v = batch(4, 3);
  const auto g = darts.architecture_gradient(t, v);
  const auto l = torch::nn::functional::cross_entropy(net->forward(v.data), v.target);
  const auto expected = torch::autograd::grad({l}, net->arch_parameters());
  REQUIRE(g.size() == 1);
  CHECK(max_abs(g, expected) == 0.0);
  CHECK(max_abs(g) > 0.0);
}

TEST_CASE("DARTS second order: the unrolled gradient matches double backward") {
  // Exact: d/da L_val(w'(a), a) with w'(a) = w - eta (m + dL_train(w, a)/dw + wd w)
  //      = dL_val/da (w') - eta * d/da [ dL_train(w, a)/dw . v ],  v = dL_val/dw' (w'),
  // the second term by double backward. DARTS approximates it by a central difference
  // whose step has norm r (eps = r / ||v||). Its error is O(r^2) from third derivatives
  // plus rounding O(1e-16 |grad| / r) in double precision, as long as no ReLU of the
  // skeleton (residual blocks, last activation) changes sign within the step: the
  // difference of gradients then jumps, and the error is O(jump / r). Measured on this
  // net, r = 1e-2 and 1e-4 cross such kinks; r <= 1e-5 does not. At r = 1e-7 the
  // expected error is about 1e-9 relative, so a bound of 1e-6 of the gradient's size
  // leaves a wide margin while a wrong formula (sign, factor 2, missing momentum or
  // weight decay) misses by the size of the second-order term, checked to be larger.
  torch::manual_seed(1);
  nas::Supernet<smooth_space, nas::relax::Softmax> net(tiny_nb201());
  net->to(torch::kDouble);
  for (const double r : {1e-7, 1e-6}) {
    nas::Darts darts(net, {.order = 2, .unrolled_step = r});
    const auto t = batch(6, 3, torch::kDouble), v = batch(6, 3, torch::kDouble);
    darts.step(t, v);  // a first step fills SGD's momentum buffers
    const auto weights = net->weight_parameters();
    const auto alphas = net->arch_parameters();
    const double eta = darts.learning_rate();
    const auto snapshot = [&] {
      std::vector<torch::Tensor> s;
      for (const auto& w : weights) s.push_back(w.detach().clone());
      return s;
    }();
    const auto fd = darts.architecture_gradient(t, v);
    // the weights are unchanged
    CHECK(max_abs(snapshot, [&] {
            std::vector<torch::Tensor> s;
            for (const auto& w : weights) s.push_back(w.detach());
            return s;
          }()) == 0.0);
    // exact, by hand: the virtual step ...
    auto lt = torch::nn::functional::cross_entropy(net->forward(t.data), t.target);
    auto gw = torch::autograd::grad({lt}, weights, {}, false, false, true);
    {
      torch::NoGradGuard no_grad;
      auto& state = darts.weight_optimizer().state();
      for (std::size_t i = 0; i < weights.size(); ++i) {
        auto step = (gw[i].defined() ? gw[i] : torch::zeros_like(weights[i])) +
                    3e-4 * weights[i].detach();
        const auto it = state.find(weights[i].unsafeGetTensorImpl());
        if (it != state.end())
          step += 0.9 * static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
        weights[i].detach().sub_(eta * step);
      }
    }
    // ... the validation gradients at w' ...
    auto lv = torch::nn::functional::cross_entropy(net->forward(v.data), v.target);
    std::vector<torch::Tensor> all(alphas);
    all.insert(all.end(), weights.begin(), weights.end());
    auto gv = torch::autograd::grad({lv}, all, {}, false, false, true);
    {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < weights.size(); ++i) weights[i].detach().copy_(snapshot[i]);
    }
    // ... and the mixed second derivative by double backward at w
    lt = torch::nn::functional::cross_entropy(net->forward(t.data), t.target);
    gw = torch::autograd::grad({lt}, weights, {}, true, true, true);
    auto dot = torch::zeros({}, torch::kDouble);
    for (std::size_t i = 0; i < weights.size(); ++i)
      if (gw[i].defined() && gv[alphas.size() + i].defined())
        dot = dot + (gw[i] * gv[alphas.size() + i].detach()).sum();
    const auto hvp = torch::autograd::grad({dot}, alphas);
    std::vector<torch::Tensor> exact;
    for (std::size_t i = 0; i < alphas.size(); ++i) exact.push_back(gv[i] - eta * hvp[i]);
    const double err = max_abs(fd, exact);
    const double second = eta * max_abs(hvp);
    MESSAGE("r = " << r << ": |fd - exact| = " << err << ", |second-order term| = " << second);
    const double bound = 1e-6 * max_abs(exact);
    CHECK(second > 100.0 * bound);  // the second-order term is there to be checked
    CHECK(err <= bound);
  }
}
