#pragma once
/// @file
/// The machinery nas::Darts and nas::Gdas share: the two optimizers, the weight step,
/// the learning-rate schedule and the epoch loop.

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "nas/nn/supernet.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/derive.hpp"
#include "nas/strategy/perturbation.hpp"
#include "nas/strategy/regularizers.hpp"
#include "nas/train/checkpoint.hpp"
#include "nas/train/options.hpp"

namespace nas::detail {

/// Fills `report`'s alpha_top_* fields: over every edge of every cell kind, the largest
/// softmax(alpha) weight of the edge (1 / ops when alpha is uniform, 1 when one op has won).
template <search_space S, class SupernetModule, class Report>
void alpha_top_weights(const SupernetModule& net, Report& report) {
  double sum = 0.0, low = 1.0, high = 0.0;
  std::int64_t edges = 0;
  for (std::size_t kind = 0; kind < S::cell_count; ++kind) {
    const auto top = std::get<0>(torch::softmax(net.alpha_at(kind).detach(), -1).max(-1))
                         .to(torch::kCPU, torch::kDouble)
                         .contiguous();
    const auto* p = top.template data_ptr<double>();
    for (std::int64_t e = 0; e < top.numel(); ++e) {
      sum += p[e];
      low = std::min(low, p[e]);
      high = std::max(high, p[e]);
    }
    edges += top.numel();
  }
  if (edges == 0) return;
  report.alpha_top_mean = sum / static_cast<double>(edges);
  report.alpha_top_min = low;
  report.alpha_top_max = high;
}

/// The shared part of a bilevel (weights / architecture) strategy. `Derived` provides
/// `step(train, valid)` and `begin_epoch(epoch)`.
template <class Derived, search_space S, relaxation R, class Options>
class Bilevel {
  static_assert(R::learns_architecture,
                "nas::Darts and nas::Gdas learn architecture parameters: give them a supernet "
                "whose relaxation learns some (nas::relax::Softmax, nas::relax::Gumbel), not "
                "nas::relax::SinglePath");

 public:
  using space = S;

  /// The supernet being searched.
  [[nodiscard]] Supernet<S, R>& supernet() noexcept { return net_; }
  [[nodiscard]] const Options& options() const noexcept { return options_; }
  [[nodiscard]] torch::optim::SGD& weight_optimizer() noexcept { return weights_; }
  [[nodiscard]] torch::optim::Adam& arch_optimizer() noexcept { return arch_; }

