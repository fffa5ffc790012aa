#pragma once
/// @file
/// A trained nas::Network out of nas and back: nas::state_dict (its tensors by name, in nas's
/// names or in the names of the reference code its layout follows), nas::export_network (one
/// file that Python's `torch.load` opens: the state dict, the genotype and the sizes),
/// nas::import_network and nas::load_state_dict (the way back, every name and shape checked
/// before any weight changes). docs/export.md.
///
/// GCC 12 at -O2 or -O3 with -Wnull-dereference warns inside LibTorch's own header
/// (ATen/core/ivalue_inl.h, IValue::toComplexDouble inlined into c10::Dict's key hash) in any
/// file that builds or searches a c10::Dict, as these functions do: a false positive that a
/// pragma here cannot silence (the function is LibTorch's, parsed before this header). Compile
/// such a file with -Wno-null-dereference (nas's own build does: examples/CMakeLists.txt).

#include <torch/nn/module.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>
#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nas/core/version.hpp"
#include "nas/layout/layout.hpp"
#include "nas/layout/stack.hpp"
#include "nas/nn/network.hpp"
#include "nas/space/format.hpp"
#include "nas/space/genotype.hpp"
#include "nas/train/atomic_file.hpp"

namespace nas {

/// Which names nas::state_dict gives a network's tensors.
enum class StateNames : std::uint8_t {
  /// the reference code's where the space's layout declares them (nas::has_reference_names: the
  /// DARTS layout gives DARTS's `model.py` names), nas's otherwise
  automatic,
  /// nas's own: the module path LibTorch's `named_parameters()` gives, e.g.
  /// `cells.0.edge_0_2_sep_conv_3x3.depthwise_1.weight`
  nas,
  /// the layout's reference code's (a c10::Error where the layout declares none)
  reference,
};

/// Whether the layout of `S` names its networks' tensors as a reference implementation does: it
/// declares `template <class Net> static std::string reference_name(const Net&, std::string_view
/// nas_name)` and `static constexpr std::string_view reference_code` (what the names follow).
/// nas::layouts::Darts does (DARTS's `NetworkCIFAR` and `NetworkImageNet`).
template <class S>
concept has_reference_names = requires(const Network<S>& net, std::string_view name) {
  { layout_t<S>::reference_name(*net, name) } -> std::convertible_to<std::string>;
  { layout_t<S>::reference_code } -> std::convertible_to<std::string_view>;
};

namespace detail {
template <class S>
constexpr bool use_reference_names(StateNames names) {
  if constexpr (has_reference_names<S>)
    return names != StateNames::nas;
  else
    return false;
}

/// Every parameter and buffer of `m`, module by module (each module's own parameters, then its
/// buffers, then its children's): the order of PyTorch's `state_dict()`.
inline void collect_state(const torch::nn::Module& m, const std::string& prefix,
                          std::vector<std::pair<std::string, torch::Tensor>>& out) {
  for (const auto& p : m.named_parameters(/*recurse=*/false))
    out.emplace_back(prefix + p.key(), p.value());
  for (const auto& b : m.named_buffers(/*recurse=*/false))
    out.emplace_back(prefix + b.key(), b.value());
  for (const auto& c : m.named_children()) collect_state(*c.value(), prefix + c.key() + ".", out);
}

[[nodiscard]] inline std::string read_file_bytes(const std::filesystem::path& file,
                                                 const char* what) {
  std::error_code ec;
  TORCH_CHECK(std::filesystem::is_regular_file(file, ec), what, ": '", file.string(),
              "' is not a file");
  std::ifstream in(file, std::ios::binary);
  TORCH_CHECK(in.good(), what, ": cannot open '", file.string(), "'");
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

/// The text member `key` of an exported file's dictionary.
[[nodiscard]] inline std::string export_text(const c10::impl::GenericDict& d, const char* key,
                                             const std::string& file) {
  const auto it = d.find(c10::IValue(std::string(key)));
  TORCH_CHECK(it != d.end() && it->value().isString(), "'", file, "' has no text entry '", key,
              "' (not a network nas exported, or a damaged one)");
  return it->value().toStringRef();
}
[[nodiscard]] inline std::int64_t export_int(const c10::impl::GenericDict& d, const char* key,
                                             const std::string& file) {
  const auto it = d.find(c10::IValue(std::string(key)));
  TORCH_CHECK(it != d.end() && it->value().isInt(), "'", file, "' has no integer entry '", key,
              "' (not a network nas exported, or a damaged one)");
  return it->value().toInt();
}

inline constexpr std::string_view skeleton_names[] = {"darts_cifar", "darts_imagenet", "nb201",
                                                      "mobile"};
}  // namespace detail

/// The bytes of `value` in the file format of Python's `torch.save` (a zip archive of `data.pkl`
/// and the tensors' storages), with plain pickled dictionaries and lists: torch::pickle_save tags
/// them with their TorchScript types (`torch.jit._pickle.restore_type_tag`), which Python's
/// `torch.load(weights_only=True)`, its default since PyTorch 2.6, refuses.
[[nodiscard]] inline std::vector<char> torch_save_bytes(const c10::IValue& value) {
  std::vector<char> pickled;
  torch::jit::Pickler pickler(
      [&](const char* bytes, std::size_t n) { pickled.insert(pickled.end(), bytes, bytes + n); },
      /*tensor_table=*/nullptr, /*type_renamer=*/nullptr, /*memoized_class_types=*/nullptr,
      /*get_tensor_id=*/nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(value);
  pickler.stop();
  std::vector<char> out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, std::size_t n) {
    const char* b = static_cast<const char*>(bytes);
    out.insert(out.end(), b, b + n);
    return n;
  });
  torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(),
                                     writer);
  writer.writeEndOfFile();
  return out;
}

