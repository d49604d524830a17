# SPDX-License-Identifier: GPL-2.0 OR MIT
# Tests of llamuxd (included from tests/tests.cmake): bash + curl scripts in
# tests/daemon/, each given the llamuxd and llamux programs, run from the
# project root; they install the Debian and npm packages they need.
add_executable(dbus_generate ${CMAKE_SOURCE_DIR}/tests/daemon/dbus_generate.c)
target_link_libraries(dbus_generate PRIVATE PkgConfig::LLAMUXD_DEPS)

# The in-process and daemon backends of `llamux run` print the same text.
add_executable(daemon_client ${CMAKE_SOURCE_DIR}/tests/daemon/daemon_client.c
                             ${CMAKE_SOURCE_DIR}/cli/backend_daemon.c)
target_compile_definitions(daemon_client PRIVATE _GNU_SOURCE)
target_include_directories(daemon_client PRIVATE ${CMAKE_SOURCE_DIR}/cli)
target_link_libraries(daemon_client PRIVATE llamux_tools llamux CURL::libcurl
                      PkgConfig::LLAMUXD_JSON m)

function(llamuxd_test name timeout)
  add_test(NAME daemon_${name}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/daemon/test_${name}.sh
                   $<TARGET_FILE:llamuxd> $<TARGET_FILE:llamux_cli>
                   $<TARGET_FILE:dbus_generate> $<TARGET_FILE:daemon_client>
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(daemon_${name} PROPERTIES TIMEOUT ${timeout}
                       LABELS daemon ${ARGN})
  if(LLAMUX_SANITIZE)
    set_property(TEST daemon_${name} APPEND PROPERTY ENVIRONMENT
                 LLAMUXD_SANITIZED=1)
  endif()
endfunction()

llamuxd_test(http 300)
llamuxd_test(faults 300)
llamuxd_test(openai 600)
llamuxd_test(dbus 300)
llamuxd_test(nginx 300)
llamuxd_test(systemd 120)
llamuxd_test(client 120)
llamuxd_test(lsh 120)
set_property(TEST daemon_lsh APPEND PROPERTY ENVIRONMENT LSH=$<TARGET_FILE:lsh>)
# Timing-sensitive: alone on the machine.
llamuxd_test(load 600)
set_tests_properties(daemon_load PROPERTIES RUN_SERIAL TRUE)