  /// Sets the epoch (0-based): the cosine learning rate of the weights, the weight of DARTS-'s
  /// auxiliary skip connection on a supernet that has one (nas::auxiliary_skip_weight), and
  /// whatever the strategy schedules per epoch (GDAS: the temperature).
  void set_epoch(std::int64_t epoch) {
    TORCH_CHECK(epoch >= 0 && epoch < options_.epochs, "epoch ", epoch, " out of range [0, ",
                options_.epochs, ")");
    epoch_ = epoch;
    if (net_->options().auxiliary_skip)
      net_->set_auxiliary_skip_weight(auxiliary_skip_weight(epoch, options_.epochs));
    const double lr = cosine_learning_rate(
        options_.weights.learning_rate, options_.weights.learning_rate_min, epoch, options_.epochs);
    for (auto& group : weights_.param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    static_cast<Derived&>(*this).begin_epoch(epoch);
  }
  /// The weights' learning rate in force.
  [[nodiscard]] double learning_rate() {
    return static_cast<torch::optim::SGDOptions&>(weights_.param_groups().front().options()).lr();
  }
  /// The architecture's learning rate in force: ArchTraining::learning_rate, scaled to the
  /// planned architecture steps once search() knows them (ArchTraining::reference_steps).
  [[nodiscard]] double arch_learning_rate() {
    return static_cast<torch::optim::AdamOptions&>(arch_.param_groups().front().options()).lr();
  }
  /// The architecture steps a search of `steps_per_epoch` steps per epoch takes: one per
  /// step of every epoch after the warm-up.
  [[nodiscard]] std::int64_t planned_arch_steps(std::int64_t steps_per_epoch) const noexcept {
    return std::max<std::int64_t>(0, options_.epochs - options_.arch.warmup_epochs) *
           steps_per_epoch;
  }
  /// The Beta-Decay weight of the current epoch (ArchTraining::beta_decay): `beta_decay *
  /// epoch / epochs`.
  [[nodiscard]] double beta_decay_weight() const noexcept {
    return options_.arch.beta_decay * static_cast<double>(epoch_) /
           static_cast<double>(options_.epochs);
  }

  /// The architecture the supernet's parameters stand for now (nas::derive with the
  /// options' derivation rule).
  [[nodiscard]] Genotype<S> genotype() const { return derive(*net_, options_.derive); }

  /// Runs the whole search: `train` feeds the weight steps, `valid` the architecture
  /// steps; each epoch has as many steps as `train` has batches (or WeightTraining::steps).
  /// Batches go to the
  /// supernet's device. Returns the final derived architecture and every epoch's report.
  ///
  /// Resumable: the search goes on from the epoch after the last one completed, by an
  /// earlier call or by the state load() restored (a finished search returns its result
  /// again). Call save() in `callbacks.on_epoch` to checkpoint after every epoch. When
  /// `callbacks.stop` is asked to stop, the search returns before its next step with
  /// StopReason::interrupted; save() then holds the partial epoch, and search() (in this
  /// object, or after load() in a new one) finishes it as the uninterrupted search would have.
  SearchResult<S> search(const Data& train, const Data& valid, const Callbacks<S>& callbacks = {}) {
    // the streams of an earlier call on the same data go on where they are (an interrupted
    // search called again); after load(), they start where the checkpoint says
    const auto batch = options_.weights.batch_size;
    const bool same = train_stream_ && valid_stream_ && train_stream_->draws_from(train, batch) &&
                      valid_stream_->draws_from(valid, batch);
    TORCH_CHECK(pending_ || same || partial_.steps == 0, Derived::display_name,
                ": the interrupted epoch was on other data; call search() again with the same "
                "training and validation data, or load() a checkpoint");
    if (pending_ || !same) {
      train_stream_.emplace(train, batch);
      valid_stream_.emplace(valid, batch);
    }
    if (pending_) {
      train_stream_->load(*pending_, "pending.train_stream");
      valid_stream_->load(*pending_, "pending.valid_stream");
      pending_.reset();
    }
    set_arch_learning_rate(steps_per_epoch());
    auto& result = progress_;
    if (result.stop == StopReason::interrupted) result.stop = StopReason::completed;  // go on
    for (std::int64_t epoch = next_epoch_;
         epoch < options_.epochs && result.stop == StopReason::completed; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      set_epoch(epoch);
      net_->train();
      EpochReport<S> report;
      report.epoch = epoch;
      report.epochs = options_.epochs;
      report.learning_rate = learning_rate();
      report.arch_learning_rate = arch_steps_due() ? arch_learning_rate() : 0.0;
      report.tau = static_cast<Derived&>(*this).tau();
      // an interrupted epoch goes on where it stopped, with what its steps had summed
      PartialEpoch done = std::exchange(partial_, {});
      StepReport& sum = done.sum;
      report.skipped = done.skipped;
      const auto device = device_of(*net_);
      const std::int64_t steps = steps_per_epoch();
      for (std::int64_t i = done.steps; i < steps; ++i) {
        if (callbacks.stop.stop_requested()) {
          done.steps = i;
          done.skipped = report.skipped;
          done.seconds += seconds_since(start);
          partial_ = done;
          result.stop = StopReason::interrupted;
          return result;
        }
        const Batch t = train_stream_->next(device);
        const Batch v = valid_stream_->next(device);
        StepReport r;
        try {
          r = static_cast<Derived&>(*this).step(t, v);
        } catch (const NonFiniteLoss&) {
          if (!options_.weights.skip_nonfinite) throw;
          ++report.skipped;
          ++step_;
          continue;
        }
        sum.train_loss += r.train_loss * static_cast<double>(r.train_count);
        sum.valid_loss += r.valid_loss * static_cast<double>(r.valid_count);
        sum.train_correct += r.train_correct;
        sum.train_count += r.train_count;
        sum.valid_correct += r.valid_correct;
        sum.valid_count += r.valid_count;
        if (callbacks.on_step) callbacks.on_step(step_, r);
        ++step_;
      }
      const auto ratio = [](double a, std::int64_t n) {
        return n == 0 ? 0.0 : a / static_cast<double>(n);
      };
      report.train_loss = ratio(sum.train_loss, sum.train_count);
      report.valid_loss = ratio(sum.valid_loss, sum.valid_count);
      report.train_accuracy = ratio(static_cast<double>(sum.train_correct), sum.train_count);
      report.valid_accuracy = ratio(static_cast<double>(sum.valid_correct), sum.valid_count);
      report.genotype = genotype();
      detail::alpha_top_weights<S>(*net_, report);
      report.parameter_free_ops = parameter_free_count(*net_, report.genotype);
      report.identity_ops = identity_count(report.genotype);
      report.seconds = done.seconds + seconds_since(start);
      result.epochs.push_back(report);
      result.genotype = report.genotype;
      next_epoch_ = epoch + 1;
      if (options_.stop_at_identity_ops > 0 &&
          max_identity_per_cell(report.genotype) >= options_.stop_at_identity_ops)
        result.stop = StopReason::identity_ops;
      if (callbacks.on_epoch) callbacks.on_epoch(report);
    }
    if (result.epochs.empty()) result.genotype = genotype();
    return result;
  }

  /// DARTS-PT's selection (Wang et al., ICLR 2021) instead of the argmax of alpha: call it once
  /// search() has finished. Edge by edge in a random order (torch's CPU generator), it masks
  /// each candidate op in turn (its weight zero, the others unchanged), measures the supernet's
  /// validation accuracy on `valid` (in training mode, as the reference does; or
  /// `options.score`), and keeps the op whose removal costs most (the lowest score; ties to the
  /// lower op), fixing the edge to it
  /// (SupernetImpl::project_op). On a cell that keeps some inputs of each node (DARTS), zero ops
  /// are not candidates, and then each node with more inputs than it keeps chooses them the same
  /// way, masking one whole edge at a time and removing the edges whose removal costs least
  /// (`options.topology`; off, nas::derive keeps each node's lowest-index inputs, every
  /// projected edge weighing 1). Between two decisions the supernet is fine-tuned for
  /// `options.tune_epochs` epochs of this strategy's steps on `train` / `valid` (architecture
  /// and weights, the weights at `options.learning_rate`, by default a tenth of
  /// WeightTraining::learning_rate, as the reference).
  ///
  /// Returns the selected architecture (nas::derive of the projected supernet, without the
  /// identity cap); the supernet keeps its projection (clear_projection() undoes it), the
  /// weights their fine-tuning; the weights' learning rate and DARTS-'s skip weight (zero while
  /// it runs) are put back, however it ends. Not part of save(): a run stopped inside it
  /// load()s the searched state and calls it again, to the same result. Needs a relaxation
  /// that weighs every op (DARTS, PC-DARTS, DrNAS; GDAS's sampled paths are refused before
  /// anything changes). `stop` ends it with nas::Interrupted; a non-finite loss while
  /// fine-tuning is skipped or thrown as WeightTraining::skip_nonfinite says.
  Genotype<S> derive_by_perturbation(const Data& train, const Data& valid,
                                     const PerturbationOptions& options = {},
                                     std::stop_token stop = {}) {
    TORCH_CHECK(options.tune_epochs >= 0 && options.eval_batches >= 0 &&
                    options.learning_rate >= 0.0 && std::isfinite(options.learning_rate),
                Derived::display_name,
                ": PerturbationOptions needs tune_epochs >= 0, eval_batches >= 0 and a finite "
                "learning_rate >= 0 (0: a tenth of the search's)");
    train.check("derive_by_perturbation's training data");
    valid.check("derive_by_perturbation's validation data");
    auto& net = *net_;
    check_weighs_every_op();
    const auto device = device_of(net);
    const auto batch = options_.weights.batch_size;
    BatchStream tune_train(train, batch), tune_valid(valid, batch);
    // while it runs: the weights at the fine-tuning rate, DARTS-'s skip off (its schedule ends
    // at zero); both put back, and any mask cleared, however it ends
    struct Restore {
      Bilevel& self;
      double lr, skip;
      ~Restore() {
        self.net_->clear_mask();
        for (auto& group : self.weights_.param_groups())
          static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
        if (self.net_->options().auxiliary_skip) self.net_->set_auxiliary_skip_weight(skip);
      }
    } restore{*this, learning_rate(), net.auxiliary_skip_weight()};
    const double tune_lr =
        options.learning_rate > 0.0 ? options.learning_rate : options_.weights.learning_rate / 10.0;
    for (auto& group : weights_.param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(tune_lr);
    if (net.options().auxiliary_skip) net.set_auxiliary_skip_weight(0.0);
    const auto accuracy = [&] {
      if (options.score) return options.score();
      torch::NoGradGuard no_grad;
      net.train();
      std::int64_t right = 0, total = 0, b = 0;
      for (std::int64_t start = 0; start < valid.size(); start += batch, ++b) {
        if (options.eval_batches > 0 && b >= options.eval_batches) break;
        if (stop.stop_requested()) detail::throw_interrupted("DARTS-PT's selection");
        const auto part = valid.slice(start, std::min(valid.size(), start + batch));
        const auto target = part.targets.to(device);
        right += correct(net.forward(part.inputs.to(device)), target);
        total += target.size(0);
      }
      return static_cast<double>(right) / static_cast<double>(total);
    };
    const std::int64_t tune_steps =
        options.tune_epochs *
        (options_.weights.steps > 0 ? options_.weights.steps : tune_train.batches());
    const auto tune = [&] {
      for (std::int64_t i = 0; i < tune_steps; ++i) {
        if (stop.stop_requested()) detail::throw_interrupted("DARTS-PT's selection");
        const Batch t = tune_train.next(device);
        const Batch v = tune_valid.next(device);
        try {
          static_cast<Derived&>(*this).step(t, v);
        } catch (const NonFiniteLoss&) {
          if (!options_.weights.skip_nonfinite) throw;  // as search() does
        }
      }
    };
    // every decision up front, so that the last one is not followed by fine-tuning
    struct Decision {
      std::size_t kind, index;
      bool topology;
    };
    std::vector<Decision> todo;
    {
      std::vector<Decision> ops;
      for_each_kind([&]<std::size_t I>() {
        using C = typename S::template cell_at<I>;
        for (std::size_t e = 0; e < C::edge_count; ++e)
          if (!net.projected_op(I, e) && !net.edge_removed(I, e)) ops.push_back({I, e, false});
      });
      for (const auto i : random_order(ops.size())) todo.push_back(ops[i]);
      if (options.topology)
        for_each_kind([&]<std::size_t I>() {
          using C = typename S::template cell_at<I>;
          if constexpr (!C::dag.keeps_all()) {
            std::vector<Decision> nodes;
            for (std::size_t v = C::input_count; v < C::dag.node_count(); ++v)
              nodes.push_back({I, v, true});
            for (const auto i : random_order(nodes.size())) todo.push_back(nodes[i]);
          }
        });
    }
    for (std::size_t d = 0; d < todo.size(); ++d) {
      const Decision& decision = todo[d];
      PerturbationDecision report;
      report.cell_kind = decision.kind;
      report.edge_or_node = decision.index;
      report.topology = decision.topology;
      with_kind(decision.kind, [&]<std::size_t I>() {
        using C = typename S::template cell_at<I>;
        if (!decision.topology) {
          for (std::size_t k = 0; k < C::op_count; ++k) {
            if (!C::dag.keeps_all() && C::ops::is_zero[k]) continue;
            net.set_mask(I, decision.index, k);
            report.candidates.push_back(k);
            report.score_without.push_back(accuracy());
            net.clear_mask();
          }
          TORCH_CHECK(!report.candidates.empty(), "DARTS-PT: edge ", decision.index, " of a '",
                      C::name, "' cell has no op to choose (every op is a zero op)");
          const auto best = static_cast<std::size_t>(
              std::min_element(report.score_without.begin(), report.score_without.end()) -
              report.score_without.begin());
          report.kept = {report.candidates[best]};
          net.project_op(I, decision.index, report.candidates[best]);
        } else {
          for (std::size_t e = 0; e < C::edge_count; ++e)
            if (C::edges[e].to == decision.index && !net.edge_removed(I, e))
              report.candidates.push_back(e);
          if (report.candidates.size() <= C::dag.keep) {
            report.kept = report.candidates;
            return;
          }
          for (const std::size_t e : report.candidates) {
            net.set_mask(I, e, std::nullopt);
            report.score_without.push_back(accuracy());
            net.clear_mask();
          }
          std::vector<std::size_t> order(report.candidates.size());
          std::iota(order.begin(), order.end(), std::size_t{0});
          std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return report.score_without[a] < report.score_without[b];
          });
          for (std::size_t i = 0; i < order.size(); ++i) {
            if (i < C::dag.keep)
              report.kept.push_back(report.candidates[order[i]]);
            else
              net.remove_edge(I, report.candidates[order[i]]);
          }
          std::sort(report.kept.begin(), report.kept.end());
        }
      });
      if (options.on_decision) options.on_decision(report);
      if (d + 1 < todo.size()) tune();
    }
    return derive(net);
  }

