#!/usr/bin/env bash
# scripts/setup.sh: installs what nas needs and finds LibTorch. Idempotent; a second run takes
# about a second. Works as root on a fresh Debian 12 (bookworm) machine.
#
#   bash scripts/setup.sh      install, then print what was found and the CMake settings
#   source scripts/setup.sh    the same, and also export NAS_* / CCACHE_* variables and define
#                              nas_configure (used by scripts/test.sh and scripts/demo.sh)
#
# LibTorch, first match wins:
#   Torch_DIR=<dir with TorchConfig.cmake>    a LibTorch of your own (official zip, conda, distro)
#   NAS_TORCH_PREFIX=<prefix>                 e.g. the unzipped libtorch/ (has share/cmake/Torch)
#   NAS_PYTHON=<python>                       a Python whose `torch` package is installed
#   otherwise the project venv ${NAS_VENV:-<repo>/.venv}, given torch==<scripts/torch-version>
#   from PyPI when it lacks that version; if pip cannot install it (no network), an installed
#   torch of the same major.minor under python3 is used instead.
#
# Other knobs: NAS_SKIP_APT=1 (no apt), NAS_TORCH_VERSION (override the pin, untested).

_nas_setup_main() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  NAS_ROOT="${root}"

  # ---- the pinned LibTorch version: one place, scripts/torch-version ----
  local pin
  pin="${NAS_TORCH_VERSION:-$(head -n1 "${root}/scripts/torch-version")}"
  NAS_TORCH_VERSION="${pin}"

  _nas_say() { printf 'setup: %-12s %s\n' "$1" "$2" >&2; }
  _nas_die() { printf 'setup: error: %s\n' "$*" >&2; return 1; }

  # ---- apt packages ------------------------------------------------------------------------
  # git: not needed (FetchContent of nas uses URL archives). python3-venv: the LibTorch venv.
  # clang-14 + libclang-rt-14-dev: libFuzzer and its sanitizers, for the fuzz harnesses.
  local -a pkgs=(cmake g++ ninja-build ccache librange-v3-dev doctest-dev
    libcli11-dev libbenchmark-dev zlib1g-dev graphviz dataset-fashion-mnist clang-format
    clang-14 libclang-rt-14-dev python3-venv ca-certificates)
  if [[ "${NAS_SKIP_APT:-0}" == 1 ]]; then
    _nas_say apt "skipped (NAS_SKIP_APT=1)"
  elif ! command -v dpkg-query >/dev/null 2>&1; then
    _nas_say apt "skipped: not a Debian system; install the equivalents of: ${pkgs[*]}"
  else
    local -a missing=()
    local p status
    for p in "${pkgs[@]}"; do
      status="$(dpkg-query -W -f='${db:Status-Status}' "${p}" 2>/dev/null || true)"
      [[ "${status}" == installed ]] || missing+=("${p}")
    done
    if ((${#missing[@]} == 0)); then
      _nas_say apt "all ${#pkgs[@]} packages present"
    else
      _nas_say apt "installing: ${missing[*]}"
      local -a sudo=()
      if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || _nas_die "not root and no sudo: apt-get install ${missing[*]}" || return 1
        sudo=(sudo)
      fi
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
          --no-install-recommends "${missing[@]}" >/dev/null ||
        _nas_die "apt-get install failed (set NAS_SKIP_APT=1 to skip apt)" || return 1
    fi
  fi
  _nas_say cmake "$(cmake --version | head -n1)"
  _nas_say compiler "$(c++ --version | head -n1)"

  # ---- LibTorch ------------------------------------------------------------------------------
  # _nas_torch_of PYTHON: prints "<version> <cmake prefix>" of its torch package without importing
  # it (importing torch takes seconds); fails when there is none.
  _nas_torch_of() {
    "$1" - <<'PY' 2>/dev/null
import importlib.metadata as md, importlib.util as iu, os, sys
spec = iu.find_spec("torch")
if spec is None or not spec.submodule_search_locations:
    sys.exit(1)
pkg = list(spec.submodule_search_locations)[0]
cmake = os.path.join(pkg, "share", "cmake")  # = torch.utils.cmake_prefix_path
if not os.path.isfile(os.path.join(cmake, "Torch", "TorchConfig.cmake")):
    sys.exit(1)
print(md.version("torch"), cmake)
PY
  }
  _nas_torch_config_version() { # DIR with TorchConfigVersion.cmake -> version
    sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' "$1/TorchConfigVersion.cmake" 2>/dev/null | head -n1
  }

  local torch_version="" torch_prefix="" torch_dir="" torch_source=""
  if [[ -n "${Torch_DIR:-}" ]]; then
    [[ -f "${Torch_DIR}/TorchConfig.cmake" ]] || _nas_die "Torch_DIR=${Torch_DIR} has no TorchConfig.cmake" || return 1
    torch_dir="${Torch_DIR}"
    torch_version="$(_nas_torch_config_version "${torch_dir}")"
    torch_source="Torch_DIR"
  elif [[ -n "${NAS_TORCH_PREFIX:-}" ]]; then
    local d
    for d in "${NAS_TORCH_PREFIX}/share/cmake/Torch" "${NAS_TORCH_PREFIX}/Torch" \
      "${NAS_TORCH_PREFIX}/lib/cmake/Torch"; do
      if [[ -f "${d}/TorchConfig.cmake" ]]; then torch_dir="${d}"; break; fi
    done
    [[ -n "${torch_dir}" ]] || _nas_die "NAS_TORCH_PREFIX=${NAS_TORCH_PREFIX}: no share/cmake/Torch/TorchConfig.cmake under it" || return 1
    torch_prefix="${NAS_TORCH_PREFIX}"
    torch_version="$(_nas_torch_config_version "${torch_dir}")"
    torch_source="NAS_TORCH_PREFIX"
  elif [[ -n "${NAS_PYTHON:-}" ]]; then
    local found
    found="$(_nas_torch_of "${NAS_PYTHON}")" || _nas_die "NAS_PYTHON=${NAS_PYTHON}: no usable torch package" || return 1
    read -r torch_version torch_prefix <<<"${found}"
    torch_source="NAS_PYTHON=${NAS_PYTHON}"
  else
    local venv="${NAS_VENV:-${root}/.venv}" found=""
    if [[ -x "${venv}/bin/python" ]]; then
      found="$(_nas_torch_of "${venv}/bin/python" || true)"
    fi
    local have="${found%% *}"
    if [[ -n "${found}" && "${have%%+*}" == "${pin}" ]]; then
      read -r torch_version torch_prefix <<<"${found}"
      torch_source="venv ${venv}"
    else
      _nas_say torch "installing torch==${pin} into ${venv} (PyPI: several GB; about a minute on a fast link)"
      if { [[ -x "${venv}/bin/python" ]] || python3 -m venv "${venv}"; } &&
        "${venv}/bin/python" -m pip install --disable-pip-version-check --no-input -q \
          --retries 2 "torch==${pin}" &&
        found="$(_nas_torch_of "${venv}/bin/python")"; then
        read -r torch_version torch_prefix <<<"${found}"
        torch_source="venv ${venv} (just installed)"
      else
        # No network (e.g. an offline GPU machine): an installed torch of the same release line.
        local py
        for py in python3 /usr/bin/python3; do
          command -v "${py}" >/dev/null 2>&1 || continue
          found="$(_nas_torch_of "${py}" || true)"
          if [[ -n "${found}" && "${found%% *}" == "${pin%.*}".* ]]; then
            read -r torch_version torch_prefix <<<"${found}"
            torch_source="$(command -v "${py}") (pip could not install torch==${pin})"
            break
          fi
        done
        [[ -n "${torch_prefix}" ]] || _nas_die "could not install torch==${pin} and found no installed torch ${pin%.*}.x; set Torch_DIR, NAS_TORCH_PREFIX or NAS_PYTHON" || return 1
      fi
    fi
  fi
  if [[ -n "${torch_prefix}" && -z "${torch_dir}" ]]; then
    if [[ -f "${torch_prefix}/Torch/TorchConfig.cmake" ]]; then
      torch_dir="${torch_prefix}/Torch"
    else
      torch_dir="${torch_prefix}/share/cmake/Torch"
    fi
  fi
  _nas_say torch "LibTorch ${torch_version:-?} from ${torch_source} (tested: ${pin})"
  _nas_say Torch_DIR "${torch_dir}"
  if [[ "${torch_version%%+*}" != "${pin}" ]]; then
    _nas_say warning "LibTorch ${torch_version} is not the tested ${pin}: expected to work, untested"
  fi

  # ---- CUDA toolkit (only informative: see cmake/nasTorchCuda.cmake) ----
  if command -v nvcc >/dev/null 2>&1 && nvcc --version >/dev/null 2>&1; then
    _nas_say cuda "nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p') (LibTorch's CMake uses it)"
  elif [[ -x /usr/local/cuda/bin/nvcc ]]; then
    _nas_say cuda "/usr/local/cuda/bin/nvcc (LibTorch's CMake uses it)"
  else
    _nas_say cuda "no nvcc: nas skips LibTorch's CUDA toolkit lookup (not needed for C++)"
  fi

  # ---- ccache: hits that survive fresh clones in other folders ----
  if command -v ccache >/dev/null 2>&1; then
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-${root}}"
    # pch_defines,time_macros: required for precompiled headers; *_mtime/ctime: newly written
    # headers (a fresh clone) may still hit.
    export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
    # CCACHE_DIR: ccache's own default ($HOME/.cache/ccache) unless the user set one.
    # Size: at least 5 GB (LibTorch objects are large); never lower a user's larger limit.
    if [[ -z "${CCACHE_MAXSIZE:-}" ]]; then
      local max
      max="$(ccache -k max_size 2>/dev/null || echo 0)"
      if ! awk -v m="${max}" 'BEGIN { u = substr(m, length(m)); v = m + 0;
            f = (u == "T") ? 1024 : (u == "G") ? 1 : (u == "M") ? 1/1024 : (u == "k") ? 1/1048576 : 1/1073741824;
            exit !(v == 0 || v * f >= 5) }'; then
        export CCACHE_MAXSIZE=5G
      fi
    fi
    _nas_say ccache "$(ccache --version | head -n1), basedir ${CCACHE_BASEDIR}"
  else
    _nas_say ccache "not found (builds work, but slower)"
  fi

  # ---- results ----
  NAS_TORCH_DIR="${torch_dir}"
  NAS_CMAKE_PREFIX_PATH="${torch_prefix:-$(dirname "${torch_dir}")}"
  export NAS_ROOT NAS_TORCH_VERSION NAS_TORCH_DIR NAS_CMAKE_PREFIX_PATH
  _nas_say cmake-args "-DTorch_DIR=${NAS_TORCH_DIR}   (or -DCMAKE_PREFIX_PATH=${NAS_CMAKE_PREFIX_PATH})"
}

# nas_configure <build dir> [cmake args...]: configure with Ninja and the LibTorch found above.
# Skips the cmake call when the same arguments configured this build tree before (ninja re-runs
# CMake by itself when a CMakeLists.txt changes).
nas_configure() {
  local dir="$1"
  shift
  local -a args=(-S "${NAS_ROOT}" -B "${dir}" -G Ninja "-DTorch_DIR=${NAS_TORCH_DIR}" "$@")
  local stamp="${dir}/.nas-configure-args"
  if [[ -f "${dir}/build.ninja" && -f "${stamp}" && "$(cat "${stamp}")" == "${args[*]}" ]]; then
    echo "configure: ${dir} is up to date" >&2
    return 0
  fi
  rm -f "${stamp}"
  cmake "${args[@]}" && printf '%s' "${args[*]}" >"${stamp}"
}

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
  set -euo pipefail
  _nas_setup_main
  printf 'Torch_DIR=%s\nCMAKE_PREFIX_PATH=%s\n' "${NAS_TORCH_DIR}" "${NAS_CMAKE_PREFIX_PATH}"
else
  _nas_setup_main || return 1
fi
