#pragma once
/// @file
/// Zero-cost proxies: training-free scores of an untrained network from one batch (NASWOT,
/// synflow, grad_norm, snip, jacob_cov, the parameter count), in nas::proxy, and
/// nas::eval::ZeroCost, the evaluator that scores a genotype's network with one of them.
///
/// Every proxy leaves the network as it found it: parameters (bitwise), buffers (batch-norm
/// running statistics), gradients and each module's train/eval mode; it runs on the network's
/// device (CPU or CUDA) and draws nothing from torch's generators (unless the network's own
/// forward does, as dropout does in training mode). Higher is better for every proxy.
/// docs/proxies.md explains each one, its paper and its cost.

#include <torch/autograd.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nas/core/options.hpp"
#include "nas/core/random.hpp"
#include "nas/data/data.hpp"
#include "nas/eval/cost_options.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/layout/stack.hpp"
#include "nas/nn/network.hpp"
#include "nas/ops/relu.hpp"
#include "nas/space/enumerate.hpp"
#include "nas/space/genotype.hpp"
#include "nas/train/training.hpp"

namespace nas::proxy {

/// The tap nas::proxy::naswot reads ReLU codes with (nas/ops/relu.hpp).
using ReluTap = ops::ReluTap;

/// What a proxy scores: a LibTorch module holder (`nas::Network<S>`, `torch::nn::Sequential`,
/// a `TORCH_MODULE` of yours) or a module class (a `torch::nn::Module` subclass) with
/// `forward(torch::Tensor) -> torch::Tensor`.
///
/// Requirements: `n->forward(x)` (holder) or `n.forward(x)` (module) gives a tensor.
/// Models: nas::Network<S>, torch::nn::Linear, torch::nn::Sequential.
template <class N>
concept scorable_network = (std::derived_from<N, torch::nn::Module> &&
                            requires(N & n, const torch::Tensor& x) {
                              { n.forward(x) } -> std::convertible_to<torch::Tensor>;
                            }) ||
                           (
                               requires { typename N::ContainedType; } &&
                               std::derived_from<typename N::ContainedType, torch::nn::Module> &&
                               requires(N & n, const torch::Tensor& x) {
                                 { n->forward(x) } -> std::convertible_to<torch::Tensor>;
                               });

namespace detail {

template <scorable_network N>
torch::nn::Module& module_of(N& n) {
  if constexpr (std::derived_from<N, torch::nn::Module>) {
    return n;
  } else {
    TORCH_CHECK(!n.is_empty(), "nas::proxy: the network is an empty module holder (nullptr)");
    return *n.ptr();
  }
}

template <scorable_network N>
torch::Tensor forward(N& n, const torch::Tensor& x) {
  if constexpr (std::derived_from<N, torch::nn::Module>)
    return n.forward(x);
  else
    return n->forward(x);
}

/// The module's parameters, each once (a parameter shared by two submodules is listed once).
inline std::vector<torch::Tensor> unique_parameters(const torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  std::unordered_set<const void*> seen;
  for (const auto& p : m.parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second) out.push_back(p);
  return out;
}

/// Restores a module's parameters (their storage itself), buffers, gradients and every
/// submodule's train/eval mode when it ends. Buffers are swapped for copies while it lives,
/// so a forward pass in training mode updates the copies, never the running statistics.
/// Inference mode is off while it lives (a caller's c10::InferenceMode would make the copies
/// inference tensors).
class KeepState {
 public:
  explicit KeepState(torch::nn::Module& m) : module_(m), training_(m.is_training()) {
    for (const auto& sub : m.modules(/*include_self=*/false))
      modes_.emplace_back(sub, sub->is_training());
    for (auto& p : unique_parameters(m)) {
      params_.push_back(p);
      param_data_.push_back(p.detach());
      grads_.push_back(p.grad());
    }
    std::unordered_set<const void*> seen;
    for (auto& b : m.buffers()) {
      if (!seen.insert(b.unsafeGetTensorImpl()).second) continue;
      buffers_.push_back(b);
      buffer_data_.push_back(b.detach());
      b.set_data(b.detach().clone());
    }
  }
  ~KeepState() {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      params_[i].set_data(param_data_[i]);
      params_[i].mutable_grad() = grads_[i];
    }
    for (std::size_t i = 0; i < buffers_.size(); ++i) buffers_[i].set_data(buffer_data_[i]);
    // pre-order: a module's train(on) sets its whole subtree, then its descendants their own
    module_.train(training_);
    for (auto& [sub, on] : modes_) sub->train(on);
  }
  KeepState(const KeepState&) = delete;
  KeepState& operator=(const KeepState&) = delete;