/// The tensors of `net` (parameters and buffers, batch-norm statistics included) by name, in the
/// order of PyTorch's `state_dict()`. The tensors are `net`'s own (not copies). With the
/// reference names (nas::StateNames), a DARTS-space network's names are those of DARTS's
/// `model.py` (`stem.0.weight`, `cells.3._ops.5.op.1.weight`, `auxiliary_head.features.2.weight`,
/// `classifier.bias`, ...), so that a `NetworkCIFAR` built from the same genotype text accepts
/// them in `load_state_dict`.
template <search_space S>
[[nodiscard]] std::vector<std::pair<std::string, torch::Tensor>> state_dict(
    const Network<S>& net, StateNames names = StateNames::automatic) {
  if constexpr (!has_reference_names<S>)
    TORCH_CHECK(names != StateNames::reference,
                "nas::state_dict: this space's layout declares no reference names (give it "
                "reference_name and reference_code, see nas::has_reference_names); use "
                "StateNames::nas");
  std::vector<std::pair<std::string, torch::Tensor>> out;
  detail::collect_state(*net, "", out);
  if constexpr (has_reference_names<S>) {
    if (detail::use_reference_names<S>(names))
      for (auto& [name, t] : out) name = layout_t<S>::reference_name(*net, name);
  }
  return out;
}

/// Options of nas::export_network.
struct ExportOptions {
  StateNames names = StateNames::automatic;  ///< the tensors' names (nas::state_dict)
};

