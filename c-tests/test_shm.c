/* Shared memory: regions of every kind across fork. */
#include "test.h"

T_CASE(anonymous_region_shared_across_fork) {
    ipcx_region *r;
    T_OK(ipcx_region_create_anonymous(1 << 20, &r));
    void *base = NULL;
    size_t size = 0;
    T_OK(ipcx_region_info(r, &base, &size));
    T_ASSERT(base != NULL && size == 1 << 20);
    T_ASSERT(((unsigned char *)base)[12345] == 0); /* zero-filled */
    ipcx_pipe *rd, *wr;
    T_OK(ipcx_pipe_create(NULL, &rd, &wr));
    pid_t p = t_fork();
    if (p == 0) {
        /* The child writes through the raw pointer and with a bounded copy. */
        memset(base, 0xAB, 4096);
        T_OK(ipcx_region_write(r, size - 5, "tail!", 5));
        T_OK(ipcx_pipe_send(wr, "done", 4, 10000)); /* the hand-off */
        T_OK(ipcx_region_close(r));
        _exit(0);
    }
    char buf[8];
    size_t len = sizeof buf;
    T_OK(ipcx_pipe_recv(rd, buf, &len, 10000));
    T_ASSERT(((unsigned char *)base)[0] == 0xAB && ((unsigned char *)base)[4095] == 0xAB);
    T_OK(ipcx_region_read(r, size - 5, buf, 5));
    T_ASSERT(memcmp(buf, "tail!", 5) == 0);
    t_wait_ok(p, 10000);
    T_OK(ipcx_pipe_close(rd));
    T_OK(ipcx_pipe_close(wr));
    T_OK(ipcx_region_close(r));
}

T_CASE(region_bad_input) {
    ipcx_region *r = (ipcx_region *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_region_create_anonymous(0, &r));
    T_ASSERT(r == NULL);
    T_ERR(IPCX_ERR_INVALID, ipcx_region_create_anonymous((size_t)-1, &r));
    T_ERR(IPCX_ERR_LIMIT, ipcx_region_create_anonymous((size_t)1 << 62, &r));
    T_LAST_ERROR_HAS("not enough memory");
    T_ERR(IPCX_ERR_INVALID, ipcx_region_create_anonymous(4096, NULL));
    T_OK(ipcx_region_create_anonymous(4096, &r));
    char buf[16] = {0};
    /* Out-of-bounds copies, including offsets that would overflow. */
    T_ERR(IPCX_ERR_INVALID, ipcx_region_write(r, 4090, buf, 7));
    T_LAST_ERROR_HAS("outside the 4096-byte region");
    T_ERR(IPCX_ERR_INVALID, ipcx_region_read(r, 4097, buf, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_region_read(r, (size_t)-1, buf, 2));
    T_ERR(IPCX_ERR_INVALID, ipcx_region_write(r, 0, NULL, 3));
    T_ERR(IPCX_ERR_INVALID, ipcx_region_read(r, 0, NULL, 3));
    T_OK(ipcx_region_write(r, 4096, NULL, 0)); /* empty copy at the end is fine */
    T_ERR(IPCX_ERR_INVALID, ipcx_region_info(NULL, NULL, NULL));
    T_OK(ipcx_region_info(r, NULL, NULL));
    /* Closed regions. */
    T_OK(ipcx_region_close(r));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_read(r, 0, buf, 1));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_write(r, 0, buf, 1));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_info(r, NULL, NULL));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_region_close(r));
    T_OK(ipcx_region_close(NULL));
}

T_MAIN(T_ENTRY(anonymous_region_shared_across_fork), T_ENTRY(region_bad_input))
