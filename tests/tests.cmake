# SPDX-License-Identifier: GPL-2.0 OR MIT
# Test registration. Every tests/test_*.c is one unit-test program; every
# tests/clitest_*.c also gets the path of the llamux program as argv[1].
# All run from the project root so that ../shared/... paths resolve.

function(llamux_test_program name src)
  add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/testlib.c)
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE llamux_tools llamux m)
endfunction()

file(GLOB LLAMUX_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/test_*.c)
foreach(src ${LLAMUX_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  llamux_test_program(${name} ${src})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endforeach()

file(GLOB LLAMUX_CLI_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/clitest_*.c)
foreach(src ${LLAMUX_CLI_TESTS})
  get_filename_component(name ${src} NAME_WE)
  llamux_test_program(${name} ${src})
  add_test(NAME ${name} COMMAND ${name} $<TARGET_FILE:llamux_cli>
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endforeach()

# The reference and forward tests again on each lower dispatch level (the
# plain names above use the best level of this CPU; a level the CPU lacks
# falls back to the best one it has, with a warning).
foreach(level scalar avx2 avx512)
  add_test(NAME clitest_reference_${level}
           COMMAND clitest_reference $<TARGET_FILE:llamux_cli>
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  add_test(NAME test_forward_${level} COMMAND test_forward
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(clitest_reference_${level} test_forward_${level}
                       PROPERTIES ENVIRONMENT LLAMUX_CPU=${level})
endforeach()

add_test(NAME freestanding_core
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/check-freestanding.sh)
include(tests/lsh/lsh_tests.cmake)
include(tests/daemon/daemon_tests.cmake)