  /// Epochs completed so far (by search, or restored by load).
  [[nodiscard]] std::int64_t epochs_done() const noexcept { return next_epoch_; }

  /// Saves the whole search state as entries `<prefix>.*` of `c`: the supernet (weights
  /// and architecture parameters), both optimizers, the epochs done and their reports,
  /// where both batch streams are, where an interrupted epoch stopped, and torch's CPU
  /// generator. Call it between epochs (in `on_epoch`) or after an interrupted search()
  /// returned; a search resumed from it ends as the uninterrupted one would.
  void save(Checkpoint& c, const std::string& prefix) const {
    c.put_text(prefix + ".strategy", Derived::strategy_name);
    c.put(prefix + ".supernet", *net_);
    c.put(prefix + ".weight_optimizer", weights_);
    c.put(prefix + ".arch_optimizer", arch_);
    c.put_int(prefix + ".epochs_done", next_epoch_);
    c.put_int(prefix + ".step", step_);
    // an interrupted search goes on once loaded: only the early stop ends it
    c.put_int(prefix + ".stopped", progress_.stop == StopReason::identity_ops ? 1 : 0);
    c.put_text(prefix + ".epochs", epoch_lines(progress_.epochs));
    partial_.save(c, prefix + ".partial_epoch");
    if (train_stream_) {
      train_stream_->save(c, prefix + ".train_stream");
      valid_stream_->save(c, prefix + ".valid_stream");
    } else {
      TORCH_CHECK(pending_.has_value(),
                  "save() before search(): nothing to resume yet (call it in on_epoch)");
      detail::copy_stream(*pending_, "pending.train_stream", c, prefix + ".train_stream");
      detail::copy_stream(*pending_, "pending.valid_stream", c, prefix + ".valid_stream");
    }
    c.put_torch_rng(prefix + ".torch_rng");
  }

