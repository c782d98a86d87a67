# Installs the glmrt component of a build into a fresh prefix, then builds
# and runs consumers from that prefix alone:
#   1. a CMake project using find_package(glmrt) (shared and static targets),
#   2. a C program compiled with `pkg-config --cflags --libs glmrt`.
# cmake -DBUILD_DIR=... -DWORK_DIR=... -DCONSUMER_DIR=... -DARTIFACT=add.so
#       -DC_COMPILER=cc -DCXX_COMPILER=c++ -DGENERATOR=Ninja [-DSANITIZER=address]
#       -P install_test.cmake
# With SANITIZER (the build's GLMC_SANITIZER) the consumers are built with
# the same -fsanitize flags, as an instrumented libglmrt.a needs.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(san_flags)
if(SANITIZER)
  set(san_flags -fsanitize=${SANITIZER})
endif()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component glmrt --prefix ${prefix})
foreach(f include/glmrt/glmrt.h include/glmrt/glmrt.hpp
          include/glmrt/artifact_abi.h)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install lacks ${f}")
  endif()
endforeach()
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
message(STATUS "installed: ${installed}")
file(GLOB_RECURSE pc_files ${prefix}/*/glmrt.pc)
file(GLOB_RECURSE config_files ${prefix}/*/glmrtConfig.cmake)
if(NOT pc_files OR NOT config_files)
  message(FATAL_ERROR "install lacks glmrt.pc or glmrtConfig.cmake")
endif()

# 1. find_package from the prefix only.
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    "-DCMAKE_C_FLAGS=${san_flags}" "-DCMAKE_CXX_FLAGS=${san_flags}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/consumer_shared ${ARTIFACT})
if(NOT LAST_OUTPUT MATCHES "y\\[0,3\\] = 5")
  message(FATAL_ERROR "consumer_shared printed: ${LAST_OUTPUT}")
endif()
run(${WORK_DIR}/consumer/consumer_static ${ARTIFACT})
if(NOT LAST_OUTPUT MATCHES "y\\[0,3\\] = 5")
  message(FATAL_ERROR "consumer_static printed: ${LAST_OUTPUT}")
endif()

# 2. pkg-config.
find_program(PKG_CONFIG NAMES pkg-config pkgconf)
if(PKG_CONFIG)
  list(GET pc_files 0 pc_file)
  get_filename_component(pc_dir ${pc_file} DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  run(${PKG_CONFIG} --cflags --libs glmrt)
  string(STRIP "${LAST_OUTPUT}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${PKG_CONFIG} --variable=libdir glmrt)
  string(STRIP "${LAST_OUTPUT}" libdir)
  run(${C_COMPILER} ${CONSUMER_DIR}/consumer.c -o ${WORK_DIR}/consumer_pc
      ${flags} -Wl,-rpath,${libdir} ${san_flags})
  run(${WORK_DIR}/consumer_pc ${ARTIFACT})
  if(NOT LAST_OUTPUT MATCHES "y\\[0,3\\] = 5")
    message(FATAL_ERROR "consumer_pc printed: ${LAST_OUTPUT}")
  endif()
  # Static linking through pkg-config's private libs.
  run(${PKG_CONFIG} --cflags --libs --static glmrt)
  string(STRIP "${LAST_OUTPUT}" sflags)
  separate_arguments(sflags UNIX_COMMAND "${sflags}")
  list(TRANSFORM sflags REPLACE "^-lglmrt$" "${libdir}/libglmrt.a")
  run(${C_COMPILER} ${CONSUMER_DIR}/consumer.c -o ${WORK_DIR}/consumer_pc_static
      ${sflags} ${san_flags})
  run(${WORK_DIR}/consumer_pc_static ${ARTIFACT})
else()
  message(STATUS "pkg-config not found: pkg-config check skipped")
endif()
message(STATUS "install and consume: ok")
