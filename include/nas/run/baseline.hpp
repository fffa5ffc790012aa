#pragma once
/// @file
/// nas::run::compare_with_random: did a search beat architectures drawn at random?

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace nas::run {

/// The found architecture's score next to those of random architectures trained the same way.
/// The statistics are NaN where they are undefined (no random architecture; `std` with one).
struct Comparison {
  double found = 0.0;     ///< the found architecture's score
  std::size_t count = 0;  ///< random architectures
  double mean = std::nan("");
  double std = std::nan("");  ///< sample standard deviation (n - 1)
  double median = std::nan("");
  double min = std::nan("");
  double max = std::nan("");
  /// One sentence: beat every random architecture, the mean and the median, only the mean
  /// (the mean pulled down by weak samples), or not the mean.
  std::string verdict;
};

/// Compares `found` with the scores `random` (higher is better).
inline Comparison compare_with_random(double found, std::vector<double> random) {
  Comparison c;
  c.found = found;
  c.count = random.size();
  const std::size_t n = c.count;
  if (n == 0) {
    c.verdict = "no baseline was trained (--baseline 0)";
    return c;
  }
  double mean = 0.0;
  for (const double r : random) mean += r / static_cast<double>(n);
  double sd = 0.0;
  for (const double r : random) sd += std::pow(r - mean, 2.0);
  std::sort(random.begin(), random.end());
  c.mean = mean;
  c.std = n > 1 ? std::sqrt(sd / static_cast<double>(n - 1)) : std::nan("");
  c.median = n % 2 == 1 ? random[n / 2] : (random[n / 2 - 1] + random[n / 2]) / 2.0;
  c.min = random.front();
  c.max = random.back();
  if (found > c.max)
    c.verdict = "the found architecture beat every random architecture";
  else if (found > c.median && found > c.mean)
    c.verdict =
        "the found architecture beat the random mean and median, not every random architecture";
  else if (found > c.mean)
    c.verdict =
        "the found architecture beat the random mean (pulled down by weak samples) but not the "
        "median";
  else
    c.verdict = "the found architecture did not beat the random mean";
  return c;
}

}  // namespace nas::run