  /// Restores what save() wrote (into a strategy built with the same space, sizes and
  /// options); the next search() goes on from there.
  void load(const Checkpoint& c, const std::string& prefix) {
    const auto& kind = c.get_text(prefix + ".strategy");
    TORCH_CHECK(kind == Derived::strategy_name, "the checkpoint holds a '", kind,
                "' search, not a '", Derived::strategy_name,
                "' one (resume with the strategy that wrote it)");
    const auto done = c.get_int(prefix + ".epochs_done");
    TORCH_CHECK(done >= 0 && done <= options_.epochs, "the checkpoint has ", done,
                " epochs done; this search plans ", options_.epochs,
                " (resume with the same number of epochs)");
    c.get(prefix + ".supernet", *net_);
    c.get(prefix + ".weight_optimizer", weights_);
    c.get(prefix + ".arch_optimizer", arch_);
    progress_ = {};
    progress_.epochs = parse_epoch_lines<S>(c.get_text(prefix + ".epochs"),
                                            "checkpoint entry '" + prefix + ".epochs'");
    TORCH_CHECK(static_cast<std::int64_t>(progress_.epochs.size()) == done, "checkpoint entry '",
                prefix, ".epochs' has ", progress_.epochs.size(), " reports for ", done,
                " epochs done");
    if (!progress_.epochs.empty()) progress_.genotype = progress_.epochs.back().genotype;
    progress_.stop =
        c.get_int(prefix + ".stopped") != 0 ? StopReason::identity_ops : StopReason::completed;
    next_epoch_ = done;
    step_ = c.get_int(prefix + ".step");
    partial_ = PartialEpoch::load(c, prefix + ".partial_epoch");
    TORCH_CHECK(partial_.steps == 0 || done < options_.epochs, "checkpoint entry '", prefix,
                ".partial_epoch' continues an epoch after the last");
    if (done > 0) set_epoch(std::min(done, options_.epochs - 1));
    pending_.emplace();  // only where the streams were
    detail::copy_stream(c, prefix + ".train_stream", *pending_, "pending.train_stream");
    detail::copy_stream(c, prefix + ".valid_stream", *pending_, "pending.valid_stream");
    train_stream_.reset();
    valid_stream_.reset();
    c.get_torch_rng(prefix + ".torch_rng");
  }

