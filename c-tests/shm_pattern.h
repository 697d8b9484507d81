/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* A deterministic byte pattern for the shared memory tests: byte k of a record made with
 * `seed` depends on k and seed, so a shifted, stale or partial copy never matches. */
#ifndef IPCX_SHM_PATTERN_H
#define IPCX_SHM_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void shm_pattern(void *dst, size_t n, uint64_t seed) {
    unsigned char *p = dst;
    uint64_t mix = (seed + 1) * 0xD6E8FEB86659FD93ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = ((uint64_t)i + 1) * 0x9E3779B97F4A7C15ull ^ mix;
        memcpy(p + i, &w, 8);
    }
    for (; i < n; i++) p[i] = (unsigned char)((i * 31 + 7) ^ (seed * 131));
}

#endif
