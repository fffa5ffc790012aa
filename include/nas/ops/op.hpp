#pragma once
/// @file
/// nas::Op: a named candidate operation, and the nas::op_descriptor concept.

#include <concepts>
#include <string_view>
#include <type_traits>

#include "nas/core/fixed_string.hpp"
#include "nas/ops/op_args.hpp"

namespace nas {

/// Marks `Module` as a zero operation (an op whose output is all zeros, the
/// `none` of DARTS and NAS-Bench-201).
///
/// A derived cell that keeps k inputs per node never keeps a zero op, so zero ops
/// are excluded from those choices (DARTS derives its cells this way), while a
/// cell that keeps every edge (NAS-Bench-201) treats them as ordinary choices.
///
/// Defaults to true when `Module::nas_zero_op` or `Module::ContainedType::nas_zero_op`
/// (a LibTorch module holder's implementation) is a `static constexpr bool` that
/// is true. Specialize it for a module type you cannot change:
/// `template <> inline constexpr bool nas::enable_zero_op<TheirZero> = true;`
template <class Module>
inline constexpr bool enable_zero_op = requires {
  requires static_cast<bool>(Module::nas_zero_op);
}
|| requires { requires static_cast<bool>(Module::ContainedType::nas_zero_op); };

/// Marks `Module` as an identity operation at stride 1 (the `skip_connect` of
/// DARTS and NAS-Bench-201). Used by nas::nb201_unique_key, which treats an
/// identity edge as passing its input through.
///
/// Defaults to true when `Module::nas_identity_op` or
/// `Module::ContainedType::nas_identity_op` is a `static constexpr bool` that is
/// true; specialize it for a module type you cannot change.
template <class Module>
inline constexpr bool enable_identity_op = requires {
  requires static_cast<bool>(Module::nas_identity_op);
}
|| requires { requires static_cast<bool>(Module::ContainedType::nas_identity_op); };

/// Whether `Module` can implement a candidate operation: by default, whether it is
/// constructible from nas::OpArgs (every op is built as `Module(nas::OpArgs{...})`).
/// Specialize it to `true` for a module type you adapt through nas::operation_traits
/// instead (nas/ops/operation.hpp): `template <> inline constexpr bool
/// nas::enable_operation<TheirConv> = true;`
template <class Module>
inline constexpr bool enable_operation = std::constructible_from<Module, const OpArgs&>;

namespace diagnostic {
// Declared, never defined: reached only during constant evaluation, where the
// call stops compilation and the template argument names the offending op.
template <FixedString Name>
void op_name_must_be_non_empty_and_use_only_letters_digits_underscore_dot_or_dash();
template <FixedString Name, class Module>
void the_module_of_this_op_is_not_constructible_from_nas_OpArgs__give_it_a_constructor_from_const_nas_OpArgs_or_specialize_nas_enable_operation();
}  // namespace diagnostic

namespace detail {
constexpr bool is_op_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

template <FixedString Name>
consteval bool check_op_name() {
  bool ok = !Name.empty();
  for (char c : Name.view()) ok = ok && is_op_name_char(c);
  if (!ok)
    diagnostic::op_name_must_be_non_empty_and_use_only_letters_digits_underscore_dot_or_dash<
        Name>();
  return true;
}

template <FixedString Name>
concept valid_op_name = check_op_name<Name>();

template <FixedString Name, class Module>
consteval bool check_op_module() {
  if constexpr (!enable_operation<Module>)
    diagnostic::
        the_module_of_this_op_is_not_constructible_from_nas_OpArgs__give_it_a_constructor_from_const_nas_OpArgs_or_specialize_nas_enable_operation<
            Name, Module>();
  return true;
}

template <FixedString Name, class Module>
concept valid_op_module = check_op_module<Name, Module>();
}  // namespace detail

/// A candidate operation: a compile-time name and the module type that implements it.
///
/// `nas::Op<"sep_conv_3x3", SepConv3>` names the op in genotypes and text formats
/// (`('sep_conv_3x3', 1)`, `|sep_conv_3x3~0|`) and tells the network builders
/// which LibTorch module to construct from nas::OpArgs. The description itself is
/// torch-free: `Module` is only carried here (the LibTorch layer checks it).
///
/// Requirements: the name is non-empty and uses letters, digits, `_`, `.` or `-`
/// (so every text format can carry it); `Module` is constructible from
/// nas::OpArgs (or nas::enable_operation says it is adapted). Either mistake fails
/// at the user's line with the requirement in the message. The LibTorch layer
/// checks the rest of nas::operation (a tensor-to-tensor forward) where it builds
/// the module.
/// Models: nas::op_descriptor.
template <FixedString Name, class Module>
  requires(detail::valid_op_name<Name>&& detail::valid_op_module<Name, Module>)
struct Op {
  /// The op's name, as written in genotypes.
  static constexpr std::string_view name = Name.view();
  /// The name as a template argument, for nas::OpSet::index_of.
  static constexpr auto fixed_name = Name;
  /// The module type that implements the op.
  using module = Module;
  /// Whether the op outputs zeros (see nas::enable_zero_op).
  static constexpr bool is_zero = enable_zero_op<Module>;
  /// Whether the op is the identity at stride 1 (see nas::enable_identity_op).
  static constexpr bool is_identity = enable_identity_op<Module>;
};

/// A type that describes one candidate operation.
///
/// Requirements: `T::name` converts to `std::string_view`, `T::module` is a type and
/// `T::is_zero` and `T::is_identity` are constant `bool`s.
/// Models: every specialization of nas::Op.
/// See also: nas::OpSet.
template <class T>
concept op_descriptor = requires {
  { T::name } -> std::convertible_to<std::string_view>;
  typename T::module;
  { T::is_zero } -> std::convertible_to<bool>;
  { T::is_identity } -> std::convertible_to<bool>;
};

}  // namespace nas
