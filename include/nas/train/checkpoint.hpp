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

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "nas/core/random.hpp"
#include "nas/core/version.hpp"
#include "nas/train/atomic_file.hpp"

namespace nas {

namespace detail {
/// CRC-32 (IEEE 802.3, the checksum zip and PNG use) of `bytes`; crc32("123456789") is
/// 0xcbf43926.
/// `crc32(b, crc32(a))` is `crc32(a + b)`.
[[nodiscard]] inline std::uint32_t crc32(std::string_view bytes, std::uint32_t previous = 0) {
  static constexpr auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = ~previous;
  for (const char ch : bytes)
    crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xFFU] ^ (crc >> 8);
  return ~crc;
}
}  // namespace detail

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
    } catch (const std::exception& e) {  // LibTorch's reader on a malformed archive
      TORCH_CHECK(false, where(), ": module '", name, "' is corrupt: ", e.what());
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
    } catch (const std::exception& e) {  // LibTorch's reader on a malformed archive
      TORCH_CHECK(false, where(), ": optimizer '", name, "' is corrupt: ", e.what());
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
  /// Adds every entry of `other`, replacing entries of the same name (a strategy's state kept
  /// aside, written with the rest later).
  void merge(const Checkpoint& other) {
    for (const auto& [k, v] : other.tensors_) tensors_[k] = v;
    for (const auto& [k, v] : other.texts_) texts_[k] = v;
    for (const auto& [k, v] : other.archives_) archives_[k] = v;
  }
  [[nodiscard]] bool contains(const std::string& name) const {
    return tensors_.contains("tensor." + name) || texts_.contains("text." + name) ||
           archives_.contains("module." + name) || archives_.contains("optimizer." + name);
  }

  /// The checkpoint file's format: 2 frames the archive with a header line ("nas-checkpoint 2
  /// nas <version> bytes <n> crc32 <hex>", the CRC-32 of the header before it and of the
  /// archive) so that a truncated, extended or bit-flipped file is refused by name before any of
  /// it is read; 1 (nas 0.1.0) is the bare archive, still read.
  static constexpr std::int64_t format = 2;

  /// The file's bytes: the header line, then torch's archive of every entry.
  [[nodiscard]] std::string bytes() const {
    torch::serialize::OutputArchive out;
    out.write("nas_checkpoint_version", torch::tensor(format));
    for (const auto& [k, t] : tensors_) out.write(k, t);
    for (const auto& [k, s] : texts_) out.write(k, c10::IValue(s));
    for (const auto& [k, b] : archives_) out.write(k, c10::IValue(b));
    std::ostringstream os;
    out.save_to(os);
    const std::string payload = os.str();
    // the checksum covers the header before it too: a flipped bit anywhere is found
    std::string file = std::string(magic) + " " + std::to_string(format) + " nas " +
                       std::string(nas::version) + " bytes " + std::to_string(payload.size()) +
                       " crc32 ";
    char crc[9];
    std::snprintf(crc, sizeof crc, "%08x",
                  static_cast<unsigned>(detail::crc32(payload, detail::crc32(file))));
    file += crc;
    file += '\n';
    file += payload;
    return file;
  }

  /// Writes the checkpoint to `path` atomically (nas::write_atomically): a failed write leaves
  /// the previous checkpoint whole and throws a c10::Error naming the file and the cause.
  void save(const std::filesystem::path& path) const { write_atomically(path, bytes()); }

  /// Reads a checkpoint written by save(). Throws a c10::Error naming the file and what is wrong
  /// when it is missing, unreadable, empty, truncated or extended, corrupt (its checksum does not
  /// match), of a newer format, or not a nas checkpoint; nothing is read into any state then.
  [[nodiscard]] static Checkpoint load(const std::filesystem::path& path) {
    TORCH_CHECK(std::filesystem::exists(path), "no checkpoint at '", path.string(), "'");
    TORCH_CHECK(!std::filesystem::is_directory(path), "'", path.string(),
                "' is a folder, not a checkpoint file");
    std::ifstream is(path, std::ios::binary);
    TORCH_CHECK(is.good(), "cannot read the checkpoint '", path.string(), "'");
    std::ostringstream content;
    content << is.rdbuf();
    TORCH_CHECK(!is.bad(), "reading the checkpoint '", path.string(), "' failed");
    return from_bytes(content.str(), path.string());
  }

  /// Reads a checkpoint from the bytes of its file (what bytes() returned); `name` stands for the
  /// file in messages. The checks and errors of load().
  [[nodiscard]] static Checkpoint from_bytes(std::string_view file, const std::string& name) {
    const std::string quoted = "'" + name + "'";
    TORCH_CHECK(!file.empty(), quoted,
                " is empty: not a checkpoint (a write that never finished?)");
    std::string_view payload = file;
    if (!file.starts_with(legacy_magic)) payload = framed_payload(file, quoted);
    Checkpoint c;
    c.path_ = name;
    torch::serialize::InputArchive in;
    // LibTorch's reader throws c10::Error, but also std::out_of_range and others, on a malformed
    // archive (found by the fuzz harness `archive`): every one becomes a nas error naming the file
    const auto readable = [&](const std::exception& e) {
      const auto* t = dynamic_cast<const c10::Error*>(&e);
      TORCH_CHECK(false, quoted, " is not a readable checkpoint (truncated or another format): ",
                  t != nullptr ? t->what_without_backtrace() : e.what());
    };
    try {
      in.load_from(payload.data(), payload.size());
    } catch (const std::exception& e) {
      readable(e);
    }
    torch::Tensor inner_format;
    bool nas_file = false;
    try {
      nas_file = in.try_read("nas_checkpoint_version", inner_format);
    } catch (const std::exception& e) {
      readable(e);
    }
    TORCH_CHECK(nas_file, quoted, " is not a nas checkpoint");
    TORCH_CHECK(inner_format.numel() == 1 && inner_format.scalar_type() == torch::kLong &&
                    inner_format.item<std::int64_t>() >= 1 &&
                    inner_format.item<std::int64_t>() <= format,
                quoted, " is not a nas checkpoint of a format this nas reads (1 to ", format, ")");
    std::vector<std::pair<std::string, c10::IValue>> values;
    try {
      for (const auto& key : in.keys()) {
        if (key == "nas_checkpoint_version") continue;
        if (key.starts_with("tensor.")) {
          torch::Tensor t;
          in.read(key, t);
          c.tensors_[key] = t;
        } else {
          c10::IValue v;
          in.read(key, v);
          values.emplace_back(key, std::move(v));
        }
      }
    } catch (const std::exception& e) {
      readable(e);
    }
    for (auto& [key, v] : values) {
      TORCH_CHECK(v.isString(), quoted, ": entry '", key, "' is corrupt");
      (key.starts_with("text.") ? c.texts_ : c.archives_)[key] = v.toStringRef();
    }
    return c;
  }

 private:
  static constexpr std::string_view magic = "nas-checkpoint";
  static constexpr std::string_view legacy_magic = "PK\x03\x04";  // format 1: a bare zip archive

  // The archive inside a framed file, after its header is checked against the file.
  static std::string_view framed_payload(std::string_view file, const std::string& quoted) {
    TORCH_CHECK(file.starts_with(magic), quoted,
                " is not a nas checkpoint (it does not start with '", magic, "')");
    const auto eol = file.substr(0, 256).find('\n');
    TORCH_CHECK(eol != std::string_view::npos, quoted,
                " is truncated or malformed: its header line does not end");
    // nas-checkpoint <format> nas <version> bytes <n> crc32 <8 hex digits>
    std::vector<std::string_view> f;
    for (std::string_view rest = file.substr(0, eol); !rest.empty();) {
      const auto sp = std::min(rest.find(' '), rest.size());
      f.push_back(rest.substr(0, sp));
      rest.remove_prefix(std::min(sp + 1, rest.size()));
    }
    const auto number = [](std::string_view t, int base, std::uint64_t& v) {
      const auto r = std::from_chars(t.data(), t.data() + t.size(), v, base);
      return !t.empty() && r.ec == std::errc{} && r.ptr == t.data() + t.size();
    };
    std::uint64_t fmt = 0;
    TORCH_CHECK(f.size() >= 2 && f[0] == magic && number(f[1], 10, fmt), quoted,
                ": the checkpoint header has no format number");
    const std::string written_by =
        f.size() >= 4 && f[2] == "nas" ? std::string(f[3]) : std::string("an unknown version");
    TORCH_CHECK(fmt <= static_cast<std::uint64_t>(format), quoted, " has checkpoint format ", fmt,
                ", written by nas ", written_by, "; this nas (", nas::version,
                ") reads formats 1 to ", format, ": resume it with nas ", written_by, " or newer");
    std::uint64_t size = 0, crc = 0;
    TORCH_CHECK(fmt == static_cast<std::uint64_t>(format) && f.size() == 8 && f[2] == "nas" &&
                    f[4] == "bytes" && number(f[5], 10, size) && f[6] == "crc32" &&
                    f[7].size() == 8 && number(f[7], 16, crc),
                quoted, ": the checkpoint header is malformed: '", file.substr(0, eol), "'");
    const auto payload = file.substr(eol + 1);
    TORCH_CHECK(size == payload.size(), quoted,
                payload.size() < size ? " is truncated" : " is too long", ": its header promises ",
                size, " bytes of state and the file holds ", payload.size(),
                " (a copy or a write that did not finish?); use an intact copy");
    const auto covered = file.substr(0, eol - 8);  // the header up to its checksum
    TORCH_CHECK(detail::crc32(payload, detail::crc32(covered)) == crc, quoted,
                " is corrupt: its contents do not match the checksum in its header (a bit flipped "
                "on the disk or in a copy); use an intact copy");
    return payload;
  }

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
    try {
      a.load_from(it->second.data(), it->second.size());
    } catch (const std::exception& e) {
      const auto* t = dynamic_cast<const c10::Error*>(&e);
      TORCH_CHECK(false, where(), ": entry '", key,
                  "' is corrupt: ", t != nullptr ? t->what_without_backtrace() : e.what());
    }
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