  /// The parameters (each once), in the module's order.
  [[nodiscard]] const std::vector<torch::Tensor>& parameters() const noexcept { return params_; }
  /// The buffers (each once; copies of the originals while this lives).
  [[nodiscard]] const std::vector<torch::Tensor>& buffers() const noexcept { return buffers_; }

 private:
  c10::InferenceMode normal_{false};  // first: constructed first, destroyed last
  torch::nn::Module& module_;
  bool training_;
  std::vector<std::pair<std::shared_ptr<torch::nn::Module>, bool>> modes_;
  std::vector<torch::Tensor> params_, param_data_, grads_;
  std::vector<torch::Tensor> buffers_, buffer_data_;
};

/// Autograd on for a scope, even inside the caller's torch::NoGradGuard or c10::InferenceMode.
struct GradientsOn {
  c10::InferenceMode inference{false};
  torch::AutoGradMode grad{true};
};

/// The device and floating dtype of the module's first floating parameter or buffer (none:
/// the inputs' own).
inline torch::TensorOptions placement(const torch::nn::Module& m, const torch::Tensor& inputs) {
  for (const auto& p : m.parameters())
    if (p.is_floating_point()) return p.options().requires_grad(false);
  for (const auto& b : m.buffers())
    if (b.is_floating_point()) return b.options().requires_grad(false);
  return inputs.options().dtype(inputs.is_floating_point() ? inputs.scalar_type() : torch::kFloat);
}

/// `inputs` on the network's device in its dtype, detached (a new tensor: setting
/// requires_grad on it leaves the caller's tensor alone).
inline torch::Tensor place(const torch::nn::Module& m, const torch::Tensor& inputs,
                           const char* who) {
  TORCH_CHECK(inputs.defined() && inputs.dim() >= 1 && inputs.size(0) >= 1, who,
              ": needs a batch of inputs [N, ...] with N >= 1; got ",
              inputs.defined() ? inputs.sizes() : torch::IntArrayRef{});
  const auto o = placement(m, inputs);
  return inputs.detach().to(o.device(), o.dtype());
}

inline torch::Tensor place_targets(const torch::nn::Module& m, const torch::Tensor& inputs,
                                   const torch::Tensor& targets, const char* who) {
  TORCH_CHECK(targets.defined() && targets.dim() >= 1 && targets.size(0) == inputs.size(0), who,
              ": needs targets [N, ...] for the N inputs (class indices for cross entropy); got ",
              targets.defined() ? targets.sizes() : torch::IntArrayRef{}, " for inputs ",
              inputs.sizes());
  return targets.detach().to(placement(m, inputs).device());
}

/// The gradients of `scalar` with respect to `ps` (undefined for a parameter it does not
/// depend on), without touching any `.grad`.
inline std::vector<torch::Tensor> gradients(const torch::Tensor& scalar,
                                            const std::vector<torch::Tensor>& ps) {
  if (ps.empty() || !scalar.requires_grad()) return std::vector<torch::Tensor>(ps.size());
  return torch::autograd::grad({scalar}, ps, {}, /*retain_graph=*/false,
                               /*create_graph=*/false, /*allow_unused=*/true);
}

inline std::vector<torch::Tensor> trainable(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps)
    if (p.requires_grad()) out.push_back(p);
  return out;
}

