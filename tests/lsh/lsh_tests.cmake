# SPDX-License-Identifier: GPL-2.0 OR MIT
# lsh's tests: unit tests of the parser, the classifier and the request
# analysis; the 200+ request corpus judged by running commands in a scratch
# tree; the CLI contract; the REPL through a pseudo-terminal.
foreach(t test_lsh_shparse test_lsh_safety)
  add_executable(${t} ${CMAKE_SOURCE_DIR}/tests/lsh/${t}.c ${CMAKE_SOURCE_DIR}/tests/testlib.c)
  target_compile_definitions(${t} PRIVATE _GNU_SOURCE)
  target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${t} PRIVATE lsh_core)
  add_test(NAME ${t} COMMAND ${t} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endforeach()

foreach(t clitest_lsh_corpus clitest_lsh_cli clitest_lsh_pty)
  add_executable(${t} ${CMAKE_SOURCE_DIR}/tests/lsh/${t}.c ${CMAKE_SOURCE_DIR}/tests/testlib.c)
  target_compile_definitions(${t} PRIVATE _GNU_SOURCE)
  target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${t} PRIVATE util)
endforeach()
add_test(NAME clitest_lsh_corpus
         COMMAND clitest_lsh_corpus $<TARGET_FILE:lsh>
                 ${CMAKE_SOURCE_DIR}/tests/lsh/corpus.tsv
                 ${CMAKE_SOURCE_DIR}/tests/lsh/scratch.sh
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME clitest_lsh_cli COMMAND clitest_lsh_cli $<TARGET_FILE:lsh>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
add_test(NAME clitest_lsh_pty COMMAND clitest_lsh_pty $<TARGET_FILE:lsh>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
