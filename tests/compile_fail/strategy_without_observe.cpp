// needs: torch
// A strategy without observe() handed to the driver: the message names what is missing.
// expect: the strategy needs `nas::Genotype<space> propose\(\)` and `void observe
// expect: strategy_without_observe.cpp:[0-9]+:[0-9]+:   required from here
#include <nas/space/enumerate.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/driver.hpp>

struct Sweep {
  using space = nas::spaces::nb201;
  std::uint64_t next = 0;
  nas::Genotype<space> propose() { return nas::unrank<space>(next++); }
#ifndef NAS_COMPILE_FAIL
  void observe(const nas::Trial<space>&) {}
#endif
};

void search() {
  Sweep sweep;
  auto evaluator = [](const nas::Genotype<nas::spaces::nb201>&) { return 0.5; };
  (void)nas::run_trials(sweep, evaluator, {.trials = 3});
}