/// The loss of the batch in training mode and its gradients with respect to the trainable
/// parameters (grad_norm and snip).
template <scorable_network N>
std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> loss_gradients(
    N& net, const KeepState& state, const torch::Tensor& inputs, const torch::Tensor& targets,
    const LossFunction& loss, const char* who) {
  auto& m = module_of(net);
  const auto x = place(m, inputs, who);
  const auto y = place_targets(m, inputs, targets, who);
  m.train();
  const auto logits = forward(net, x);
  const auto l = loss ? loss(logits, y) : nas::detail::cross_entropy(logits, y);
  TORCH_CHECK(l.numel() == 1, who, ": the loss must be a scalar; got a tensor of shape ",
              l.sizes());
  auto ps = trainable(state.parameters());
  auto gs = gradients(l.reshape({}), ps);
  return {std::move(ps), std::move(gs)};
}

inline double sum_of(const std::vector<torch::Tensor>& terms) {
  double s = 0.0;
  for (const auto& t : terms)
    if (t.defined()) s += t.item<double>();
  return s;
}

}  // namespace detail

// ---- NASWOT --------------------------------------------------------------------------------

/// NASWOT's kernel of binary activation codes (Mellor et al., "Neural Architecture Search
/// without Training", ICML 2021): `codes` `[N, N_A]` (bool, or numbers: nonzero is on), one
/// row per sample; returns `K` `[N, N]` in double with `K[i][j] = N_A - hamming(c_i, c_j)`,
/// the number of units on which samples i and j agree. Exact (integer counts).
[[nodiscard]] inline torch::Tensor naswot_kernel(const torch::Tensor& codes) {
  TORCH_CHECK(codes.defined() && codes.dim() == 2 && codes.size(0) >= 1,
              "nas::proxy::naswot_kernel: needs codes [N, N_A] (one row of ReLU on/off bits per "
              "sample); got ",
              codes.defined() ? codes.sizes() : torch::IntArrayRef{});
  torch::NoGradGuard no_grad;
  const std::int64_t d = codes.size(1);
  // 0/1 products summed in float are exact below 2^24 (TF32 keeps 0 and 1 exact too)
  const auto dtype = d < (std::int64_t{1} << 24) ? torch::kFloat : torch::kDouble;
  const auto c = codes.ne(0).to(dtype);
  const auto both_on = c.mm(c.t()).to(torch::kDouble);  // units on in both samples
  const auto on = c.sum(1).to(torch::kDouble);          // units on per sample
  // hamming(i, j) = on_i + on_j - 2 both_on_ij
  const auto hamming = on.unsqueeze(1) + on.unsqueeze(0) - 2.0 * both_on;
  return static_cast<double>(d) - hamming;
}

/// log|det K| of a NASWOT kernel (torch::linalg_slogdet in double): minus infinity when K is
/// singular (two samples with the same code).
[[nodiscard]] inline double naswot_log_det(const torch::Tensor& kernel) {
  TORCH_CHECK(kernel.defined() && kernel.dim() == 2 && kernel.size(0) == kernel.size(1),
              "nas::proxy::naswot_log_det: needs a square kernel [N, N]; got ",
              kernel.defined() ? kernel.sizes() : torch::IntArrayRef{});
  torch::NoGradGuard no_grad;
  return std::get<1>(torch::linalg_slogdet(kernel.to(torch::kDouble))).item<double>();
}

/// NASWOT's score of binary codes `[N, N_A]`: log|det naswot_kernel(codes)|.
[[nodiscard]] inline double naswot_score(const torch::Tensor& codes) {
  return naswot_log_det(naswot_kernel(codes));
}

