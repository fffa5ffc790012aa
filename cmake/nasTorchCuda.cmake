# nas_prepare_torch_cuda(): call before find_package(Torch) / find_dependency(Torch).
#
# Why: a CUDA build of LibTorch (e.g. the PyPI wheel torch==2.11.0, +cu130) runs, inside
# find_package(Torch), its Caffe2/public/cuda.cmake: find_package(CUDA), enable_language(CUDA)
# and find_package(CUDAToolkit REQUIRED). Without a CUDA toolkit (nvcc) that ends with
#   "Your installed Caffe2 version uses CUDA but I cannot find the CUDA libraries"
# although a C++ program needs no nvcc to use LibTorch: the wheel's libtorch_cuda.so finds its
# CUDA libraries through its own RUNPATH (site-packages/nvidia/...).
#
# cuda.cmake starts with `if(TARGET torch::cudart) return()`. When no working nvcc is found,
# this defines torch::cudart as an empty imported target, so LibTorch skips the toolkit lookup
# and links exactly as it does with a toolkit (same DT_NEEDED entries: libtorch*.so, libc10*.so).
# Code of your own in .cu files needs a real toolkit: set NAS_TORCH_CUDA_TOOLKIT=ON.
#
# NAS_TORCH_CUDA_TOOLKIT (cache or normal variable):
#   AUTO (default) use a CUDA toolkit where one is found, else skip the lookup as above;
#   ON             always let LibTorch look for (and require) the toolkit;
#   OFF            never look for it (faster configure, no CUDA language enabled).
# No effect when torch::cudart already exists (find_package(Torch) ran already) or when LibTorch
# is a CPU-only build (it never looks at torch::cudart then).
include_guard(GLOBAL)

function(nas_prepare_torch_cuda)
  if(TARGET torch::cudart)
    return()
  endif()
  set(mode AUTO)
  if(DEFINED NAS_TORCH_CUDA_TOOLKIT AND NOT NAS_TORCH_CUDA_TOOLKIT STREQUAL "")
    string(TOUPPER "${NAS_TORCH_CUDA_TOOLKIT}" mode)
  endif()
  if(mode STREQUAL "ON" OR mode STREQUAL "TRUE" OR mode STREQUAL "1")
    return()
  endif()

  if(mode STREQUAL "AUTO")
    # Where LibTorch's FindCUDA would look: CMAKE_CUDA_COMPILER, CUDACXX, CUDA_TOOLKIT_ROOT_DIR,
    # CUDA_HOME / CUDA_PATH / CUDA_BIN_PATH, PATH, /usr/local/cuda.
    set(nvcc "")
    if(CMAKE_CUDA_COMPILER)
      set(nvcc "${CMAKE_CUDA_COMPILER}")
    elseif(DEFINED ENV{CUDACXX} AND NOT "$ENV{CUDACXX}" STREQUAL "")
      set(nvcc "$ENV{CUDACXX}")
    else()
      set(hints "")
      foreach(var CUDA_TOOLKIT_ROOT_DIR CUDAToolkit_ROOT)
        if(${var})
          list(APPEND hints "${${var}}")
        endif()
      endforeach()
      foreach(env CUDA_HOME CUDA_PATH CUDA_BIN_PATH CUDAToolkit_ROOT)
        if(DEFINED ENV{${env}} AND NOT "$ENV{${env}}" STREQUAL "")
          list(APPEND hints "$ENV{${env}}")
        endif()
      endforeach()
      find_program(
        _nas_nvcc nvcc
        HINTS ${hints}
        PATH_SUFFIXES bin
        PATHS /usr/local/cuda
        NO_CACHE)
      if(_nas_nvcc)
        set(nvcc "${_nas_nvcc}")
      endif()
    endif()
    if(nvcc)
      # A wrapper script can exist without the toolkit behind it: check that it runs.
      execute_process(
        COMMAND "${nvcc}" --version
        RESULT_VARIABLE rc
        OUTPUT_QUIET ERROR_QUIET)
      if(rc EQUAL 0)
        return() # a working toolkit: LibTorch uses it as usual
      endif()
    endif()
  endif()

  add_library(torch::cudart INTERFACE IMPORTED)
  if(mode STREQUAL "AUTO")
    message(STATUS "nas: no working CUDA toolkit (nvcc) found: LibTorch's CUDA toolkit lookup "
                   "skipped (NAS_TORCH_CUDA_TOOLKIT=AUTO; see nasTorchCuda.cmake)")
  else()
    message(STATUS "nas: LibTorch's CUDA toolkit lookup skipped (NAS_TORCH_CUDA_TOOLKIT=OFF)")
  endif()
endfunction()