  /// Splits `train` by `options.train_portion` (weights on the first part, architecture
  /// on the rest) and runs the whole search.
  SearchResult<S> search(const Data& train, const Callbacks<S>& callbacks = {}) {
    auto [weights, architecture] = split(train, options_.train_portion);
    return search(weights, architecture, callbacks);
  }

 protected:
  Bilevel(Supernet<S, R> net, const Options& options)
      : net_(std::move(net)),
        options_(checked(options)),
        weights_(net_->weight_parameters(), torch::optim::SGDOptions(options.weights.learning_rate)
                                                .momentum(options.weights.momentum)
                                                .nesterov(options.weights.nesterov)
                                                .weight_decay(options.weights.weight_decay)),
        arch_(net_->arch_parameters(), torch::optim::AdamOptions(options.arch.learning_rate)
                                           .betas({options.arch.beta1, options.arch.beta2})
                                           .weight_decay(options.arch.weight_decay)) {}

  [[nodiscard]] torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& target) const {
    return options_.weights.loss ? options_.weights.loss(logits, target)
                                 : cross_entropy(logits, target);
  }

  /// Whether the current epoch takes architecture steps (ArchTraining::warmup_epochs done).
  [[nodiscard]] bool arch_steps_due() const noexcept {
    return epoch_ >= options_.arch.warmup_epochs;
  }

