# deltac_add_model: compile a model into a static library at build time (part of the deltac CMake
# package, deltacConfig.cmake; docs/examples/embed shows a whole project).
#
#   find_package(deltac REQUIRED)
#   deltac_add_model(<name> CHECKPOINT <HF directory | file.gguf>
#                    [TARGET <host | x86-64-avx2 | x86-64-avx512>] [QUANT <scheme>]
#                    [EMBED_WEIGHTS] [OUTPUT_DIRECTORY <dir>] [EXTRA_ARGS <deltac compile args>...])
#   target_link_libraries(app PRIVATE <name>)
#
# Adds a build step running `deltac compile <checkpoint> --emit=lib -o <dir>/<name>` (re-run when a
# file of the checkpoint or deltac itself changes) and <name>, an imported static library target:
# linking it puts <dir> on the include path and links <dir>/lib<name>.a, libm and the thread
# library. <dir> (default: ${CMAKE_CURRENT_BINARY_DIR}/<name>) then holds
#   lib<name>.a         the program, its kernels and the deltac runtime (no main)
#   <name>.h            declares <id>_open() and <id>_program(), <id> being <name> as a C identifier
#   deltac/runtime.h    the runtime's C API, which <name>.h includes
#   <name>.dcw          the weight store (not with EMBED_WEIGHTS), which <id>_open(NULL, ...) opens
# TARGET is deltac's --target (default host: the machine that builds), QUANT its --quant;
# EXTRA_ARGS go to `deltac compile` as they are (--act-quant int8, --max-context 2048, ...).
# Every deltac library carries the runtime, so a program links one model library.

function(deltac_add_model name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "EMBED_WEIGHTS" "CHECKPOINT;TARGET;QUANT;OUTPUT_DIRECTORY"
    "EXTRA_ARGS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "deltac_add_model(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
    message(FATAL_ERROR "deltac_add_model(${name}): the name must be usable as a file name "
                        "(letters, digits, _ . + -)")
  endif()
  if(NOT ARG_CHECKPOINT)
    message(FATAL_ERROR "deltac_add_model(${name}): CHECKPOINT is required")
  endif()
  get_filename_component(checkpoint "${ARG_CHECKPOINT}" ABSOLUTE
    BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  # What the build step depends on: every file of a Hugging Face directory (the glob is checked
  # again at build time, so an added shard reconfigures), or the GGUF file.
  if(IS_DIRECTORY "${checkpoint}")
    file(GLOB inputs CONFIGURE_DEPENDS "${checkpoint}/*.json" "${checkpoint}/*.safetensors"
      "${checkpoint}/*.gguf")
  elseif(EXISTS "${checkpoint}")
    set(inputs "${checkpoint}")
  else()
    message(FATAL_ERROR "deltac_add_model(${name}): no checkpoint at ${checkpoint}")
  endif()

  set(dir "${ARG_OUTPUT_DIRECTORY}")
  if(NOT dir)
    set(dir "${CMAKE_CURRENT_BINARY_DIR}/${name}")
  endif()
  get_filename_component(dir "${dir}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  set(outputs "${dir}/lib${name}.a" "${dir}/${name}.h" "${dir}/deltac/runtime.h")
  set(args compile "${checkpoint}" --emit=lib -o "${dir}/${name}" --no-progress)
  if(ARG_TARGET)
    list(APPEND args "--target=${ARG_TARGET}")
  endif()
  if(ARG_QUANT)
    list(APPEND args "--quant=${ARG_QUANT}")
  endif()
  if(ARG_EMBED_WEIGHTS)
    list(APPEND args --embed-weights)
  else()
    list(APPEND outputs "${dir}/${name}.dcw")
  endif()
  add_custom_command(OUTPUT ${outputs}
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${dir}"
    COMMAND deltac::deltac ${args} ${ARG_EXTRA_ARGS}
    DEPENDS ${inputs} "$<TARGET_FILE:deltac::deltac>"
    COMMENT "Compiling the model ${name} with deltac"
    VERBATIM)
  add_custom_target(${name}_deltac DEPENDS ${outputs})

  # An imported target's include directory must exist when the project is generated.
  file(MAKE_DIRECTORY "${dir}")
  add_library(${name} STATIC IMPORTED)
  set_target_properties(${name} PROPERTIES
    IMPORTED_LOCATION "${dir}/lib${name}.a"
    INTERFACE_INCLUDE_DIRECTORIES "${dir}"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;m")
  add_dependencies(${name} ${name}_deltac)
endfunction()
