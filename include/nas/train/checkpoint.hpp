#pragma once
/// @file
/// Checkpoints: a search's state (modules, optimizers, tensors, texts, random generators)
/// in one file, written atomically, read back with errors that name what is missing.

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/types.h>

#include <torch/cuda.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nas/core/random.hpp"
#include "nas/train/atomic_file.hpp"

namespace nas {

/// The state of a search in one file: named modules (parameters and buffers), optimizers
/// (their state: momentum buffers, Adam moments, step counts), tensors, texts, integers and
/// random generator states. Written with torch's archive format through
/// nas::write_atomically; every read names the entry and the file when it is missing.
///
/// ```
/// nas::Checkpoint c;
/// c.put("net", *net);                 // a torch::nn::Module
/// c.put("weights_sgd", sgd);          // a torch::optim::Optimizer
/// c.put_int("epoch", epoch);
/// c.put_rng("sampler", rng);          // a nas::Rng
/// c.put_torch_rng("torch");           // torch's CPU generator
/// c.save(dir / "checkpoint.pt");
/// ...
/// auto r = nas::Checkpoint::load(dir / "checkpoint.pt");
/// r.get("net", *net); r.get("weights_sgd", sgd); epoch = r.get_int("epoch");
/// ```
class Checkpoint {
 public:
  /// Stores a module's parameters and buffers under `name`.
  void put(const std::string& name, const torch::nn::Module& module) {
    torch::serialize::OutputArchive a;
    module.save(a);
    put_archive("module." + name, a);
    texts_["text.shapes." + name] = shapes(module);
  }
  /// Stores an optimizer's state under `name`.
  void put(const std::string& name, const torch::optim::Optimizer& optimizer) {
    torch::serialize::OutputArchive a;
    optimizer.save(a);
    put_archive("optimizer." + name, a);
  }
  /// Stores a tensor (copied to the CPU).
  void put_tensor(const std::string& name, const torch::Tensor& t) {
    tensors_["tensor." + name] = t.detach().to(torch::kCPU).clone();
  }
  /// Stores a text (a history, options, a genotype).
  void put_text(const std::string& name, std::string_view text) {
    texts_["text." + name] = std::string(text);
  }
  /// Stores an integer.
  void put_int(const std::string& name, std::int64_t value) {
    put_text("int." + name, std::to_string(value));
  }
  /// Stores a nas::Rng's complete state (the standard's text form of the engine).
  void put_rng(const std::string& name, const Rng& rng) {
    std::ostringstream os;
    os << rng;
    put_text("rng." + name, os.str());
  }
  /// Stores the state of torch's default CPU generator (data order, initialization) and,
  /// on a machine with CUDA, of every GPU's default generator (Gumbel noise and dropout
  /// drawn on the GPU).
  void put_torch_rng(const std::string& name) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    put_tensor("torch_rng." + name, generator.get_state());
    for (std::int64_t i = 0; i < cuda_devices(); ++i)
      put_tensor("torch_rng." + name + ".cuda" + std::to_string(i),
                 at::globalContext()
                     .defaultGenerator(
                         c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(i)))
                     .get_state());
  }

  /// Restores a module stored with put(name, module): same structure needed.
  void get(const std::string& name, torch::nn::Module& module) const {
    // LibTorch's load would take tensors of any shape: compare first, change nothing on
    // a mismatch
    if (const auto it = texts_.find("text.shapes." + name); it != texts_.end()) {
      const std::string mine = shapes(module);
      if (mine != it->second) {
        std::string first = "?";
        std::size_t i = 0;
        while (i < mine.size() && i < it->second.size() && mine[i] == it->second[i]) ++i;
        const auto begin = mine.rfind('\n', i);
        const auto line = mine.substr(begin == std::string::npos ? 0 : begin + 1);
        first = line.substr(0, line.find('\n'));
        TORCH_CHECK(false, where(), ": module '", name,
                    "' does not match the module it is loaded into (another space, size or "
                    "strategy?): first difference at '",
                    first, "'");
      }
    }
    auto a = archive("module." + name);
    try {
      module.load(a);
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, where(), ": module '", name,
                  "' does not match the module it is loaded into (another space, size or "
                  "strategy?): ",
                  e.what_without_backtrace());
    }
  }
  /// Restores an optimizer stored with put(name, optimizer).
  void get(const std::string& name, torch::optim::Optimizer& optimizer) const {
    auto a = archive("optimizer." + name);
    try {
      optimizer.load(a);
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, where(), ": optimizer '", name,
                  "' does not match the optimizer it is loaded into: ", e.what_without_backtrace());
    }
  }
  [[nodiscard]] torch::Tensor get_tensor(const std::string& name) const {
    const auto it = tensors_.find("tensor." + name);
    TORCH_CHECK(it != tensors_.end(), where(), ": no tensor '", name, "'");
    return it->second;
  }
  [[nodiscard]] const std::string& get_text(const std::string& name) const {
    const auto it = texts_.find("text." + name);
    TORCH_CHECK(it != texts_.end(), where(), ": no entry '", name, "'");
    return it->second;
  }
  [[nodiscard]] std::int64_t get_int(const std::string& name) const {
    const auto& text = get_text("int." + name);
    std::size_t used = 0;
    std::int64_t v = 0;
    try {
      v = std::stoll(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    TORCH_CHECK(used == text.size() && !text.empty(), where(), ": entry '", name,
                "' is not an integer");
    return v;
  }
  /// Restores a nas::Rng stored with put_rng.
  void get_rng(const std::string& name, Rng& rng) const {
    std::istringstream is(get_text("rng." + name));
    Rng r;
    is >> r;
    TORCH_CHECK(!is.fail(), where(), ": generator state '", name, "' is corrupt");
    rng = r;
  }
  /// Restores torch's default CPU generator stored with put_torch_rng.
  void get_torch_rng(const std::string& name) const {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(get_tensor("torch_rng." + name));
    for (std::int64_t i = 0; i < cuda_devices(); ++i) {
      const auto key = "torch_rng." + name + ".cuda" + std::to_string(i);
      if (!contains(key)) continue;  // written on a machine without this GPU
      at::Generator g = at::globalContext().defaultGenerator(
          c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(i)));
      g.set_state(get_tensor(key));
    }
  }
  [[nodiscard]] bool contains(const std::string& name) const {
    return tensors_.contains("tensor." + name) || texts_.contains("text." + name) ||
           archives_.contains("module." + name) || archives_.contains("optimizer." + name);
  }

  /// Writes the checkpoint to `path` atomically (nas::write_atomically).
  void save(const std::filesystem::path& path) const {
    torch::serialize::OutputArchive out;
    out.write("nas_checkpoint_version", torch::tensor(std::int64_t{1}));
    for (const auto& [k, t] : tensors_) out.write(k, t);
    for (const auto& [k, s] : texts_) out.write(k, c10::IValue(s));
    for (const auto& [k, bytes] : archives_) out.write(k, c10::IValue(bytes));
    std::ostringstream os;
    out.save_to(os);
    write_atomically(path, os.str());
  }

  /// Reads a checkpoint written by save(). Throws a c10::Error naming the file when it is
  /// missing, truncated or not a nas checkpoint.
  [[nodiscard]] static Checkpoint load(const std::filesystem::path& path) {
    TORCH_CHECK(std::filesystem::exists(path), "no checkpoint at '", path.string(), "'");
    Checkpoint c;
    c.path_ = path.string();
    torch::serialize::InputArchive in;
    try {
      in.load_from(path.string());
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, "'", path.string(), "' is not a readable checkpoint (truncated or ",
                  "another format): ", e.what_without_backtrace());
    }
    torch::Tensor version;
    TORCH_CHECK(in.try_read("nas_checkpoint_version", version), "'", path.string(),
                "' is not a nas checkpoint");
    for (const auto& key : in.keys()) {
      if (key == "nas_checkpoint_version") continue;
      if (key.starts_with("tensor.")) {
        torch::Tensor t;
        in.read(key, t);
        c.tensors_[key] = t;
      } else {
        c10::IValue v;
        in.read(key, v);
        TORCH_CHECK(v.isString(), "'", path.string(), "': entry '", key, "' is corrupt");
        if (key.starts_with("text."))
          c.texts_[key] = v.toStringRef();
        else
          c.archives_[key] = v.toStringRef();
      }
    }
    return c;
  }

 private:
  static std::int64_t cuda_devices() {
    return at::globalContext().hasCUDA() ? static_cast<std::int64_t>(torch::cuda::device_count())
                                         : 0;
  }
  // One line per parameter and buffer: name and shape.
  static std::string shapes(const torch::nn::Module& module) {
    std::string out;
    const auto add = [&](const std::string& key, const torch::Tensor& t) {
      out += key;
      out += ' ';
      for (const auto d : t.sizes()) {
        out += std::to_string(d);
        out += 'x';
      }
      out += '\n';
    };
    for (const auto& p : module.named_parameters()) add(p.key(), p.value());
    for (const auto& b : module.named_buffers()) add(b.key(), b.value());
    return out;
  }
  void put_archive(const std::string& key, torch::serialize::OutputArchive& a) {
    std::ostringstream os;
    a.save_to(os);
    archives_[key] = os.str();
  }
  [[nodiscard]] torch::serialize::InputArchive archive(const std::string& key) const {
    const auto it = archives_.find(key);
    TORCH_CHECK(it != archives_.end(), where(), ": no entry '", key, "'");
    torch::serialize::InputArchive a;
    a.load_from(it->second.data(), it->second.size());
    return a;
  }
  [[nodiscard]] std::string where() const {
    return path_.empty() ? std::string("checkpoint") : "checkpoint '" + path_ + "'";
  }

  std::map<std::string, torch::Tensor> tensors_;
  std::map<std::string, std::string> texts_;
  std::map<std::string, std::string> archives_;
  std::string path_;
};

}  // namespace nas
