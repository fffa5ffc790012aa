// nas_fuzz: libFuzzer harnesses for every reader of outside bytes in nas, one binary (one build
// of the LibTorch headers) with the harness chosen by NAS_FUZZ_TARGET:
//
//   darts_text      nas::parse<darts>: DARTS genotype text (and the cells' own text)
//   nb201_text      nas::parse<nb201>: NAS-Bench-201 text
//   genotype_json   nas::parse_json on the DARTS and NB201 spaces
//   history_jsonl   nas::History::parse_jsonl: a history's JSON lines
//   settings_json   nas::run::settings_from_json: the settings a resumed run reads back
//   idx             nas::data::parse_idx: an IDX file (MNIST, Fashion-MNIST)
//   cifar10         nas::data::parse_cifar10: a CIFAR-10 binary batch
//   checkpoint      nas::Checkpoint::from_bytes: a checkpoint file as it is on the disk
//   archive         the same behind a valid header (size and CRC-32 fixed up), so the bytes reach
//                   LibTorch's archive reader and nas's entry loop
//
// A harness accepts the errors the reader documents (nas::ParseError, c10::Error); anything else
// escaping, a crash, a sanitizer report, or a round trip that does not give back what was read
// (text -> value -> text -> value) is a finding. tests/fuzz/run.sh runs them; the test command
// runs each for a short fixed number of inputs over its seed corpus (tests/fuzz/corpus/<name>).
#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <nas/data/cifar.hpp>
#include <nas/data/idx.hpp>
#include <nas/run/settings.hpp>
#include <nas/space/format.hpp>
#include <nas/space/format_json.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/history.hpp>
#include <nas/train/checkpoint.hpp>

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "nas_fuzz: %s\n", what);
  std::abort();
}

template <class S>
void genotype_text(std::string_view text) {
  const auto g = nas::parse<S>(text);
  const auto again = nas::parse<S>(nas::to_string(g));
  if (!(again == g)) finding("to_string(parse(text)) does not parse back to the same genotype");
}

template <class S>
void genotype_json(std::string_view text) {
  const auto g = nas::parse_json<S>(text);
  if (!(nas::parse_json<S>(nas::to_json(g)) == g))
    finding("to_json(parse_json(text)) does not parse back to the same genotype");
}

void history(std::string_view text) {
  using S = nas::spaces::nb201;
  const auto h = nas::History<S>::parse_jsonl(text);
  const auto lines = h.jsonl();
  if (nas::History<S>::parse_jsonl(lines).jsonl() != lines)
    finding("a history's JSON lines do not read back to the same lines");
}

void settings(std::string_view text) {
  const auto s = nas::run::settings_from_json(std::string(text));
  const auto json = nas::run::to_json(s);
  if (nas::run::to_json(nas::run::settings_from_json(json)) != json)
    finding("settings' JSON does not read back to the same settings");
}

void checkpoint(std::string_view bytes) {
  const auto c = nas::Checkpoint::from_bytes(bytes, "fuzz");
  // a loaded checkpoint saves again and reads back
  (void)nas::Checkpoint::from_bytes(c.bytes(), "fuzz (saved again)");
}

// `payload` behind a header that matches it, as Checkpoint::bytes() writes one.
void archive(std::string_view payload) {
  std::string file = "nas-checkpoint 2 nas " + std::string(nas::version) + " bytes " +
                     std::to_string(payload.size()) + " crc32 ";
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x",
                static_cast<unsigned>(nas::detail::crc32(payload, nas::detail::crc32(file))));
  file += crc;
  file += '\n';
  file += payload;
  checkpoint(file);
}

using Harness = void (*)(std::string_view);

Harness harness() {
  static const Harness chosen = [] {
    const char* name = std::getenv("NAS_FUZZ_TARGET");
    const std::string_view n = name == nullptr ? "" : name;
    if (n == "darts_text") return Harness{&genotype_text<nas::spaces::darts>};
    if (n == "nb201_text") return Harness{&genotype_text<nas::spaces::nb201>};
    if (n == "genotype_json")
      return Harness{[](std::string_view t) {
        try {
          genotype_json<nas::spaces::darts>(t);
        } catch (const nas::ParseError&) {
        }
        genotype_json<nas::spaces::nb201>(t);
      }};
    if (n == "history_jsonl") return Harness{&history};
    if (n == "settings_json") return Harness{&settings};
    if (n == "idx")
      return Harness{[](std::string_view b) {
        (void)nas::data::parse_idx(
            std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()), "fuzz");
      }};
    if (n == "cifar10")
      return Harness{[](std::string_view b) {
        (void)nas::data::parse_cifar10(
            std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()), "fuzz");
      }};
    if (n == "checkpoint") return Harness{&checkpoint};
    if (n == "archive") return Harness{&archive};
    std::fprintf(stderr,
                 "nas_fuzz: set NAS_FUZZ_TARGET to one of darts_text nb201_text genotype_json "
                 "history_jsonl settings_json idx cifar10 checkpoint archive\n");
    std::exit(2);
  }();
  return chosen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    harness()(bytes);
  } catch (const nas::InvalidArgument&) {  // the documented errors: bad input, named
  } catch (const c10::Error&) {
  }
  return 0;
}
