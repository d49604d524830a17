# SPDX-License-Identifier: GPL-2.0 OR MIT
# libFuzzer harnesses (clang only; -DLLAMUX_FUZZ=ON). Every fuzz/fuzz_*.c
# becomes a program of the same name. The core and the POSIX host are compiled
# again here with coverage and ASan+UBSan, since libllamux may be built
# without them. They go into one static library, so a harness links only the
# objects it reaches (the forward pass stays out of a reader-only harness).
# Run, e.g.:
#   mkdir -p /tmp/corpus && cp fuzz/seeds/* /tmp/corpus/
#   fuzz_gguf -max_total_time=60 -max_len=65536 /tmp/corpus

if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "LLAMUX_FUZZ needs clang: -DCMAKE_C_COMPILER=clang")
endif()

set(LLAMUX_FUZZ_SANITIZE -fsanitize=address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer -g)

add_library(llamux_fuzz_host OBJECT ${CMAKE_SOURCE_DIR}/host/platform_posix.c)
target_compile_options(llamux_fuzz_host PRIVATE ${LLAMUX_FUZZ_SANITIZE}
                                                -fsanitize=fuzzer-no-link)
target_compile_definitions(llamux_fuzz_host PRIVATE _GNU_SOURCE)
target_include_directories(llamux_fuzz_host PRIVATE ${CMAKE_SOURCE_DIR}/core)

# The SIMD kernels are left out: no harness reaches the matrix code, and
# clang takes minutes over them with ASan and coverage.
set(LLAMUX_FUZZ_CORE_SOURCES ${LLAMUX_CORE_SOURCES})
list(FILTER LLAMUX_FUZZ_CORE_SOURCES EXCLUDE REGEX "/core/kernels_avx[0-9a-z]*\\.c$")
add_library(llamux_fuzz_core STATIC ${LLAMUX_FUZZ_CORE_SOURCES}
                                    $<TARGET_OBJECTS:llamux_fuzz_host>)
target_compile_options(llamux_fuzz_core PRIVATE ${LLAMUX_CORE_FLAGS}
                       ${LLAMUX_FUZZ_SANITIZE} -fsanitize=fuzzer-no-link)
target_include_directories(llamux_fuzz_core PUBLIC ${CMAKE_SOURCE_DIR}/include
                                                   ${CMAKE_SOURCE_DIR}/core)
target_link_libraries(llamux_fuzz_core PUBLIC Threads::Threads m)

file(GLOB LLAMUX_FUZZ_HARNESSES CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${LLAMUX_FUZZ_HARNESSES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_compile_options(${name} PRIVATE ${LLAMUX_FUZZ_SANITIZE}
                                         -fsanitize=fuzzer)
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE llamux_fuzz_core)
endforeach()
