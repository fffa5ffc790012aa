# Build settings for nas's own targets (tests, examples, benchmarks), never for consumers:
# neither nas_warnings nor nas_sanitize is installed or exported, and nas::core / nas::nas do
# not link them.
include_guard(GLOBAL)

set(NAS_WARNING_FLAGS "")
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  list(
    APPEND
    NAS_WARNING_FLAGS
    -Wall
    -Wextra
    -Wpedantic
    -Wshadow
    -Wconversion
    -Wsign-conversion
    -Wold-style-cast
    -Wnon-virtual-dtor
    -Woverloaded-virtual
    -Wnull-dereference
    -Wdouble-promotion
    -Wformat=2
    -Wimplicit-fallthrough)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 (Debian 12's g++ 12.2) reports bogus -Wrestrict inside libstdc++ for
    # `"literal" + std::string&&` at -O2/-O3 (GCC PR 105329 / 105651): off for that compiler.
    list(APPEND NAS_WARNING_FLAGS -Wno-restrict)
  endif()
  if(NAS_WERROR)
    list(APPEND NAS_WARNING_FLAGS -Werror)
  endif()
elseif(MSVC)
  list(APPEND NAS_WARNING_FLAGS /W4 /permissive-)
  if(NAS_WERROR)
    list(APPEND NAS_WARNING_FLAGS /WX)
  endif()
endif()

if(NOT TARGET nas_warnings)
  # Third-party headers (LibTorch, range-v3, doctest) arrive through imported targets or
  # /usr/include, both treated as system headers, so these flags apply to our code only.
  add_library(nas_warnings INTERFACE)
  target_compile_options(nas_warnings INTERFACE ${NAS_WARNING_FLAGS})

  add_library(nas_sanitize INTERFACE)
  if(NAS_SANITIZE)
    if(MSVC)
      target_compile_options(nas_sanitize INTERFACE /fsanitize=address)
    else()
      set(_nas_san -fsanitize=address,undefined -fno-omit-frame-pointer
                   -fno-sanitize-recover=undefined)
      target_compile_options(nas_sanitize INTERFACE ${_nas_san})
      target_link_options(nas_sanitize INTERFACE ${_nas_san})
    endif()
  endif()
endif()

# nas_target_defaults(<target>): warnings (+ -Werror), sanitizers, no compiler extensions.
function(nas_target_defaults target)
  target_link_libraries(${target} PRIVATE nas_warnings nas_sanitize)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
endfunction()