/// Writes `net` to `file` (atomically: nas::write_atomically) as one dictionary that Python's
/// `torch.load(file)` opens (its default `weights_only=True` included) and `torch::pickle_load`
/// reads:
///
/// | key              | value                                                              |
/// |------------------|--------------------------------------------------------------------|
/// | `format`         | `"nas-network"`                                                    |
/// | `format_version` | `1`                                                                |
/// | `nas_version`    | the nas that wrote it, e.g. `"0.2.0"`                              |
/// | `genotype`       | nas::to_string of the genotype (DARTS text for the DARTS space)    |
/// | `genotype_json`  | nas::to_json of the genotype                                       |
/// | `names`          | `"nas"` or the layout's reference code (`"DARTS model.py"`)        |
/// | `stack`          | the nas::Stack: `layers`, `channels`, `classes`, `input_channels`,
/// `auxiliary` (0/1), `skeleton`, `stem_multiplier` | | `state_dict`     | nas::state_dict(net,
/// options.names), tensors on the CPU            |
///
/// In Python: `model.load_state_dict(torch.load(file)["state_dict"])`. With DARTS's names the
/// `_ops` index of a cell follows the order of the (op, input) pairs in `genotype`: build the
/// reference network from that text (nas writes each node's pairs by input), not from another
/// copy of the genotype whose pairs are in another order.
template <search_space S>
void export_network(const Network<S>& net, const std::filesystem::path& file,
                    const ExportOptions& options = {}) {
  const bool reference = detail::use_reference_names<S>(options.names);
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert(std::string("format"), std::string("nas-network"));
  d.insert(std::string("format_version"), std::int64_t{1});
  d.insert(std::string("nas_version"), std::string(version));
  d.insert(std::string("genotype"), to_string(net->genotype()));
  d.insert(std::string("genotype_json"), to_json(net->genotype()));
  std::string names = "nas";
  if constexpr (has_reference_names<S>)
    if (reference) names = std::string(layout_t<S>::reference_code);
  d.insert(std::string("names"), names);
  const Stack& s = net->stack();
  c10::impl::GenericDict stack(c10::StringType::get(), c10::AnyType::get());
  stack.insert(std::string("layers"), s.layers);
  stack.insert(std::string("channels"), s.channels);
  stack.insert(std::string("classes"), s.classes);
  stack.insert(std::string("input_channels"), s.input_channels);
  stack.insert(std::string("auxiliary"), std::int64_t{s.auxiliary ? 1 : 0});
  stack.insert(std::string("skeleton"),
               std::string(detail::skeleton_names[static_cast<std::size_t>(s.skeleton)]));
  stack.insert(std::string("stem_multiplier"), s.stem_multiplier);
  d.insert(std::string("stack"), stack);
  c10::Dict<std::string, torch::Tensor> tensors;
  for (const auto& [name, t] : state_dict(net, options.names)) {
    TORCH_CHECK(!tensors.contains(name), "nas::export_network: two tensors named '", name,
                "' (a layout's reference_name maps two names to one)");
    tensors.insert(name, t.detach().to(torch::kCPU).contiguous());
  }
  d.insert(std::string("state_dict"), tensors);
  const std::vector<char> bytes = torch_save_bytes(c10::IValue(d));
  write_atomically(file, std::string_view(bytes.data(), bytes.size()));
}

namespace detail {
/// The dictionary of a file torch.save / torch::pickle_save wrote; c10::Error naming the file
/// for anything else (LibTorch's reader's own exceptions included).
[[nodiscard]] inline c10::impl::GenericDict read_export_dict(const std::filesystem::path& file,
                                                             const char* what) {
  const std::string bytes = read_file_bytes(file, what);
  c10::IValue v;
  try {
    v = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::exception& e) {
    const std::string m = e.what();
    TORCH_CHECK(false, what, ": '", file.string(),
                "' is not a file torch.save or nas::export_network wrote, or it is damaged (",
                m.substr(0, m.find('\n')), ")");
  }
  TORCH_CHECK(v.isGenericDict(), what, ": '", file.string(), "' holds a ", v.tagKind(),
              ", not a dictionary (a state dict saved from Python must be a "
              "plain dict: torch.save(dict(model.state_dict()), file))");
  return v.toGenericDict();
}

/// The tensors of a state dictionary, by name.
[[nodiscard]] inline std::vector<std::pair<std::string, torch::Tensor>> export_tensors(
    const c10::impl::GenericDict& d, const std::string& file) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& e : d) {
    TORCH_CHECK(e.key().isString() && e.value().isTensor(), "'", file,
                "': the state dict holds an entry that is not a tensor named by a string (a "
                "state dict saved from Python must be a plain dict, alone or as 'state_dict': "
                "torch.save(dict(model.state_dict()), file); LibTorch reads an OrderedDict as "
                "None)");
    out.emplace_back(e.key().toStringRef(), e.value().toTensor());
  }
  return out;
}

