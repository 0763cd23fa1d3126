# Compiler warnings and sanitizers shared by every target of the project.
add_library(eft_build_options INTERFACE)
add_library(eft::build_options ALIAS eft_build_options)

target_compile_options(eft_build_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                                                   -Wnon-virtual-dtor -Wold-style-cast -Wcast-align)
if(EFT_WARNINGS_AS_ERRORS)
  target_compile_options(eft_build_options INTERFACE -Werror)
endif()

if(EFT_SANITIZE)
  if(EFT_SANITIZE MATCHES "thread" AND EFT_SANITIZE MATCHES "address")
    message(FATAL_ERROR "EFT_SANITIZE: thread cannot be combined with address; use address,undefined or thread")
  endif()
  target_compile_options(eft_build_options INTERFACE -fsanitize=${EFT_SANITIZE} -fno-omit-frame-pointer
                                                     -fno-sanitize-recover=undefined)
  target_link_options(eft_build_options INTERFACE -fsanitize=${EFT_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12's flow analysis runs over the sanitizers' instrumentation and, at -O1, reports Asio's
    # use_future completion as maybe-uninitialized; builds without sanitizers keep the warning.
    target_compile_options(eft_build_options INTERFACE -Wno-maybe-uninitialized)
  endif()
  if(EFT_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Asio's handler invocation uses std::atomic_thread_fence, which g++ 12 flags under TSan
    # (-Wtsan); its queues are mutex-protected, which TSan does model.
    target_compile_options(eft_build_options INTERFACE -Wno-tsan)
  endif()
endif()

if(EFT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "EFT_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Instrument the libraries for coverage-guided fuzzing; the fuzz targets add the libFuzzer main.
  target_compile_options(eft_build_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                                                     -fno-omit-frame-pointer)
  target_link_options(eft_build_options INTERFACE -fsanitize=address,undefined)
endif()
