# The other messaging libraries whose wire protocols ipcx channels speak (nng+..., zmq+...):
# the interop tests, the tour's cross-host row, the benchmark and the example use them as
# the other end when they are installed (Debian: libnng-dev, libzmq3-dev); everything
# builds without them. Include from any CMakeLists.txt; defines, once:
#   IPCX_HAVE_ZMQ, IPCX_HAVE_NNG     ON when found
#   ipcx_peer_zmq, ipcx_peer_nng     interface targets to link with
# Found with pkg-config (libzmq, nng); Debian's libnng-dev ships no nng.pc but nng's own
# CMake package, which is used then.
include_guard(GLOBAL)

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(IPCX_PC_ZMQ QUIET IMPORTED_TARGET GLOBAL libzmq)
  pkg_check_modules(IPCX_PC_NNG QUIET IMPORTED_TARGET GLOBAL nng)
endif()

unset(IPCX_HAVE_ZMQ CACHE)
set(IPCX_HAVE_ZMQ OFF)
if(IPCX_PC_ZMQ_FOUND)
  add_library(ipcx_peer_zmq INTERFACE)
  target_link_libraries(ipcx_peer_zmq INTERFACE PkgConfig::IPCX_PC_ZMQ)
  set(IPCX_HAVE_ZMQ ON)
endif()

unset(IPCX_HAVE_NNG CACHE)
set(IPCX_HAVE_NNG OFF)
if(IPCX_PC_NNG_FOUND)
  add_library(ipcx_peer_nng INTERFACE)
  target_link_libraries(ipcx_peer_nng INTERFACE PkgConfig::IPCX_PC_NNG)
  set(IPCX_HAVE_NNG ON)
else()
  find_package(nng CONFIG QUIET)
  if(TARGET nng::nng)
    add_library(ipcx_peer_nng INTERFACE)
    target_link_libraries(ipcx_peer_nng INTERFACE nng::nng Threads::Threads)
    set(IPCX_HAVE_NNG ON)
  endif()
endif()
# Seen from every directory (this file is included once per configure run).
set(IPCX_HAVE_ZMQ ${IPCX_HAVE_ZMQ} CACHE INTERNAL "ZeroMQ found (cmake/peers.cmake)")
set(IPCX_HAVE_NNG ${IPCX_HAVE_NNG} CACHE INTERNAL "nng found (cmake/peers.cmake)")
message(STATUS "ipcx interop peers: ZeroMQ ${IPCX_HAVE_ZMQ}, nng ${IPCX_HAVE_NNG}")