/// The binary codes of `inputs` in `net`: every nas::ops::relu / relu6 output's `> 0`, in call
/// order, concatenated per sample (`[N, N_A]`, bool), in training mode without gradients, as
/// nas::proxy::naswot sees them. Holds every code at once: for big networks naswot() itself
/// adds the kernels up ReLU by ReLU instead.
template <scorable_network N>
[[nodiscard]] torch::Tensor relu_codes(N& net, const torch::Tensor& inputs) {
  auto& m = detail::module_of(net);
  detail::KeepState keep(m);
  const auto x = detail::place(m, inputs, "nas::proxy::relu_codes");
  m.train();
  ReluTap tap;
  {
    torch::NoGradGuard no_grad;
    (void)detail::forward(net, x);
  }
  TORCH_CHECK(tap.relus() > 0,
              "nas::proxy::relu_codes: the network applied no nas::ops::relu (nor relu6); "
              "NASWOT reads the codes of ReLUs called through nas::ops::relu (or the module "
              "nas::ops::ReLU): use it in your operations instead of torch::relu");
  return tap.code();
}

/// NASWOT (Mellor et al., ICML 2021): for the N samples of `inputs`, the binary code c_i of
/// sample i is the concatenation of (activation > 0) over every ReLU of the network (every
/// nas::ops::relu and relu6 call: nas's ops and layouts call them; a user's op joins by calling
/// nas::ops::relu); `K[i][j] = N_A - hamming(c_i, c_j)`; the score is log|det K| (minus
/// infinity when two samples share a code). Higher is better: the network tells the samples
/// apart before training. One forward pass without gradients, in training mode (batch
/// statistics, as the reference code scores freshly built networks); the running statistics
/// and modes are restored. `targets` is unused. Cost: one forward pass plus an N x N x N_A
/// product.
template <scorable_network N>
[[nodiscard]] double naswot(N& net, const torch::Tensor& inputs,
                            const torch::Tensor& targets = {}) {
  (void)targets;
  auto& m = detail::module_of(net);
  detail::KeepState keep(m);
  const auto x = detail::place(m, inputs, "nas::proxy::naswot");
  m.train();
  torch::Tensor k;
  std::size_t relus = 0;
  {
    ReluTap tap([&k](const torch::Tensor& code) {
      auto part = naswot_kernel(code);
      k = k.defined() ? k + part : part;
    });
    torch::NoGradGuard no_grad;
    (void)detail::forward(net, x);
    relus = tap.relus();
  }
  TORCH_CHECK(relus > 0,
              "naswot: the network applied no nas::ops::relu (nor relu6), so it has no binary "
              "codes to score; NASWOT reads the ReLUs called through nas::ops::relu (or the "
              "module nas::ops::ReLU): use it in your operations instead of torch::relu");
  return naswot_log_det(k);
}

// ---- synflow -------------------------------------------------------------------------------

