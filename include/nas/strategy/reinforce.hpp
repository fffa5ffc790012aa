#pragma once
/// @file
/// nas::Reinforce: a controller trained by REINFORCE on each child's score (Zoph & Le,
/// ICLR 2017; NASNet, CVPR 2018; ENAS's controller step).

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "nas/controller/controller.hpp"
#include "nas/core/options.hpp"
#include "nas/core/random.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/history.hpp"
#include "nas/strategy/state.hpp"
#include "nas/train/checkpoint.hpp"

namespace nas {

/// Options of nas::Reinforce. Defaults: ENAS's micro search (`cifar10_micro_search.sh`:
/// Adam at 0.0035, entropy weight 1e-4, 10 children aggregated per update; baseline
/// decay 0.99 as ENAS's code).
struct ReinforceOptions {
  std::size_t children = 10;      ///< architectures per controller update
  double learning_rate = 0.0035;  ///< Adam
  double entropy_weight = 1e-4;   ///< loss -= entropy_weight * entropy (exploration)
  double baseline_decay = 0.99;   ///< moving average of rewards: b = d b + (1 - d) mean(R)
  double clip_norm = 0.0;         ///< clip the controller's gradient norm (0: off)
  double rejected_reward = 0.0;   ///< reward of a rejected architecture (score -inf)
  std::uint64_t seed = 0;         ///< seeds the controller's sampling (nas::Rng)

  NAS_WITH(children)
  NAS_WITH(learning_rate)
  NAS_WITH(entropy_weight)
  NAS_WITH(baseline_decay)
  NAS_WITH(clip_norm)
  NAS_WITH(rejected_reward)
  NAS_WITH(seed)
};

/// What one controller update measured.
struct ControllerUpdate {
  std::size_t update = 0;    ///< updates so far (1-based)
  double mean_reward = 0.0;  ///< of the update's children
  double baseline = 0.0;     ///< after the update's decay
  double loss = 0.0;         ///< the REINFORCE loss that was minimized
  double entropy = 0.0;      ///< mean entropy of the children's decisions
};

/// REINFORCE over a nas::Controller: each proposal is a sample of the policy; after
/// every `children` observations the controller takes one Adam step on
///
///   loss = mean_i [ -(R_i - b) log pi(g_i) - entropy_weight * H_i ],
///
/// where R_i is the trial's score, b the moving-average baseline (updated with the
/// children's mean reward before the step, as ENAS does; it starts at the first update's
/// mean reward) and H_i the entropy along g_i's decisions. log pi(g_i) is recomputed at
/// update time (nas::ControllerImpl::evaluate, equal to the sample's), so proposals hold
/// no graph. Models nas::search_strategy.
template <search_space S>
class Reinforce {
 public:
  using space = S;

  Reinforce(Controller<S> controller, ReinforceOptions options = {})
      : controller_(std::move(controller)), options_(options), rng_(options.seed) {
    TORCH_CHECK(!controller_.is_empty(), "nas::Reinforce needs a controller (got an empty holder)");
    TORCH_CHECK(options.children >= 1, "nas::Reinforce: children must be at least 1");
    TORCH_CHECK(options.learning_rate > 0.0, "nas::Reinforce: learning_rate must be positive");
    TORCH_CHECK(options.baseline_decay >= 0.0 && options.baseline_decay < 1.0,
                "nas::Reinforce: baseline_decay must be in [0, 1); got ", options.baseline_decay);
    TORCH_CHECK(std::isfinite(options.rejected_reward),
                "nas::Reinforce: rejected_reward must be finite");
    optimizer_ = std::make_unique<torch::optim::Adam>(
        controller_->parameters(), torch::optim::AdamOptions(options.learning_rate));
  }

  [[nodiscard]] Genotype<S> propose() {
    torch::NoGradGuard no_grad;
    return controller_->sample(rng_).genotype;
  }

  void observe(const Trial<S>& t) {
    pending_.push_back({t.genotype, std::isfinite(t.score) ? t.score : options_.rejected_reward});
    if (pending_.size() >= options_.children) update();
  }

