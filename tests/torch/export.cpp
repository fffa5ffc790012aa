// Export: a network's state dict in nas's and in DARTS's names, export_network / import_network
// round trips, and every file that does not fit refused by name with the network unchanged.
// (Python's side: tests/python/export_check.py, ctest python.export.)
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/train/export.hpp>
#include "temp_dir.hpp"

namespace {
namespace fs = std::filesystem;
using nas_test::TempDir;

const nas::Stack small_darts{.layers = 5, .channels = 8, .classes = 10, .auxiliary = true};

std::string read(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every tensor of `net`, copied.
template <class Net>
std::vector<torch::Tensor> snapshot(const Net& net) {
  std::vector<torch::Tensor> out;
  for (const auto& [n, t] : nas::state_dict(net, nas::StateNames::nas)) out.push_back(t.clone());
  return out;
}
template <class Net>
bool unchanged(const Net& net, const std::vector<torch::Tensor>& before) {
  const auto now = nas::state_dict(net, nas::StateNames::nas);
  if (now.size() != before.size()) return false;
  for (std::size_t i = 0; i < now.size(); ++i)
    if (!torch::equal(now[i].second, before[i])) return false;
  return true;
}

// Moves every batch-norm statistic and weight away from its initial value.
template <class Net>
void perturb(Net& net) {
  torch::NoGradGuard no_grad;
  for (auto& t : net->parameters()) t.add_(torch::randn_like(t) * 0.1);
  for (auto& b : net->buffers())
    if (b.is_floating_point()) b.add_(torch::rand_like(b) * 0.1);
}

}  // namespace

TEST_SUITE("export") {
  TEST_CASE("DARTS names: model.py's, one per tensor, every tensor") {
    nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v2, small_darts);
    const auto ours = nas::state_dict(net, nas::StateNames::nas);
    const auto theirs = nas::state_dict(net);  // automatic: DARTS's
    REQUIRE(ours.size() == theirs.size());
    CHECK(ours.size() == net->parameters().size() + net->buffers().size());
    std::set<std::string> names;
    for (std::size_t i = 0; i < theirs.size(); ++i) {
      names.insert(theirs[i].first);
      CHECK(theirs[i].second.is_same(ours[i].second));  // the same tensors, renamed
      CHECK(theirs[i].first.find("edge_") == std::string::npos);
    }
    CHECK(names.size() == theirs.size());
    // names as DARTS's model.py has them (NetworkCIFAR with DARTS V2)
    for (const char* n :
         {"stem.0.weight", "stem.1.running_mean", "cells.0.preprocess0.op.1.weight",
          "cells.0.preprocess1.op.2.weight",
          // normal cell: ('sep_conv_3x3', 0) first, its two blocks
          "cells.0._ops.0.op.1.weight", "cells.0._ops.0.op.2.weight", "cells.0._ops.0.op.3.bias",
          "cells.0._ops.0.op.5.weight", "cells.0._ops.0.op.6.weight",
          "cells.0._ops.0.op.7.num_batches_tracked",
          // the cell after a reduction: FactorizedReduce preprocessing
          "cells.2.preprocess0.conv_1.weight", "cells.2.preprocess0.conv_2.weight",
          "cells.2.preprocess0.bn.weight",
          // reduction cell (position 1): ('skip_connect', 2) of node 3 is the identity (no
          // tensors); dil_conv_3x3 is _ops.7 of the normal cell
          "cells.0._ops.7.op.1.weight", "cells.0._ops.7.op.3.running_var",
          "auxiliary_head.features.2.weight", "auxiliary_head.features.3.weight",
          "auxiliary_head.features.5.weight", "auxiliary_head.features.6.running_mean",
          "auxiliary_head.classifier.weight", "classifier.weight", "classifier.bias"})
      CHECK_MESSAGE(names.contains(n), n);
    // DARTS V2's normal cell: _ops.0 to _ops.7; skip_connect (index 5 and 6 in the written
    // order) has no tensors at stride 1
    CHECK_FALSE(names.contains("cells.0._ops.8.op.1.weight"));
    CHECK(nas::has_reference_names<nas::spaces::darts>);
    CHECK_FALSE(nas::has_reference_names<nas::spaces::nb201>);
  }