/// SynFlow (Tanaka et al., NeurIPS 2020; as a proxy: Abdelfattah et al., "Zero-Cost Proxies for
/// Lightweight NAS", ICLR 2021): in double precision, every parameter replaced by its absolute
/// value, one all-ones input of the batch's sample shape (`[1, C, H, W]`), R = sum(output); the
/// score is the sum over parameters of theta * dR/dtheta (every trainable parameter, batch-norm
/// weights and biases too; Abdelfattah et al.'s code sums over convolution and linear weights).
/// Data-independent: only `inputs`' shape is read; `targets` is unused.
///
/// Batch norm runs in eval mode: one constant input has no batch statistics to normalize with
/// (in training mode it would be normalized to zero, or refused for a 1 x 1 feature map), and
/// with a fresh network's running statistics (mean 0, variance 1) eval-mode batch norm is
/// nearly the identity, as the reference code's copy without batch norm is. Parameters are
/// restored bitwise (their own storage), with their dtype, buffers, gradients and modes.
/// Cost: one forward and one backward pass of one sample, in double.
template <scorable_network N>
[[nodiscard]] double synflow(N& net, const torch::Tensor& inputs,
                             const torch::Tensor& targets = {}) {
  (void)targets;
  auto& m = detail::module_of(net);
  TORCH_CHECK(inputs.defined() && inputs.dim() >= 1,
              "nas::proxy::synflow: needs a batch of inputs [N, ...] for its shape; got ",
              inputs.defined() ? inputs.sizes() : torch::IntArrayRef{});
  const auto device = detail::placement(m, inputs).device();
  detail::KeepState keep(m);
  detail::GradientsOn on;
  m.eval();
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : keep.parameters())
      if (p.is_floating_point()) p.set_data(p.detach().abs().to(torch::kDouble));
    for (const auto& b : keep.buffers())
      if (b.is_floating_point()) b.set_data(b.detach().to(torch::kDouble));
  }
  auto shape = inputs.sizes().vec();
  shape[0] = 1;
  const auto x = torch::ones(shape, torch::TensorOptions().dtype(torch::kDouble).device(device));
  const auto r = detail::forward(net, x).sum();
  const auto ps = detail::trainable(keep.parameters());
  const auto gs = detail::gradients(r, ps);
  std::vector<torch::Tensor> terms;
  for (std::size_t i = 0; i < ps.size(); ++i)
    if (gs[i].defined()) terms.push_back((ps[i].detach() * gs[i]).sum());
  return detail::sum_of(terms);
}

// ---- grad_norm and snip --------------------------------------------------------------------

/// grad_norm (Abdelfattah et al., ICLR 2021): the cross-entropy loss of the batch (or `loss`),
/// one backward pass; the score is the sum over trainable parameters of ||dL/dtheta||_2. In
/// training mode (batch statistics); `.grad`, buffers and modes are left as they were.
/// Cost: one forward and one backward pass of the batch.
template <scorable_network N>
[[nodiscard]] double grad_norm(N& net, const torch::Tensor& inputs, const torch::Tensor& targets,
                               const LossFunction& loss = {}) {
  auto& m = detail::module_of(net);
  detail::KeepState keep(m);
  detail::GradientsOn on;
  const auto gs =
      detail::loss_gradients(net, keep, inputs, targets, loss, "nas::proxy::grad_norm").second;
  std::vector<torch::Tensor> terms;
  for (const auto& g : gs)
    if (g.defined()) terms.push_back(g.to(torch::kDouble).norm());
  return detail::sum_of(terms);
}

/// SNIP (Lee et al., "SNIP: Single-shot Network Pruning based on Connection Sensitivity", ICLR
/// 2019; as a proxy: Abdelfattah et al., ICLR 2021): the sum over trainable parameters of
/// |theta * dL/dtheta| for the cross-entropy loss of the batch (or `loss`). In training mode;
/// `.grad`, buffers and modes are left as they were. Cost: one forward and one backward pass.
template <scorable_network N>
[[nodiscard]] double snip(N& net, const torch::Tensor& inputs, const torch::Tensor& targets,
                          const LossFunction& loss = {}) {
  auto& m = detail::module_of(net);
  detail::KeepState keep(m);
  detail::GradientsOn on;
  const auto [ps, gs] =
      detail::loss_gradients(net, keep, inputs, targets, loss, "nas::proxy::snip");
  std::vector<torch::Tensor> terms;
  for (std::size_t i = 0; i < ps.size(); ++i)
    if (gs[i].defined())
      terms.push_back((ps[i].detach().to(torch::kDouble) * gs[i].to(torch::kDouble)).abs().sum());
  return detail::sum_of(terms);
}

// ---- jacob_cov -----------------------------------------------------------------------------

