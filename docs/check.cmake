# SPDX-License-Identifier: MIT OR Apache-2.0
# After Doxygen (docs/CMakeLists.txt): no warning, and the pages every reader expects.
file(READ "${DIR}/warnings.log" _w)
if(NOT _w STREQUAL "")
  message(FATAL_ERROR "Doxygen warnings (${DIR}/warnings.log):\n${_w}")
endif()
foreach(page IN ITEMS ipcx ipcx_library ipcx_pipe ipcx_fifo ipcx_chan ipcx_sock ipcx_mq ipcx_msgq
                      ipcx_shm ipcx_shm_segment ipcx_region ipcx_ring ipcx_sem ipcx_semset
                      ipcx_mutex ipcx_cond ipcx_signal ipcx_inspect ipcx_options)
  if(NOT EXISTS "${DIR}/man/man3/${page}.3")
    message(FATAL_ERROR "man page ${page}(3) was not generated")
  endif()
endforeach()
file(STRINGS "${DIR}/man/man3/ipcx_pipe.3" _send REGEX "ipcx_pipe_send")
if(NOT _send)
  message(FATAL_ERROR "ipcx_pipe(3) does not document ipcx_pipe_send")
endif()
if(NOT EXISTS "${DIR}/html/index.html")
  message(FATAL_ERROR "no HTML reference")
endif()