  TEST_CASE("DARTS names on the ImageNet skeleton and of the NASNet space's ops") {
    nas::Network<nas::spaces::darts> mobile(nas::genotypes::darts_v2,
                                            nas::Stack{.layers = 5,
                                                       .channels = 8,
                                                       .auxiliary = true,
                                                       .skeleton = nas::Skeleton::darts_imagenet});
    std::set<std::string> names;
    for (const auto& [n, t] : nas::state_dict(mobile)) names.insert(n);
    // NetworkImageNet: stem0 = Conv, BN, ReLU, Conv, BN; stem1 = ReLU, Conv, BN; the first cell's
    // preprocess0 reduces; the auxiliary head has no batch norm after its 2x2 convolution
    for (const char* n :
         {"stem0.0.weight", "stem0.1.running_var", "stem0.3.weight", "stem0.4.bias",
          "stem1.1.weight", "stem1.2.running_mean", "cells.0.preprocess0.conv_1.weight",
          "cells.0.preprocess0.bn.weight", "cells.0.preprocess1.op.1.weight",
          "auxiliary_head.features.5.weight", "auxiliary_head.classifier.weight"})
      CHECK_MESSAGE(names.contains(n), n);
    CHECK_FALSE(names.contains("auxiliary_head.features.6.weight"));
    // AmoebaNet-A's reduction cell has ('conv_7x1_1x7', 0) as its fourth op: model.py holds that
    // op as a bare Sequential (ReLU, 1x7, 7x1, BN); and sep_conv_7x7 as SepConv
    nas::Network<nas::spaces::nasnet> amoeba(nas::genotypes::amoebanet_a,
                                             nas::Stack{.layers = 5, .channels = 8});
    std::set<std::string> a;
    for (const auto& [n, t] : nas::state_dict(amoeba)) a.insert(n);
    bool conv_7x1 = false, sep_7x7 = false;
    for (const auto& n : a) {
      conv_7x1 = conv_7x1 || (n.starts_with("cells.1._ops.") && n.ends_with(".1.weight") &&
                              n.find(".op.") == std::string::npos);
      sep_7x7 = sep_7x7 || (n.starts_with("cells.1._ops.") && n.ends_with(".op.5.weight"));
    }
    CHECK(conv_7x1);
    CHECK(sep_7x7);
    for (const auto& n : a) CHECK_MESSAGE(n.find("edge_") == std::string::npos, n);
  }

  TEST_CASE("a stride-2 skip_connect's FactorizedReduce loses its reduce level") {
    // reduction cell with ('skip_connect', 0): stride 2 from input 0
    const auto g = nas::parse_darts<nas::spaces::darts>(
        "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
        "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
        "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), "
        "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
        "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, "
        "5])");
    nas::Network<nas::spaces::darts> net(g, small_darts);
    std::set<std::string> names;
    for (const auto& [n, t] : nas::state_dict(net)) names.insert(n);
    // cell 1 is the first reduction cell (5 layers: reductions at 1 and 3)
    CHECK(names.contains("cells.1._ops.0.conv_1.weight"));
    CHECK(names.contains("cells.1._ops.0.bn.running_mean"));
  }

  TEST_CASE("export_network then import_network: the same network, the same logits") {
    TempDir dir("nas_export_roundtrip");
    torch::manual_seed(1);
    nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v2, small_darts);
    perturb(net);
    net->eval();
    const auto x = torch::randn({2, 3, 32, 32});
    const auto logits = net->forward(x);
    nas::export_network(net, dir.path / "net.pt");
    auto back = nas::import_network<nas::spaces::darts>(dir.path / "net.pt");
    CHECK(back->genotype() == net->genotype());
    CHECK(back->stack().auxiliary);
    CHECK(back->stack().layers == 5);
    CHECK_FALSE(back->is_training());
    CHECK(torch::equal(back->forward(x), logits));

    // NAS-Bench-201: nas's names
    const auto g = nas::parse_nb201<nas::spaces::nb201>(
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|");
    nas::Network<nas::spaces::nb201> cell(
        g, nas::Stack{.layers = 1, .channels = 8, .skeleton = nas::Skeleton::nb201});
    perturb(cell);
    cell->eval();
    nas::export_network(cell, dir.path / "nb201.pt");
    auto cell_back = nas::import_network<nas::spaces::nb201>(dir.path / "nb201.pt");
    CHECK(torch::equal(cell_back->forward(x), cell->forward(x)));
    // the exported dict holds nas's names for a layout without reference names
    const auto text = read(dir.path / "nb201.pt");
    const auto d = torch::pickle_load(std::vector<char>(text.begin(), text.end())).toGenericDict();
    CHECK(d.at("names").toStringRef() == "nas");
    CHECK(d.at("genotype").toStringRef() == nas::to_string(g));
    CHECK(d.at("state_dict").toGenericDict().contains("classifier.weight"));
  }