/// The jacob_cov score of Jacobian rows `jacobians` `[N, D]` (N >= 2): C = the correlation
/// matrix of the rows (torch::corrcoef), v its eigenvalues, the score
/// `-sum(log(v + k) + 1 / (v + k))` with k = 1e-5, in double. NaN when a row is constant (its
/// correlations are undefined).
[[nodiscard]] inline double jacob_cov_score(const torch::Tensor& jacobians) {
  TORCH_CHECK(jacobians.defined() && jacobians.dim() == 2 && jacobians.size(0) >= 2,
              "nas::proxy::jacob_cov: needs at least 2 samples (rows [N, D], N >= 2) to correlate; "
              "got ",
              jacobians.defined() ? jacobians.sizes() : torch::IntArrayRef{});
  torch::NoGradGuard no_grad;
  const auto c = torch::corrcoef(jacobians.to(torch::kDouble));
  if (!torch::isfinite(c).all().item<bool>()) return std::numeric_limits<double>::quiet_NaN();
  const auto v = torch::linalg_eigvalsh(c);
  constexpr double k = 1e-5;
  return -(torch::log(v + k) + 1.0 / (v + k)).sum().item<double>();
}

/// jacob_cov (Mellor et al., "Neural Architecture Search without Training", arXiv v1, 2020; as
/// in Abdelfattah et al.'s code): J = d(sum of outputs)/d(inputs), one row per sample flattened
/// to `[N, D]`, scored by nas::proxy::jacob_cov_score (higher: the samples' Jacobians are less
/// correlated). In training mode (batch statistics, so samples interact through batch norm as
/// in the reference code); buffers and modes are restored, `.grad` untouched. NaN when a row
/// is constant (an architecture whose output does not depend on its input); `targets` is
/// unused. Cost: one forward and one backward pass of the batch.
template <scorable_network N>
[[nodiscard]] double jacob_cov(N& net, const torch::Tensor& inputs,
                               const torch::Tensor& targets = {}) {
  (void)targets;
  auto& m = detail::module_of(net);
  detail::KeepState keep(m);
  detail::GradientsOn on;
  const auto x = detail::place(m, inputs, "nas::proxy::jacob_cov").requires_grad_(true);
  TORCH_CHECK(x.size(0) >= 2, "nas::proxy::jacob_cov: needs at least 2 samples to correlate; got ",
              x.size(0));
  m.train();
  const auto y = detail::forward(net, x);
  const auto g = torch::autograd::grad({y}, {x}, {torch::ones_like(y)}, /*retain_graph=*/false,
                                       /*create_graph=*/false, /*allow_unused=*/true)[0];
  if (!g.defined()) return std::numeric_limits<double>::quiet_NaN();  // output ignores input
  return jacob_cov_score(g.reshape({x.size(0), -1}));
}

// ---- params --------------------------------------------------------------------------------

/// The parameter count (nas::parameter_count: an auxiliary head left out), the baseline every
/// proxy is compared with. `inputs` and `targets` are unused. Cost: none (no forward pass).
template <scorable_network N>
[[nodiscard]] double params(N& net, const torch::Tensor& inputs = {},
                            const torch::Tensor& targets = {}) {
  (void)inputs;
  (void)targets;
  return static_cast<double>(parameter_count(detail::module_of(net)));
}

// ---- by name -------------------------------------------------------------------------------

/// A proxy, by name.
enum class Kind : std::uint8_t { naswot, synflow, grad_norm, snip, jacob_cov, params };

/// Every proxy, in this order.
inline constexpr std::array<Kind, 6> kinds{Kind::naswot, Kind::synflow,   Kind::grad_norm,
                                           Kind::snip,   Kind::jacob_cov, Kind::params};

/// The name of a proxy: "naswot", "synflow", "grad_norm", "snip", "jacob_cov", "params".
[[nodiscard]] constexpr std::string_view to_string(Kind k) noexcept {
  switch (k) {
    case Kind::naswot:
      return "naswot";
    case Kind::synflow:
      return "synflow";
    case Kind::grad_norm:
      return "grad_norm";
    case Kind::snip:
      return "snip";
    case Kind::jacob_cov:
      return "jacob_cov";
    case Kind::params:
      return "params";
  }
  return "?";
}

