# Finds what it takes to cross-build glmrt-run for AArch64 and run it under
# qemu-user: clang and clang++ (--target=aarch64-linux-gnu), lld, llvm-ar,
# the AArch64 libc and libstdc++ (Debian's libc6-dev-arm64-cross,
# libgcc-12-dev-arm64-cross, libstdc++-12-dev-arm64-cross) and
# qemu-aarch64-static (qemu-user-static); scripts/setup.sh installs them.
# The check links a small C++ program for AArch64 and runs it under qemu, so
# a missing piece is found at configure time, not as a build failure. clang
# finds Debian's cross libc and libstdc++ from --target by itself (with
# --sysroot it would miss libstdc++); GLMC_AARCH64_SYSROOT is where qemu
# finds the AArch64 loader and libc (-L).
#
# Sets, in the cache (internal, recomputed at every configure):
#   GLMC_AARCH64_CROSS          ON when glmrt-run can be cross-built
#   GLMC_AARCH64_QEMU_OK        ON when it can also run under qemu here
#   GLMC_AARCH64_MISSING        what is missing, for messages
#   GLMC_AARCH64_CLANG, GLMC_AARCH64_CLANGXX, GLMC_AARCH64_AR,
#   GLMC_AARCH64_SYSROOT, GLMC_QEMU_AARCH64
include_guard(GLOBAL)

set(GLMC_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH
    "AArch64 libc for running cross-built test tools under qemu (-L)")
find_program(GLMC_AARCH64_CLANG NAMES clang-22 clang)
find_program(GLMC_AARCH64_CLANGXX NAMES clang++-22 clang++)
find_program(GLMC_AARCH64_AR NAMES llvm-ar-22 llvm-ar)
find_program(GLMC_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)

function(_glmc_detect_aarch64_cross)
  set(missing)
  if(NOT CMAKE_HOST_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    list(APPEND missing "an x86-64 host (the AArch64 tests run under qemu-user)")
  endif()
  if(NOT GLMC_AARCH64_CLANG OR NOT GLMC_AARCH64_CLANGXX)
    list(APPEND missing "clang-22/clang++-22 (clang-22)")
  endif()
  if(NOT GLMC_AARCH64_AR)
    list(APPEND missing "llvm-ar-22 (llvm-22)")
  endif()
  if(NOT EXISTS ${GLMC_AARCH64_SYSROOT}/lib/libc.so)
    list(APPEND missing
         "the AArch64 libc in ${GLMC_AARCH64_SYSROOT} (libc6-dev-arm64-cross)")
  endif()
  set(cross OFF)
  if(NOT missing)
    # Link a C++ program the way the cross glmrt-run is linked.
    set(dir ${CMAKE_BINARY_DIR}/CMakeFiles/glmc-aarch64-check)
    file(MAKE_DIRECTORY ${dir})
    file(WRITE ${dir}/check.cpp
         "#include <string>\n#include <vector>\n#include <pthread.h>\n"
         "int main(int argc, char **argv) {\n"
         "  std::vector<std::string> a(argv, argv + argc);\n"
         "  return static_cast<int>(a.size()) - 1;\n}\n")
    execute_process(
      COMMAND ${GLMC_AARCH64_CLANGXX} --target=aarch64-linux-gnu
              -fuse-ld=lld -std=c++17
              -fno-exceptions ${dir}/check.cpp -o ${dir}/check
              -static-libstdc++ -static-libgcc -lpthread -ldl
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(rc EQUAL 0)
      set(cross ON)
    else()
      string(REGEX MATCH "[^\n]*(error|cannot find)[^\n]*" first "${err}")
      list(APPEND missing "a working AArch64 C++ cross link \
(libstdc++-12-dev-arm64-cross, libgcc-12-dev-arm64-cross, lld-22): ${first}")
    endif()
  endif()
  set(qemu OFF)
  if(cross)
    if(NOT GLMC_QEMU_AARCH64 OR NOT EXISTS "${GLMC_QEMU_AARCH64}")
      list(APPEND missing "qemu-aarch64-static (qemu-user-static)")
    else()
      execute_process(
        COMMAND ${GLMC_QEMU_AARCH64} -L ${GLMC_AARCH64_SYSROOT}
                ${CMAKE_BINARY_DIR}/CMakeFiles/glmc-aarch64-check/check
        RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
      if(rc EQUAL 0)
        set(qemu ON)
      else()
        string(STRIP "${err}" err)
        list(APPEND missing
             "${GLMC_QEMU_AARCH64} cannot run an AArch64 program (${rc}) ${err}")
      endif()
    endif()
  endif()
  string(REPLACE ";" "; " missing "${missing}")
  set(GLMC_AARCH64_CROSS ${cross} CACHE INTERNAL "")
  set(GLMC_AARCH64_QEMU_OK ${qemu} CACHE INTERNAL "")
  set(GLMC_AARCH64_MISSING "${missing}" CACHE INTERNAL "")
endfunction()

_glmc_detect_aarch64_cross()
