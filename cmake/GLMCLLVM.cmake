# Finds Debian's LLVM/MLIR 22 (shared libLLVM and libMLIR), ONNX 1.12 and
# protobuf, and exposes them as interface targets. Nothing here touches
# global compile flags: LLVM's HandleLLVMOptions is deliberately not used so
# that the runtime is compiled without LLVM's flags or include paths.

set(GLMC_LLVM_ROOT "/usr/lib/llvm-22" CACHE PATH "LLVM/MLIR 22 install prefix")
find_package(MLIR REQUIRED CONFIG HINTS "${GLMC_LLVM_ROOT}/lib/cmake/mlir")
find_package(LLVM REQUIRED CONFIG HINTS "${GLMC_LLVM_ROOT}/lib/cmake/llvm")
if(NOT LLVM_VERSION_MAJOR EQUAL 22)
  message(FATAL_ERROR "glmc needs LLVM/MLIR 22, found ${LLVM_PACKAGE_VERSION} (set GLMC_LLVM_ROOT)")
endif()
message(STATUS "glmc: LLVM ${LLVM_PACKAGE_VERSION} at ${LLVM_INSTALL_PREFIX}")

list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
set(LLVM_RUNTIME_OUTPUT_INTDIR ${PROJECT_BINARY_DIR}/bin)
set(LLVM_LIBRARY_OUTPUT_INTDIR ${PROJECT_BINARY_DIR}/lib)
set(MLIR_BINARY_DIR ${PROJECT_BINARY_DIR})
include(TableGen)
include(AddLLVM)
include(AddMLIR)

# One interface target carries MLIR/LLVM includes, definitions and the shared
# libraries. Everything compiler-side links it; the runtime never does.
add_library(GLMCMLIR INTERFACE)
target_include_directories(GLMCMLIR SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
separate_arguments(_glmc_llvm_defs NATIVE_COMMAND "${LLVM_DEFINITIONS}")
target_compile_definitions(GLMCMLIR INTERFACE ${_glmc_llvm_defs})
target_link_libraries(GLMCMLIR INTERFACE MLIR LLVM)

find_program(GLMC_LD_LLD NAMES ld.lld-22 ld.lld HINTS "${LLVM_TOOLS_BINARY_DIR}" REQUIRED)
find_program(GLMC_LIT NAMES lit HINTS "${LLVM_TOOLS_BINARY_DIR}" REQUIRED)
find_program(GLMC_FILECHECK NAMES FileCheck HINTS "${LLVM_TOOLS_BINARY_DIR}" REQUIRED)
find_program(GLMC_CLANG NAMES clang-22 clang HINTS "${LLVM_TOOLS_BINARY_DIR}" REQUIRED)

find_package(Protobuf REQUIRED)  # must precede ONNX: its config does not find it
find_package(ONNX REQUIRED)
message(STATUS "glmc: ONNX ${ONNX_VERSION}, protobuf ${Protobuf_VERSION}")

# glmc_tablegen(<target> <td> <outputs...> : mlir_tablegen wrapper that keeps
# include paths rooted at the repository.
macro(glmc_tablegen_begin td)
  set(LLVM_TARGET_DEFINITIONS ${td})
endmacro()