/// The proxy named `name` (as to_string spells it); throws a c10::Error naming the known ones.
[[nodiscard]] inline Kind parse(std::string_view name) {
  for (const Kind k : kinds)
    if (to_string(k) == name) return k;
  std::string known;
  for (const Kind k : kinds) {
    if (!known.empty()) known += ", ";
    known += to_string(k);
  }
  TORCH_CHECK(false, "nas::proxy::parse: no proxy is named '", std::string(name), "'; one of ",
              known);
  return Kind::naswot;
}

/// The proxy `kind` of `net` on the batch (`loss`: grad_norm and snip; default cross entropy).
template <scorable_network N>
[[nodiscard]] double score(Kind kind, N& net, const torch::Tensor& inputs,
                           const torch::Tensor& targets, const LossFunction& loss = {}) {
  switch (kind) {
    case Kind::naswot:
      return naswot(net, inputs, targets);
    case Kind::synflow:
      return synflow(net, inputs, targets);
    case Kind::grad_norm:
      return grad_norm(net, inputs, targets, loss);
    case Kind::snip:
      return snip(net, inputs, targets, loss);
    case Kind::jacob_cov:
      return jacob_cov(net, inputs, targets);
    case Kind::params:
      return params(net, inputs, targets);
  }
  TORCH_CHECK(false, "nas::proxy::score: unknown proxy kind ", static_cast<int>(kind));
  return 0.0;
}

}  // namespace nas::proxy

namespace nas::eval {

/// Options of nas::eval::ZeroCost.
struct ZeroCostOptions {
  proxy::Kind proxy = proxy::Kind::naswot;  ///< the score (nas::proxy::Kind)
  Stack stack{.layers = 2, .channels = 8};  ///< the network scored (set the space's skeleton)
  std::int64_t batch_size = 64;             ///< the first `batch_size` samples are the batch
  std::uint64_t seed = 0;                   ///< every network is initialized from this seed
  torch::Device device = torch::kCPU;
  CostOptions cost{};   ///< parameters and multiply-adds by default, at `stack`
  LossFunction loss{};  ///< grad_norm and snip (default: cross entropy)

  NAS_WITH(proxy)
  NAS_WITH(stack)
  NAS_WITH(batch_size)
  NAS_WITH(seed)
  NAS_WITH(device)
  NAS_WITH(cost)
  NAS_WITH(loss)
};

/// Scores a genotype without training: builds `Network<S>(genotype, options.stack)` from
/// `options.seed` (the same genotype gets the same initial weights, so the same score) and
/// returns the proxy `options.proxy` of it on one fixed batch, the first `batch_size` samples
/// of the data, in nas::Metrics: the score in `accuracy`, the costs `options.cost` asks for
/// (parameters and multiply-adds by default) in the cost fields. The score is NOT an accuracy
/// (it is not in [0, 1]; NASWOT's is a log-determinant, jacob_cov's is negative); higher is
/// better for every proxy, which is what a strategy maximizes. A NaN score (jacob_cov of a
/// network whose output ignores its input) is reported as minus infinity: rejected, and the
/// search goes on. Use it with nas::objectives::Accuracy or Budget; MnasNet's product assumes a
/// positive accuracy. Torch's CPU generator is restored afterwards. Models nas::evaluator_for.
///
/// ```
/// nas::eval::ZeroCost<space> proxy(train, {.proxy = nas::proxy::Kind::naswot, .stack = stack});
/// nas::RandomSearch<space> random({.seed = 0});
/// auto result = nas::run_trials(random, proxy, {.trials = 100});
/// ```
template <search_space S>
class ZeroCost {
 public:
  explicit ZeroCost(const Data& data, ZeroCostOptions options = {}) : options_(std::move(options)) {
    data.check("nas::eval::ZeroCost");
    TORCH_CHECK(options_.batch_size >= 1, "nas::eval::ZeroCost: batch_size must be positive; got ",
                options_.batch_size);
    TORCH_CHECK(data.inputs.dim() == 4,
                "nas::eval::ZeroCost: needs images [N, C, H, W]; got inputs of shape ",
                data.inputs.sizes());
    const auto n = std::min(options_.batch_size, data.size());
    TORCH_CHECK(options_.proxy != proxy::Kind::jacob_cov || n >= 2,
                "nas::eval::ZeroCost: jacob_cov correlates samples and needs a batch of at least "
                "2; got ",
                n);
    batch_ = {data.inputs.slice(0, 0, n).to(options_.device),
              data.targets.slice(0, 0, n).to(options_.device)};
  }

