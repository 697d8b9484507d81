/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// The header compiles as C++17 (-Wall -Wextra -Werror), included twice.
#include "ipcx.h"
#include "ipcx.h"

#include <cstring>
#include <string>

int main() {
    ipcx_options *o = nullptr;
    if (ipcx_options_create(&o) != IPCX_OK) return 1;
    if (ipcx_options_close(o) != IPCX_OK) return 1;
    std::string v = ipcx_version();
    return v == IPCX_VERSION_STRING && std::strlen(ipcx_strerror(IPCX_ERR_TIMEOUT)) > 0 ? 0 : 1;
}
