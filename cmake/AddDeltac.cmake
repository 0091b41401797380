# Thin helpers shared by deltac's CMake files.
#
# deltac links against the shared libMLIR.so / libLLVM.so that Debian ships: linking a tool against the
# static MLIR archives takes minutes on a 2-core machine, against the shared libraries seconds.

# add_deltac_library(name SOURCES... [DEPENDS tablegen targets...] [LINK_LIBS deltac libraries...])
function(add_deltac_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;LINK_LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_UNPARSED_ARGUMENTS})
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_LINK_LIBS} MLIR LLVM)
endfunction()

# add_deltac_tool(name SOURCES... [LINK_LIBS deltac libraries...])
function(add_deltac_tool name)
  cmake_parse_arguments(ARG "" "" "LINK_LIBS" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${ARG_LINK_LIBS} MLIR LLVM)
endfunction()