inline void load_named_state(const std::vector<std::pair<std::string, torch::Tensor>>& mine,
                             const std::vector<std::pair<std::string, torch::Tensor>>& given,
                             const std::string& file) {
  std::unordered_map<std::string, torch::Tensor> by_name;
  for (const auto& [n, g] : given) by_name.emplace(n, g);
  std::unordered_set<std::string> wanted;
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, t] : mine) {
    wanted.insert(name);
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      missing.push_back(name);
      continue;
    }
    const torch::Tensor& g = it->second;
    if (g.sizes() != t.sizes() || g.scalar_type() != t.scalar_type()) {
      std::ostringstream m;
      m << name << " (file " << g.sizes() << " " << g.scalar_type() << ", network " << t.sizes()
        << " " << t.scalar_type() << ")";
      mismatched.push_back(m.str());
    }
  }
  for (const auto& [n, g] : given)
    if (!wanted.contains(n)) unexpected.push_back(n);
  const auto list = [](const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < 3; ++i) {
      if (i > 0) out += ", ";
      out += names[i];
    }
    if (names.size() > 3) out += ", ... (" + std::to_string(names.size()) + " in all)";
    return out;
  };
  TORCH_CHECK(missing.empty() && unexpected.empty() && mismatched.empty(), "'", file,
              "' does not fit this network (nothing was loaded): ",
              missing.empty() ? "" : "missing " + list(missing) + "; ",
              unexpected.empty() ? "" : "unexpected " + list(unexpected) + "; ",
              mismatched.empty() ? "" : "other shape or type: " + list(mismatched) + "; ",
              "build the network from the file's own genotype and sizes (nas::import_network)");
  torch::NoGradGuard no_grad;
  for (const auto& [name, t] : mine) t.copy_(by_name.at(name));
}
}  // namespace detail

namespace detail {
template <search_space S>
void load_state_from(Network<S>& net, const c10::impl::GenericDict& d, const std::string& file) {
  const auto it = d.find(c10::IValue(std::string("state_dict")));
  const auto format = d.find(c10::IValue(std::string("format")));
  const bool nas_file = format != d.end() && format->value().isString() &&
                        format->value().toStringRef() == "nas-network";
  std::vector<std::pair<std::string, torch::Tensor>> given;
  StateNames names = StateNames::nas;
  if (nas_file) {
    TORCH_CHECK(it != d.end() && it->value().isGenericDict(), "'", file,
                "': its 'state_dict' entry is missing or not a dictionary");
    given = export_tensors(it->value().toGenericDict(), file);
    const std::string recorded = export_text(d, "names", file);
    if (recorded != "nas") {
      if constexpr (has_reference_names<S>) {
        TORCH_CHECK(recorded == layout_t<S>::reference_code, "'", file, "' names its tensors as ",
                    recorded, "; this network's layout follows ", layout_t<S>::reference_code);
        names = StateNames::reference;
      } else {
        TORCH_CHECK(false, "'", file, "' names its tensors as ", recorded,
                    "; this network's layout declares no reference names");
      }
    }
  } else {
    // saved from Python: a plain dict of tensors, or a checkpoint dict that holds one as
    // 'state_dict' (beside 'epoch', an optimizer's state, ...); in the reference names unless
    // every name is one of nas's own
    given = export_tensors(
        it != d.end() && it->value().isGenericDict() ? it->value().toGenericDict() : d, file);
    if constexpr (has_reference_names<S>) {
      std::unordered_set<std::string> ours;
      for (const auto& [n, t] : state_dict(net, StateNames::nas)) ours.insert(n);
      for (const auto& [n, t] : given)
        if (!ours.contains(n)) names = StateNames::reference;
    }
  }
  load_named_state(state_dict(net, names), given, file);
}

}  // namespace detail

