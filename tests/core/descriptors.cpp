// Fixed strings, op descriptors and op sets.
#include <doctest/doctest.h>

#include <string_view>

#include "test_spaces.hpp"

using namespace nas_test;
using namespace std::string_view_literals;

TEST_CASE("FixedString: holds the literal's characters and compares by value") {
  constexpr nas::FixedString s{"sep_conv_3x3"};
  static_assert(s.size() == 12);
  static_assert(s.view() == "sep_conv_3x3");
  static_assert(s == nas::FixedString{"sep_conv_3x3"});
  static_assert(!(s == nas::FixedString{"sep_conv_5x5"}));
  static_assert(!(s == nas::FixedString{"sep"}));
  CHECK(std::string_view(s.c_str()) == "sep_conv_3x3");
  CHECK(nas::FixedString{""}.empty());
}

TEST_CASE("OpSet: index and name lookups agree at compile time and at run time") {
  static_assert(darts_ops::size == 8);
  static_assert(darts_ops::index_of<"none"> == 0);
  static_assert(darts_ops::index_of<"sep_conv_3x3"> == 4);
  static_assert(darts_ops::index_of<"dil_conv_5x5"> == 7);
  static_assert(darts_ops::names[3] == "skip_connect");
  for (std::size_t i = 0; i < darts_ops::size; ++i) {
    CAPTURE(i);
    const auto found = darts_ops::find(darts_ops::name_of(i));
    REQUIRE(found.has_value());
    CHECK(*found == i);
  }
  CHECK_FALSE(darts_ops::find("sep_conv_9x9").has_value());
  CHECK_FALSE(darts_ops::find("").has_value());
  CHECK_THROWS_AS((void)darts_ops::name_of(8), nas::InvalidArgument);
  CHECK(darts_ops::name_list() ==
        "none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, "
        "dil_conv_3x3, dil_conv_5x5");
}

TEST_CASE("OpSet: zero and identity ops are recognised from the module type") {
  static_assert(darts_ops::zero_count == 1);
  static_assert(darts_ops::nonzero_count == 7);
  static_assert(darts_ops::is_zero[0] && !darts_ops::is_zero[1]);
  static_assert(darts_ops::is_identity[3] && !darts_ops::is_identity[4]);
  static_assert(mobile_ops::is_zero[4]);
  CHECK(nb201_ops::zero_count == 1);
}

namespace {
struct TheirZero {  // a third-party type that cannot be changed
  explicit TheirZero(const nas::OpArgs& /*args*/) {}
};
struct HolderLike {  // a LibTorch module holder: the flag sits on the implementation
  struct ContainedType {
    static constexpr bool nas_zero_op = true;
  };
  explicit HolderLike(const nas::OpArgs& /*args*/) {}
};
}  // namespace
template <>
inline constexpr bool nas::enable_zero_op<TheirZero> = true;

TEST_CASE("enable_zero_op: can be specialized and looks through module holders") {
  static_assert(nas::enable_zero_op<TheirZero>);
  static_assert(nas::enable_zero_op<HolderLike>);
  static_assert(!nas::enable_zero_op<Conv>);
  static_assert(nas::Op<"zero", TheirZero>::is_zero);
  CHECK(nas::Op<"zero", HolderLike>::is_zero);
}

TEST_CASE("op_descriptor and op_set: satisfied by nas types, refused otherwise") {
  static_assert(nas::op_descriptor<nas::Op<"conv", Conv>>);
  static_assert(!nas::op_descriptor<Conv>);
  static_assert(!nas::op_descriptor<int>);
  static_assert(nas::op_set<darts_ops>);
  static_assert(!nas::op_set<nas::Op<"conv", Conv>>);
  static_assert(!nas::op_set<int>);
  CHECK(nas::Op<"a.b-c_1", Conv>::name == "a.b-c_1");
}