  /// Takes the controller step on the children observed so far (observe() calls it every
  /// `children` trials); nothing when none is pending.
  void update() {
    if (pending_.empty()) return;
    double mean = 0.0;
    for (const auto& c : pending_) mean += c.reward;
    mean /= static_cast<double>(pending_.size());
    baseline_ = updates_ == 0
                    ? mean
                    : options_.baseline_decay * baseline_ + (1.0 - options_.baseline_decay) * mean;
    controller_->train();
    optimizer_->zero_grad();
    auto loss = torch::zeros({}, controller_->start.options());
    auto entropy = torch::zeros({}, controller_->start.options());
    for (const auto& c : pending_) {
      auto e = controller_->evaluate(c.genotype);
      loss = loss - (c.reward - baseline_) * e.log_prob - options_.entropy_weight * e.entropy;
      entropy = entropy + e.entropy.detach();
    }
    const auto n = static_cast<double>(pending_.size());
    loss = loss / n;
    loss.backward();
    if (options_.clip_norm > 0.0)
      torch::nn::utils::clip_grad_norm_(controller_->parameters(), options_.clip_norm);
    optimizer_->step();
    last_ = {++updates_, mean, baseline_, loss.template item<double>(),
             entropy.template item<double>() / n};
    pending_.clear();
  }

  /// Writes the strategy's state into `c` under `prefix`: the controller, Adam's state, the
  /// generator, the baseline, the update count and the children awaiting an update.
  void save(Checkpoint& c, const std::string& prefix) const {
    c.put(prefix + ".controller", *controller_);
    c.put(prefix + ".adam", *optimizer_);
    c.put_rng(prefix + ".rng", rng_);
    c.put_text(prefix + ".baseline", detail::number_text(baseline_));
    c.put_int(prefix + ".updates", static_cast<std::int64_t>(updates_));
    std::vector<std::pair<double, Genotype<S>>> items;
    for (const auto& child : pending_) items.emplace_back(child.reward, child.genotype);
    c.put_text(prefix + ".pending", detail::scored_lines(items));
    c.put_text(prefix + ".last_update", detail::number_text(last_.mean_reward) + " " +
                                            detail::number_text(last_.baseline) + " " +
                                            detail::number_text(last_.loss) + " " +
                                            detail::number_text(last_.entropy));
  }
  /// Restores the state save() wrote (into a Reinforce over a controller of the same shape).
  void load(const Checkpoint& c, const std::string& prefix) {
    c.get(prefix + ".controller", *controller_);
    c.get(prefix + ".adam", *optimizer_);
    c.get_rng(prefix + ".rng", rng_);
    baseline_ = detail::text_number(c.get_text(prefix + ".baseline"), "nas::Reinforce::load");
    const auto updates = c.get_int(prefix + ".updates");
    TORCH_CHECK(updates >= 0, "nas::Reinforce::load: a negative update count");
    updates_ = static_cast<std::size_t>(updates);
    pending_.clear();
    for (auto& [reward, g] :
         detail::parse_scored_lines<S>(c.get_text(prefix + ".pending"), "nas::Reinforce::load"))
      pending_.push_back({g, reward});
    std::istringstream last(c.get_text(prefix + ".last_update"));
    last_.update = updates_;
    last >> last_.mean_reward >> last_.baseline >> last_.loss >> last_.entropy;
    TORCH_CHECK(!last.fail(), "nas::Reinforce::load: the last update's record is corrupt");
  }

  [[nodiscard]] Controller<S>& controller() noexcept { return controller_; }
  [[nodiscard]] torch::optim::Adam& optimizer() noexcept { return *optimizer_; }
  [[nodiscard]] double baseline() const noexcept { return baseline_; }
  /// The last controller update (update 0 before the first).
  [[nodiscard]] const ControllerUpdate& last_update() const noexcept { return last_; }
  /// The sampling generator (to save and restore a search's state).
  [[nodiscard]] Rng& rng() noexcept { return rng_; }

 private:
  struct Child {
    Genotype<S> genotype;
    double reward = 0.0;
  };
  Controller<S> controller_;
  ReinforceOptions options_;
  Rng rng_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::vector<Child> pending_;
  double baseline_ = 0.0;
  std::size_t updates_ = 0;
  ControllerUpdate last_;
};

}  // namespace nas