/// Loads the tensors in `file` into `net`: a file nas::export_network wrote (its `state_dict`, in
/// the names it records), or a plain dictionary of tensors saved with Python's `torch.save`,
/// alone or as the `state_dict` entry of a checkpoint dictionary (`torch.save(dict(
/// model.state_dict()), file)`: LibTorch's reader does not rebuild the OrderedDict that
/// `state_dict()` returns), in nas's names or in the reference names of the layout. Every name and
/// shape is checked first: a missing, unexpected or mis-shaped tensor is named in a c10::Error and
/// `net` is left unchanged.
template <search_space S>
void load_state_dict(Network<S>& net, const std::filesystem::path& file) {
  detail::load_state_from(net, detail::read_export_dict(file, "nas::load_state_dict"),
                          file.string());
}

/// The network `file` holds (nas::export_network wrote it): built from its genotype and sizes,
/// its tensors loaded and checked (nas::load_state_dict), on `device`, in eval mode. A file of
/// another space, format or a damaged one is refused by a c10::Error naming it.
template <search_space S>
[[nodiscard]] Network<S> import_network(const std::filesystem::path& file,
                                        torch::Device device = torch::kCPU);

namespace detail {
/// nas::import_network of a file already read into `d` (`f` names it in messages).
template <search_space S>
[[nodiscard]] Network<S> import_from(const c10::impl::GenericDict& d, const std::string& f,
                                     torch::Device device) {
  TORCH_CHECK(detail::export_text(d, "format", f) == "nas-network", "'", f,
              "' is not a network nas::export_network wrote");
  const auto v = detail::export_int(d, "format_version", f);
  TORCH_CHECK(v == 1, "'", f, "' is of network format ", v, " (written by nas ",
              detail::export_text(d, "nas_version", f), "); this nas ", version,
              " reads format 1: use a newer nas");
  Genotype<S> genotype;
  try {
    genotype = parse_json<S>(detail::export_text(d, "genotype_json", f));
  } catch (const std::exception& e) {
    const std::string m = e.what();
    TORCH_CHECK(false, "'", f, "' holds a genotype this space cannot read (another space?): ",
                m.substr(0, m.find('\n')));
  }
  const auto it = d.find(c10::IValue(std::string("stack")));
  TORCH_CHECK(it != d.end() && it->value().isGenericDict(), "'", f, "' has no 'stack' entry");
  const auto st = it->value().toGenericDict();
  Stack s;
  s.layers = detail::export_int(st, "layers", f);
  s.channels = detail::export_int(st, "channels", f);
  s.classes = detail::export_int(st, "classes", f);
  s.input_channels = detail::export_int(st, "input_channels", f);
  s.auxiliary = detail::export_int(st, "auxiliary", f) != 0;
  s.stem_multiplier = detail::export_int(st, "stem_multiplier", f);
  const std::string skeleton = detail::export_text(st, "skeleton", f);
  bool known = false;
  for (std::size_t i = 0; i < std::size(detail::skeleton_names); ++i)
    if (skeleton == detail::skeleton_names[i]) {
      s.skeleton = static_cast<Skeleton>(i);
      known = true;
    }
  TORCH_CHECK(known, "'", f, "' names an unknown skeleton '", skeleton, "'");
  TORCH_CHECK(s.layers > 0 && s.layers <= 100000 && s.channels > 0 && s.channels <= 65536 &&
                  s.classes > 0 && s.classes <= 10000000 && s.input_channels > 0 &&
                  s.input_channels <= 65536 && s.stem_multiplier > 0 && s.stem_multiplier <= 1024,
              "'", f, "' holds sizes out of range");
  std::optional<Network<S>> built;
  try {
    built.emplace(genotype, s);
  } catch (const std::exception& e) {
    const std::string m = e.what();
    TORCH_CHECK(false, "'", f,
                "' holds sizes this space's layout does not build: ", m.substr(0, m.find('\n')));
  }
  Network<S> net = std::move(*built);
  load_state_from(net, d, f);
  net->to(device);
  net->eval();
  return net;
}
}  // namespace detail

template <search_space S>
Network<S> import_network(const std::filesystem::path& file, torch::Device device) {
  return detail::import_from<S>(detail::read_export_dict(file, "nas::import_network"),
                                file.string(), device);
}

}  // namespace nas