  /// One weight step on `train` with the architecture frozen; fills the train fields.
  void weight_step(const Batch& train, StepReport& report) {
    FreezeGuard frozen(arch_list());
    weights_.zero_grad();
    const auto logits = net_->forward(train.data);
    const auto l = loss(logits, train.target);
    check_finite(l, "weight");
    l.backward();
    if (options_.weights.grad_clip > 0.0)
      torch::nn::utils::clip_grad_norm_(weight_list(), options_.weights.grad_clip);
    weights_.step();
    report.train_loss = l.template item<double>();
    report.train_correct = correct(logits, train.target);
    report.train_count = train.target.size(0);
  }

  /// Applies an architecture gradient with the architecture optimizer, plus the gradient of
  /// the Beta-Decay regularizer when ArchTraining::beta_decay is on.
  void apply_arch_gradient(std::vector<torch::Tensor> grads) {
    const double lambda = beta_decay_weight();
    if (lambda > 0.0) {
      // the regularizer's gradient by autograd (it reaches the op parameters only, not
      // PC-DARTS's edge weights, which follow them in arch_list())
      std::vector<torch::Tensor> alphas(
          arch_list().begin(), arch_list().begin() + static_cast<std::ptrdiff_t>(std::min(
                                                         arch_list().size(), S::cell_count)));
      const auto extra = torch::autograd::grad({beta_decay_loss(alphas) * lambda}, alphas);
      for (std::size_t i = 0; i < extra.size(); ++i) grads[i] = grads[i] + extra[i];
    }
    // one check (one device sync) over every cell kind's gradient
    torch::Tensor finite;
    for (const auto& g : grads) {
      auto f = torch::isfinite(g).all();
      finite = finite.defined() ? finite.logical_and(f) : f;
    }
    if (finite.defined() && !finite.template item<bool>()) {
      std::string what = "the architecture gradient is not finite at epoch ";
      what += std::to_string(epoch_ + 1);
      detail::throw_non_finite(std::move(what));
    }
    auto& alphas = arch_list();
    for (std::size_t i = 0; i < alphas.size(); ++i) alphas[i].mutable_grad() = grads[i].detach();
    arch_.step();
  }

