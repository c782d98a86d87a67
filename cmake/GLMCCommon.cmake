# Settings every glmc target shares; thin on purpose (as CIRCT's AddCIRCT).

find_program(GLMC_CCACHE ccache)
if(GLMC_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER "${GLMC_CCACHE}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${GLMC_CCACHE}")
endif()

# Link with lld where the compiler can.
include(CheckCXXSourceCompiles)
if(NOT DEFINED GLMC_HAVE_LLD)
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fuse-ld=lld")
  check_cxx_source_compiles("int main() { return 0; }" GLMC_HAVE_LLD)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
endif()
if(GLMC_HAVE_LLD)
  add_link_options("-fuse-ld=lld")
endif()

set(GLMC_WARNINGS -Wall -Wextra -Wno-unused-parameter)

if(GLMC_SANITIZER)
  add_compile_options(-fsanitize=${GLMC_SANITIZER} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${GLMC_SANITIZER})
endif()

# glmc_add_library(name [STATIC|SHARED] SOURCES ... [EXCEPTIONS])
# A compiler-side C++ library: warnings, -fno-exceptions (Debian's LLVM is
# built without exceptions; only the ONNX reader turns them on), hidden
# visibility, includes rooted at the repository and build roots.
function(glmc_add_library name)
  cmake_parse_arguments(ARG "EXCEPTIONS" "" "SOURCES;DEPENDS;LINK" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${GLMC_WARNINGS})
  if(ARG_EXCEPTIONS)
    target_compile_options(${name} PRIVATE -fexceptions)
  else()
    target_compile_options(${name} PRIVATE -fno-exceptions)
  endif()
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}>)
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  if(ARG_LINK)
    target_link_libraries(${name} PUBLIC ${ARG_LINK})
  endif()
endfunction()

# glmc_add_tool(name SOURCES ... LINK ...)
function(glmc_add_tool name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${GLMC_WARNINGS} -fno-exceptions)
  target_link_libraries(${name} PRIVATE ${ARG_LINK})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
  install(TARGETS ${name} RUNTIME DESTINATION bin)
endfunction()
