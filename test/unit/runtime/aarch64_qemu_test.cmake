# Cross-builds glmrt, a driver and test artifacts for AArch64 and runs them
# under qemu-user with several CPU models: a model that needs dotprod must be
# refused with a clear message on a cortex-a53 (no dotprod), not die of
# SIGILL, and must load and run on a cortex-a76; an x86-64 artifact must be
# refused as the wrong architecture.
#   cmake -DCLANG=clang-22 -DQEMU=qemu-aarch64-static -DSYSROOT=/usr/aarch64-linux-gnu
#         -DSOURCE_DIR=<repo> -DWORK_DIR=... -DSTAMP=glmrt_artifact_stamp
#         -DHOST_ADD=<host add.so> -P aarch64_qemu_test.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

# Runs the driver on `model` with `cpu` and checks its output for each of the
# further arguments (substrings without square brackets, which CMake lists
# treat specially).
function(expect cpu model)
  execute_process(
    COMMAND ${QEMU} -L ${SYSROOT} -cpu ${cpu} ${WORK_DIR}/driver ${model}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "[${cpu}] ${model}:\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "driver exited with ${rc} on ${cpu}")
  endif()
  foreach(text IN LISTS ARGN)
    string(FIND "${out}" "${text}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "on ${cpu}, expected '${text}' in:\n${out}")
    endif()
  endforeach()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(cc ${CLANG} --target=aarch64-linux-gnu -fuse-ld=lld -O1 -std=c11
    -I${SOURCE_DIR}/runtime/include)
file(GLOB runtime_sources ${SOURCE_DIR}/runtime/src/*.c)
set(artifacts ${SOURCE_DIR}/test/unit/runtime/artifacts)

run(${cc} -fvisibility=hidden ${runtime_sources}
    ${SOURCE_DIR}/test/unit/runtime/aarch64_driver.c
    -o ${WORK_DIR}/driver -lpthread)
run(${cc} -shared -fPIC -fvisibility=hidden
    "-DTEST_CPU_FEATURES=(GLM_CPU_ARM_NEON|GLM_CPU_ARM_DOTPROD)"
    ${artifacts}/add_model.c -o ${WORK_DIR}/add_dotprod.so)
run(${STAMP} ${WORK_DIR}/add_dotprod.so)
run(${cc} -shared -fPIC -fvisibility=hidden -DTEST_CPU_FEATURES=GLM_CPU_ARM_NEON
    ${artifacts}/parallel_model.c -o ${WORK_DIR}/parallel.so -lpthread)
run(${STAMP} ${WORK_DIR}/parallel.so)

expect(cortex-a53 ${WORK_DIR}/add_dotprod.so
  "cpu: cortex-a53 " "(aarch64)"
  "load: INCOMPATIBLE: "
  "needs CPU feature dotprod, which this CPU (cortex-a53) lacks")
expect(cortex-a76 ${WORK_DIR}/add_dotprod.so
  "cpu: cortex-a76 " "neon, dotprod"
  "load: OK"
  ",3] = 5")
expect(cortex-a53 ${WORK_DIR}/parallel.so "load: OK" "parallel: ok")
expect(cortex-a72 ${HOST_ADD}
  "load: INCOMPATIBLE: "
  "is built for x86-64, but this machine is aarch64")
message(STATUS "aarch64 under qemu: ok")
