# C++ programs on include/ipcx.hpp (the C++ tests in cpp-tests/ and examples/cpp/):
# strict C++17 (-std=c++17, no GNU extensions), -Wall -Wextra -Werror, ASan + UBSan under
# IPCX_SANITIZE, valgrind under IPCX_VALGRIND, as the C programs.
include_guard(GLOBAL)

set(IPCX_CXX_WARNINGS -Wall -Wextra -Werror)

# ipcx_cxx_program(name SOURCES ...): a C++17 program linked with libipcx.
function(ipcx_cxx_program name)
  cmake_parse_arguments(P "" "" "SOURCES" ${ARGN})
  add_executable(${name} ${P_SOURCES})
  set_target_properties(${name} PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON
                        CXX_EXTENSIONS OFF)
  target_compile_options(${name} PRIVATE ${IPCX_CXX_WARNINGS})
  target_link_libraries(${name} PRIVATE ipcx::ipcx Threads::Threads rt)
  if(IPCX_SANITIZE)
    target_compile_options(${name} PRIVATE ${IPCX_SAN_FLAGS})
    target_link_options(${name} PRIVATE ${IPCX_SAN_FLAGS})
  endif()
endfunction()

# ipcx_cxx_test(name SOURCES ... [TIMEOUT s]): a forking C++ test (cpp-tests/test.hpp).
# Labelled `cpp` and `c`: it runs wherever the C tests run (the test, asan and valgrind
# presets); `ctest -L cpp` selects the C++ tests alone.
function(ipcx_cxx_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES" ${ARGN})
  ipcx_cxx_program(${name} SOURCES ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/cpp-tests)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  if(IPCX_VALGRIND)
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * ${IPCX_VALGRIND_SLOWDOWN}")
    math(EXPR _case_ms "60000 * ${IPCX_VALGRIND_SLOWDOWN}")
    target_compile_definitions(${name} PRIVATE T_CASE_TIMEOUT_MS=${_case_ms})
  endif()
  add_test(NAME ${name} COMMAND ${IPCX_TEST_LAUNCHER} $<TARGET_FILE:${name}>)
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "c;cpp")
  if(IPCX_VALGRIND)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "IPCX_TEST_SCALE=${IPCX_VALGRIND_SLOWDOWN}")
  endif()
endfunction()
