/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Built only in the sanitizer preset and expected to FAIL: a heap overflow that
 * AddressSanitizer must catch, proving the instrumentation is live. */
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    (void)argv;
    char *p = malloc(8);
    memset(p, 0, 8 + (size_t)argc * 8); /* argc >= 1: writes past the end */
    int r = p[3];
    free(p);
    return r;
}
