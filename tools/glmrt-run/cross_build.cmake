# Cross-builds glmrt-run for another architecture the way the host build
# makes it: the runtime as a static libglmrt.a, the .npy reader, the tool,
# libstdc++ and libgcc linked in statically (so that only the target's libc
# is needed where it runs). clang finds Debian's cross libc and libstdc++
# (/usr/aarch64-linux-gnu, /usr/lib/gcc-cross) from --target by itself.
#   cmake -DCLANG=clang-22 -DCLANGXX=clang++-22 -DAR=llvm-ar-22
#         -DTARGET=aarch64-linux-gnu
#         -DSOURCE_DIR=<repo> -DRUNTIME_SOURCES=<a.c|b.c|...> -DWORK_DIR=<dir>
#         -DOUTPUT=<file> -P cross_build.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
endfunction()

string(REPLACE "|" ";" RUNTIME_SOURCES "${RUNTIME_SOURCES}")
set(common --target=${TARGET} -O2 -DNDEBUG
    -fvisibility=hidden -I${SOURCE_DIR}/runtime/include)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

set(objects)
foreach(source IN LISTS RUNTIME_SOURCES)
  get_filename_component(name ${source} NAME_WE)
  run(${CLANG} ${common} -std=c11 -I${SOURCE_DIR}/runtime/src -c ${source}
      -o ${WORK_DIR}/${name}.o)
  list(APPEND objects ${WORK_DIR}/${name}.o)
endforeach()
run(${AR} rcs ${WORK_DIR}/libglmrt.a ${objects})

set(tool ${SOURCE_DIR}/tools/glmrt-run)
run(${CLANGXX} ${common} -std=c++17 -fno-exceptions -fuse-ld=lld -I${tool}
    ${tool}/glmrt-run.cpp ${tool}/npy.cpp ${WORK_DIR}/libglmrt.a
    -static-libstdc++ -static-libgcc -lpthread -ldl -o ${OUTPUT}.tmp)
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
