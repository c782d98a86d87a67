# Checks that libglmrt.so exports only glmrt_* functions, that the static
# library defines no global symbol outside glmrt_* (no namespace pollution),
# and that the stripped shared library stays under 200 KB (issue 20).
#   cmake -DNM=nm -DSTRIP=strip -DSTRIPPED=out.so -DLIBRARY=libglmrt.so
#         -DSTATIC_LIBRARY=libglmrt.a -P ...
foreach(kind shared static)
  if(kind STREQUAL shared)
    execute_process(COMMAND ${NM} -D --defined-only ${LIBRARY}
      OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  else()
    execute_process(COMMAND ${NM} -g --defined-only ${STATIC_LIBRARY}
      OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm failed on the ${kind} library")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  set(count 0)
  foreach(line IN LISTS lines)
    if(line MATCHES "^[0-9a-fA-F]+ ([A-Za-z]) (.+)$")
      set(type "${CMAKE_MATCH_1}")
      set(name "${CMAKE_MATCH_2}")
      # The archive also holds the library's hidden internal functions;
      # they too must stay inside the glmrt_ namespace.
      if(NOT name MATCHES "^glmrt_")
        message(FATAL_ERROR "the ${kind} library defines '${name}' (${type}) outside glmrt_")
      endif()
      math(EXPR count "${count} + 1")
    endif()
  endforeach()
  if(count LESS 30)
    message(FATAL_ERROR "the ${kind} library defines only ${count} glmrt_ symbols")
  endif()
  message(STATUS "${kind}: ${count} glmrt_ symbols")
endforeach()

if(STRIP AND STRIPPED)
  execute_process(COMMAND ${STRIP} -o ${STRIPPED} ${LIBRARY} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strip failed on ${LIBRARY}")
  endif()
  file(SIZE ${STRIPPED} size)
  if(size GREATER 204800)
    message(FATAL_ERROR "the stripped runtime is ${size} bytes, over 200 KB")
  endif()
  message(STATUS "stripped runtime: ${size} bytes")
endif()
