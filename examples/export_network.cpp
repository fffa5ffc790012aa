// export_network: a trained network out to Python PyTorch and back (docs/export.md).
//
//   export_network DIR            trains DARTS V2 (with DARTS's auxiliary head) and an
//   NAS-Bench-201
//                                 cell a few steps, exports both (DIR/darts.pt, DIR/nb201.pt: files
//                                 Python's torch.load opens) and writes DIR/io.pt: an input batch
//                                 and each network's logits on it, for tests/python/export_check.py
//   export_network DIR --check    loads DIR/python_state.pt (a plain state dict Python saved, in
//                                 DARTS's names) into the DARTS network and checks its logits
//
// The DARTS network's tensors carry the names of DARTS's model.py (NetworkCIFAR), so the
// reference network built from the file's genotype text takes them with load_state_dict.
#include <torch/serialize.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nas/nas.hpp>

namespace {

// A few SGD steps on random data, in training mode: weights and batch-norm statistics move away
// from their initial values, so the check below compares a trained network.
template <class Net>
void train_a_little(Net& net, const torch::Tensor& x, const torch::Tensor& y) {
  net->train();
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  for (int step = 0; step < 3; ++step) {
    sgd.zero_grad();
    auto [logits, aux] = net->forward_with_auxiliary(x);
    auto loss = torch::nn::functional::cross_entropy(logits, y);
    if (aux.defined()) loss = loss + 0.4 * torch::nn::functional::cross_entropy(aux, y);
    loss.backward();
    sgd.step();
  }
  net->eval();
}

void write_bytes(const std::filesystem::path& file, const std::vector<char>& bytes) {
  nas::write_atomically(file, std::string_view(bytes.data(), bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::filesystem::path dir = argc > 1 ? argv[1] : "exported";
    const bool check = argc > 2 && std::string(argv[2]) == "--check";
    std::filesystem::create_directories(dir);
    torch::manual_seed(0);
    const nas::Stack darts_stack{.layers = 5, .channels = 8, .classes = 10, .auxiliary = true};
    const auto x = torch::randn({4, 3, 32, 32});
    if (check) {
      // the network Python saved its state of: same genotype and sizes, weights from the file
      nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v2, darts_stack);
      nas::load_state_dict(net, dir / "darts.pt");
      net->eval();
      const auto ours = net->forward(x);
      nas::load_state_dict(net, dir / "python_state.pt");  // Python's, DARTS's names
      const auto theirs = net->forward(x);
      const double diff = (ours - theirs).abs().max().item<double>();
      std::printf("python_state.pt loaded by name and shape; logits differ by at most %.1e\n",
                  diff);
      return diff <= 1e-5 ? 0 : 1;
    }
    const auto y = torch::randint(10, {4}, torch::kLong);
    nas::Network<nas::spaces::darts> darts(nas::genotypes::darts_v2, darts_stack);
    train_a_little(darts, x, y);
    nas::export_network(darts, dir / "darts.pt");

    const auto nb201_genotype = nas::parse_nb201<nas::spaces::nb201>(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
        "skip_connect~2|");
    nas::Network<nas::spaces::nb201> nb201(
        nb201_genotype,
        nas::Stack{.layers = 1, .channels = 8, .classes = 10, .skeleton = nas::Skeleton::nb201});
    train_a_little(nb201, x, y);
    nas::export_network(nb201, dir / "nb201.pt");

    // the same networks read back: every name and shape checked, the same logits
    torch::NoGradGuard no_grad;
    auto darts_back = nas::import_network<nas::spaces::darts>(dir / "darts.pt");
    auto nb201_back = nas::import_network<nas::spaces::nb201>(dir / "nb201.pt");
    const auto darts_logits = darts->forward(x);
    const auto nb201_logits = nb201->forward(x);
    const bool same = torch::equal(darts_back->forward(x), darts_logits) &&
                      torch::equal(nb201_back->forward(x), nb201_logits);

    c10::impl::GenericDict io(c10::StringType::get(), c10::AnyType::get());
    io.insert(std::string("input"), x);
    io.insert(std::string("darts_logits"), darts_logits);
    io.insert(std::string("nb201_logits"), nb201_logits);
    write_bytes(dir / "io.pt", nas::torch_save_bytes(c10::IValue(io)));

    {
      // docs/export.md: DARTS V2 at its published size, out and back
      const std::filesystem::path file = dir / "darts_v2.pt";
      nas::Network<nas::spaces::darts> net(
          nas::genotypes::darts_v2, nas::Stack{.layers = 20, .channels = 36, .auxiliary = true});
      nas::export_network(net, file);                              // atomic write
      auto again = nas::import_network<nas::spaces::darts>(file);  // eval mode, on the CPU
      nas::load_state_dict(net, file);  // or a plain dict of tensors Python saved
      std::printf("darts_v2.pt: %lld parameters, %zu tensors\n",
                  static_cast<long long>(nas::parameter_count(*again)),
                  nas::state_dict(again).size());
    }
    const auto names = nas::state_dict(darts);
    std::printf("darts.pt: %zu tensors in DARTS's names, e.g. %s, %s\n", names.size(),
                names.front().first.c_str(), names[names.size() / 2].first.c_str());
    std::printf("nb201.pt: %zu tensors in nas's names\n", nas::state_dict(nb201).size());
    std::printf("read back: %s logits\n", same ? "the same" : "DIFFERENT");
    return same ? 0 : 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "export_network: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_network: %s\n", e.what());
    return 1;
  }
}