  /// The proxy's score of the genotype's network (as seeded), with its costs.
  Metrics operator()(const Genotype<S>& genotype) {
    genotype.validate();
    Metrics m;
    {
      detail::SeedScope seed(options_.seed);
      Network<S> net(genotype, options_.stack);
      net->to(options_.device);
      m.accuracy = proxy::score(options_.proxy, net, batch_.inputs, batch_.targets, options_.loss);
    }
    if (std::isnan(m.accuracy)) m.accuracy = -std::numeric_limits<double>::infinity();
    detail::add_costs(m, genotype, options_.cost, options_.stack, batch_.inputs.size(2),
                      batch_.inputs.size(3), options_.device);
    return m;
  }

  [[nodiscard]] const ZeroCostOptions& options() const noexcept { return options_; }
  /// The batch every network is scored on (on `options().device`).
  [[nodiscard]] const Data& batch() const noexcept { return batch_; }

 private:
  ZeroCostOptions options_;
  Data batch_;
};

}  // namespace nas::eval

namespace nas::eval {

/// A zero-cost warm start (Abdelfattah et al., ICLR 2021, "Zero-Cost Proxies for Lightweight
/// NAS"): draws `candidates` distinct uniformly random architectures of `S` (nas::Rng seeded
/// `seed`), scores each with `evaluator` (a nas::eval::ZeroCost proxy, or any evaluator: its
/// Metrics::accuracy) and returns the best `keep`, best first (ties in the order drawn). Give
/// them to nas::Evolution::seed_population, so evolution starts from cells the proxy likes
/// instead of uniform ones. A space with fewer than `candidates` architectures gives what it
/// has after 100 draws per candidate.
template <search_space S, evaluator_for<S> E>
[[nodiscard]] std::vector<Genotype<S>> best_of_random(E& evaluator, std::size_t candidates,
                                                      std::size_t keep, std::uint64_t seed) {
  TORCH_CHECK(keep >= 1 && keep <= candidates,
              "nas::eval::best_of_random needs 1 <= keep <= candidates; got keep ", keep, " of ",
              candidates);
  Rng rng(seed);
  std::vector<Genotype<S>> drawn;
  std::unordered_set<std::string> seen;
  for (std::size_t tries = 0; drawn.size() < candidates && tries < 100 * candidates; ++tries) {
    auto g = sample<S>(rng);
    if (seen.insert(to_string(g)).second) drawn.push_back(std::move(g));
  }
  std::vector<double> score;
  score.reserve(drawn.size());
  for (const auto& g : drawn) {
    const double v = nas::detail::evaluate<S>(evaluator, g).accuracy;
    score.push_back(std::isnan(v) ? -std::numeric_limits<double>::infinity() : v);  // NaN last
  }
  std::vector<std::size_t> order(drawn.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  std::vector<Genotype<S>> out;
  for (std::size_t i = 0; i < order.size() && out.size() < keep; ++i)
    out.push_back(drawn[order[i]]);
  return out;
}

}  // namespace nas::eval