  // The two parameter groups, as the optimizers hold them (not filtered again per step).
  [[nodiscard]] std::vector<torch::Tensor>& weight_list() {
    return weights_.param_groups().front().params();
  }
  [[nodiscard]] std::vector<torch::Tensor>& arch_list() {
    return arch_.param_groups().front().params();
  }

  void check_finite(const torch::Tensor& l, const char* step) const {
    const double v = l.template item<double>();
    if (std::isfinite(v)) return;
    std::string what = "the ";
    what += step;
    what += " loss is not finite (";
    what += std::to_string(v);
    what += ") at epoch ";
    what += std::to_string(epoch_ + 1);
    detail::throw_non_finite(std::move(what));
  }

  Supernet<S, R> net_;
  Options options_;
  torch::optim::SGD weights_;
  torch::optim::Adam arch_;
  std::int64_t epoch_ = 0;

 private:
  SearchResult<S> progress_;
  std::int64_t next_epoch_ = 0;
  std::int64_t step_ = 0;
  std::optional<BatchStream> train_stream_;
  std::optional<BatchStream> valid_stream_;
  std::optional<Checkpoint> pending_;
  PartialEpoch partial_;  // where an interrupted epoch stopped

  [[nodiscard]] std::int64_t steps_per_epoch() const {
    return options_.weights.steps > 0 ? options_.weights.steps : train_stream_->batches();
  }
  void set_arch_learning_rate(std::int64_t steps_per_epoch) {
    const double lr =
        scaled_arch_learning_rate(options_.arch.learning_rate, options_.arch.reference_steps,
                                  planned_arch_steps(steps_per_epoch));
    for (auto& group : arch_.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }

  // DARTS-PT masks op weights: refuse, before anything changes, a relaxation whose mix has none
  // (or runs sampled paths), asked in evaluation mode so that no noise is drawn
  void check_weighs_every_op() {
    for_each_kind([&]<std::size_t I>() {
      using C = typename S::template cell_at<I>;
      torch::NoGradGuard no_grad;
      const auto mix = net_->relaxation().mix(
          net_->alpha_at(I),
          MixContext{I, C::edge_count, C::op_count, false, C::edges.data(),
                     detail::learns_edge_weights<R>() ? net_->beta_at(I) : torch::Tensor()});
      TORCH_CHECK(mix.weights.defined() && mix.active.empty(), Derived::display_name,
                  "::derive_by_perturbation (DARTS-PT) masks op weights: it needs a relaxation "
                  "that weighs every op (nas::relax::Softmax, Dirichlet, PartialChannel); this "
                  "one runs sampled paths (GDAS: derive by argmax)");
    });
  }

  template <class F>
  static void for_each_kind(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }
    (std::make_index_sequence<S::cell_count>{});
  }
  template <class F>
  static void with_kind(std::size_t kind, F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((kind == I ? (f.template operator()<I>(), 0) : 0), ...);
    }
    (std::make_index_sequence<S::cell_count>{});
  }
  // 0 .. n-1 in an order drawn from torch's CPU generator
  static std::vector<std::size_t> random_order(std::size_t n) {
    std::vector<std::size_t> out;
    if (n == 0) return out;
    const auto p = torch::randperm(static_cast<std::int64_t>(n), torch::kLong).contiguous();
    for (std::int64_t i = 0; i < p.numel(); ++i)
      out.push_back(static_cast<std::size_t>(p.data_ptr<std::int64_t>()[i]));
    return out;
  }

  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  static const Options& checked(const Options& o) {
    TORCH_CHECK(o.epochs > 0, "epochs must be positive; got ", o.epochs);
    o.weights.validate(Derived::display_name);
    o.arch.validate(Derived::display_name);
    TORCH_CHECK(o.arch.warmup_epochs < o.epochs, Derived::display_name, ": arch.warmup_epochs (",
                o.arch.warmup_epochs, ") must be less than epochs (", o.epochs,
                "), or no architecture step runs; shorten the warm-up or search longer");
    TORCH_CHECK(o.train_portion > 0.0 && o.train_portion < 1.0,
                "train_portion must be in (0, 1); got ", o.train_portion);
    return o;
  }
  static std::size_t max_identity_per_cell(const Genotype<S>& g) {
    std::size_t m = 0;
    g.for_each_cell([&](const auto& c) { m = std::max(m, detail::identity_count(c)); });
    return m;
  }
};

}  // namespace nas::detail
