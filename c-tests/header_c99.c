/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The header compiles as strict C99 (-std=c99 -Wall -Wextra -Wpedantic -Werror) and
 * may be included twice. Running it checks the library matches the header. */
#include "ipcx.h"
#include "ipcx.h"

#include <stdio.h>
#include <string.h>

int main(void) {
    ipcx_status s = IPCX_OK;
    int64_t forever = IPCX_FOREVER, nowait = IPCX_NOWAIT;
    if (forever != -1 || nowait != 0 || s != 0) return 1;
    if (strcmp(ipcx_version(), IPCX_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", IPCX_VERSION_STRING, ipcx_version());
        return 1;
    }
    return 0;
}
