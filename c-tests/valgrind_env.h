/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The C tests under valgrind (the valgrind preset, docs/testing.md): heavy cases scale
 * down, and the few steps that depend on something valgrind does not emulate like the
 * kernel adapt, each with its reason at the call site. Kept out of test.h (the shared
 * harness); include after it. */
#ifndef IPCX_VALGRIND_ENV_H
#define IPCX_VALGRIND_ENV_H

#include <stdlib.h>
#include <sys/mman.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define T_HAVE_VALGRIND_H 1
#endif
#endif

/* Whether this process runs under valgrind (its client request; without the header, the
 * IPCX_TEST_SCALE the valgrind preset sets). */
static inline int t_under_valgrind(void) {
#ifdef T_HAVE_VALGRIND_H
    return RUNNING_ON_VALGRIND != 0;
#else
    return getenv("IPCX_TEST_SCALE") != NULL;
#endif
}

/* `n` divided by IPCX_TEST_SCALE (set by the valgrind preset; 1 otherwise), at least 1. */
static inline long t_scaled(long n) {
    const char *s = getenv("IPCX_TEST_SCALE");
    long d = s ? strtol(s, NULL, 10) : 1;
    if (d < 1) d = 1;
    return n / d > 0 ? n / d : 1;
}

/* A handle to a placed semaphore, mutex or condition variable maps the object's page on
 * its own with mremap(old_size 0), which valgrind does not emulate (EINVAL); ipcx then
 * borrows the caller's mapping (src/sync/mod.rs). So under valgrind a mapping must outlive
 * the handles placed through it: the "unmapped before the handles" steps unmap late. */
static inline int t_unmap_early(void *p, size_t n) {
    return t_under_valgrind() ? 0 : munmap(p, n);
}
static inline void t_unmap_late(void *p, size_t n) {
    if (t_under_valgrind()) munmap(p, n);
}

#endif /* IPCX_VALGRIND_ENV_H */
