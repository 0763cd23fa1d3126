# eft_module(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# One library per folder: public headers under include/eft/<name>/, private code in src/.
# Creates the static library eft_<name> with the alias eft::<name>.
function(eft_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(eft_${name} STATIC ${ARG_SOURCES})
  add_library(eft::${name} ALIAS eft_${name})
  target_include_directories(eft_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                         PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(eft_${name} PUBLIC ${ARG_DEPS} eft::build_options PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# eft_embed_files(<output.cpp> <namespace> <function> FILES ...)
# Compiles text files into a generated source that returns {name, content} pairs, so built-in data
# (dialect specs) ships inside the binaries and is rebuilt whenever a file changes.
function(eft_embed_files output namespace function)
  cmake_parse_arguments(ARG "" "" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} -DNAMESPACE=${namespace} -DFUNCTION=${function}
            "-DFILES=${ARG_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFiles.cmake
    DEPENDS ${ARG_FILES} ${PROJECT_SOURCE_DIR}/cmake/EmbedFiles.cmake
    COMMENT "Embedding ${function} data"
    VERBATIM)
endfunction()
