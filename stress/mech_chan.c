/* Stress plug-ins for the channel layer (ipcx_chan_*, issue 9): one row per transport,
 * made from an address. Built when include/ipcx.h declares ipcx_chan_open (CMake defines
 * IPCX_HAVE_CHAN); until then this file is empty. */
#include "stress.h"

#ifdef IPCX_HAVE_CHAN
#error "chan rows: written below"
#endif