  TEST_CASE(
      "load_state_dict: a plain dict in DARTS's names (as Python saves one), alone or in a "
      "checkpoint") {
    TempDir dir("nas_export_plain");
    torch::manual_seed(2);
    nas::Network<nas::spaces::darts> a(nas::genotypes::darts_v2, small_darts);
    nas::Network<nas::spaces::darts> b(nas::genotypes::darts_v2, small_darts);
    perturb(a);
    c10::Dict<std::string, torch::Tensor> plain;
    for (const auto& [n, t] : nas::state_dict(a)) plain.insert(n, t.clone());
    const auto bytes = nas::torch_save_bytes(c10::IValue(plain));
    nas::write_atomically(dir.path / "plain.pt", std::string_view(bytes.data(), bytes.size()));
    nas::load_state_dict(b, dir.path / "plain.pt");
    a->eval();
    b->eval();
    const auto x = torch::randn({2, 3, 32, 32});
    CHECK(torch::equal(a->forward(x), b->forward(x)));
    // {"state_dict": ..., "epoch": ...}, as a Python training script saves a checkpoint
    nas::Network<nas::spaces::darts> c(nas::genotypes::darts_v2, small_darts);
    c10::impl::GenericDict checkpoint(c10::StringType::get(), c10::AnyType::get());
    checkpoint.insert(std::string("state_dict"), plain);
    checkpoint.insert(std::string("epoch"), std::int64_t{7});
    const auto cb = nas::torch_save_bytes(c10::IValue(checkpoint));
    nas::write_atomically(dir.path / "ckpt.pt", std::string_view(cb.data(), cb.size()));
    nas::load_state_dict(c, dir.path / "ckpt.pt");
    c->eval();
    CHECK(torch::equal(a->forward(x), c->forward(x)));
  }

  TEST_CASE("what does not fit is refused by name and the network is left unchanged") {
    TempDir dir("nas_export_refuse");
    torch::manual_seed(3);
    nas::Network<nas::spaces::darts> v2(nas::genotypes::darts_v2, small_darts);
    perturb(v2);
    nas::export_network(v2, dir.path / "v2.pt");
    nas::Network<nas::spaces::darts> v1(nas::genotypes::darts_v1, small_darts);
    const auto before = snapshot(v1);
    // another genotype: other ops on the same positions
    CHECK_THROWS_WITH_AS(nas::load_state_dict(v1, dir.path / "v2.pt"),
                         doctest::Contains("does not fit this network (nothing was loaded)"),
                         c10::Error);
    CHECK(unchanged(v1, before));
    // other sizes: shapes named
    nas::Network<nas::spaces::darts> wide(
        nas::genotypes::darts_v2, nas::Stack{.layers = 5, .channels = 12, .auxiliary = true});
    CHECK_THROWS_WITH_AS(
        nas::load_state_dict(wide, dir.path / "v2.pt"),
        doctest::Contains("other shape or type: stem.0.weight (file [24, 3, 3, 3]"), c10::Error);
    // without the auxiliary head: its tensors are unexpected
    nas::Network<nas::spaces::darts> plain(nas::genotypes::darts_v2,
                                           nas::Stack{.layers = 5, .channels = 8});
    CHECK_THROWS_WITH_AS(nas::load_state_dict(plain, dir.path / "v2.pt"),
                         doctest::Contains("unexpected auxiliary_head."), c10::Error);
    // another space
    CHECK_THROWS_WITH_AS((void)nas::import_network<nas::spaces::nb201>(dir.path / "v2.pt"),
                         doctest::Contains("holds a genotype this space cannot read"), c10::Error);
    // truncated, not a file, not a dictionary
    const auto text = read(dir.path / "v2.pt");
    std::ofstream(dir.path / "cut.pt", std::ios::binary) << text.substr(0, text.size() / 2);
    CHECK_THROWS_WITH_AS((void)nas::import_network<nas::spaces::darts>(dir.path / "cut.pt"),
                         doctest::Contains("is not a file torch.save or nas::export_network wrote"),
                         c10::Error);
    CHECK_THROWS_WITH_AS((void)nas::import_network<nas::spaces::darts>(dir.path / "none.pt"),
                         doctest::Contains("is not a file"), c10::Error);
    const auto list = nas::torch_save_bytes(c10::IValue(std::vector<std::int64_t>{1, 2}));
    nas::write_atomically(dir.path / "list.pt", std::string_view(list.data(), list.size()));
    CHECK_THROWS_WITH_AS((void)nas::import_network<nas::spaces::darts>(dir.path / "list.pt"),
                         doctest::Contains("not a dictionary"), c10::Error);
    // a newer format
    c10::impl::GenericDict d =
        torch::pickle_load(std::vector<char>(text.begin(), text.end())).toGenericDict();
    d.insert_or_assign(std::string("format_version"), std::int64_t{2});
    const auto newer = nas::torch_save_bytes(c10::IValue(d));
    nas::write_atomically(dir.path / "newer.pt", std::string_view(newer.data(), newer.size()));
    CHECK_THROWS_WITH_AS((void)nas::import_network<nas::spaces::darts>(dir.path / "newer.pt"),
                         doctest::Contains("is of network format 2"), c10::Error);
    CHECK(unchanged(v1, before));
  }
}
