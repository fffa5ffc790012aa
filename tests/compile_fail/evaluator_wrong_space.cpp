// needs: torch
// An evaluator of another space handed to the driver: the message names the evaluator.
// expect: the evaluator must be callable as `e\(genotype\)`
// expect: evaluator_wrong_space.cpp:[0-9]+:[0-9]+:   required from here
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/driver.hpp>
#include <nas/strategy/random_search.hpp>

void search() {
  nas::RandomSearch<nas::spaces::nb201> random;
#ifdef NAS_COMPILE_FAIL
  auto evaluator = [](const nas::Genotype<nas::spaces::darts>&) { return 0.5; };
#else
  auto evaluator = [](const nas::Genotype<nas::spaces::nb201>&) { return 0.5; };
#endif
  (void)nas::run_trials(random, evaluator, {.trials = 3});
}
