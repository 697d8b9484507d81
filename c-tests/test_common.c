/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Library-wide API: version, status codes and messages, last error, options, handles. */
#include "test.h"

#include <pthread.h>

T_CASE(version_matches_header) {
    T_ASSERT(ipcx_version() != NULL);
    T_ASSERTF(strcmp(ipcx_version(), IPCX_VERSION_STRING) == 0, "library %s, header %s",
              ipcx_version(), IPCX_VERSION_STRING);
}

T_CASE(strerror_is_static_and_total) {
    const char *seen[64] = {0};
    for (int c = IPCX_OK; c <= IPCX_ERR_INTERNAL; c++) {
        const char *s = ipcx_strerror(c);
        T_ASSERT(s != NULL && s[0] != 0);
        T_ASSERT(ipcx_strerror(c) == s); /* static: same pointer every time */
        for (int k = 0; k < c; k++) T_ASSERTF(strcmp(seen[k], s) != 0, "codes %d and %d share \"%s\"", k, c, s);
        seen[c] = s;
    }
    T_ASSERT(strstr(ipcx_strerror(-1), "unknown") != NULL);
    T_ASSERT(strstr(ipcx_strerror(1000), "unknown") != NULL);
}

static void *other_thread(void *arg) {
    (void)arg;
    /* A fresh thread has no last error. */
    return (void *)(intptr_t)(strlen(ipcx_last_error()) == 0 && ipcx_last_errno() == 0);
}

T_CASE(last_error_detail_and_thread_locality) {
    T_ERR(IPCX_ERR_NOT_FOUND, ipcx_fifo_remove("/tmp/ipcx-t-definitely-missing"));
    T_LAST_ERROR_HAS("ipcx_fifo_remove");
    T_LAST_ERROR_HAS("/tmp/ipcx-t-definitely-missing");
    T_LAST_ERROR_HAS("ENOENT");
    T_EQ_INT(ipcx_last_errno(), ENOENT);
    /* A later success does not clear it (errno-like). */
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_LAST_ERROR_HAS("ipcx_fifo_remove");
    T_OK(ipcx_options_close(o));
    /* Errors found by ipcx itself carry no errno. */
    T_ERR(IPCX_ERR_INVALID, ipcx_options_create(NULL));
    T_EQ_INT(ipcx_last_errno(), 0);
    pthread_t th;
    void *ok = NULL;
    T_ASSERT(pthread_create(&th, NULL, other_thread, NULL) == 0);
    T_ASSERT(pthread_join(th, &ok) == 0);
    T_ASSERT(ok == (void *)1);
    /* A forked child inherits the parent's thread state, including the message. */
    pid_t p = t_fork();
    if (p == 0) {
        T_LAST_ERROR_HAS("ipcx_options_create");
        T_ERR(IPCX_ERR_INVALID, ipcx_pipe_pair(0, NULL, NULL, NULL));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    T_LAST_ERROR_HAS("ipcx_options_create"); /* the child's error stayed in the child */
}

T_CASE(options_validation) {
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_set_mode(o, 0640));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_mode(o, 01000));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_mode(o, 04755));
    T_OK(ipcx_options_set_max_message(o, 1));
    T_OK(ipcx_options_set_max_message(o, 0xFFFFFFFFu));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_max_message(o, 0));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_max_message(o, (size_t)0xFFFFFFFFu + 1));
    T_OK(ipcx_options_set_capacity(o, 65536));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_capacity(o, 0));
    T_OK(ipcx_options_set_atomic(o, true));
    T_OK(ipcx_options_set_sigpipe_guard(o, false));
    /* NULL handles. */
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_mode(NULL, 0600));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_max_message(NULL, 10));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_capacity(NULL, 10));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_atomic(NULL, true));
    T_ERR(IPCX_ERR_INVALID, ipcx_options_set_sigpipe_guard(NULL, true));
    /* An option a mechanism does not honour is refused, naming it. */
    ipcx_pipe *r = (ipcx_pipe *)1, *w = (ipcx_pipe *)1;
    T_ERR(IPCX_ERR_INVALID, ipcx_pipe_pair(0, o, &r, &w)); /* mode and atomic: not for pipes */
    T_LAST_ERROR_HAS("not supported by pipes");
    T_ASSERT(r == NULL && w == NULL); /* out-handles NULL on failure */
    T_OK(ipcx_options_close(o));
    T_OK(ipcx_options_close(NULL));
}

T_CASE(closed_and_foreign_handles) {
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    T_OK(ipcx_options_close(o));
    /* Use after close and double close are reported, never undefined behaviour. */
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_set_mode(o, 0600));
    T_LAST_ERROR_HAS("closed");
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_close(o));
    /* A handle of another type. */
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, NULL, &r, &w));
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_set_mode((ipcx_options *)r, 0600));
    T_LAST_ERROR_HAS("not an ipcx_options");
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_close((ipcx_options *)r));
    /* A pointer that never was a handle. */
    int junk = 0;
    T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_pipe_close((ipcx_pipe *)&junk));
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
    T_OK(ipcx_pipe_close(NULL));
}

T_CASE(handles_survive_fork) {
    /* Options created before fork are usable and destroyable in both processes. */
    ipcx_options *o = NULL;
    T_OK(ipcx_options_create(&o));
    pid_t p = t_fork();
    if (p == 0) {
        T_OK(ipcx_options_set_mode(o, 0644));
        T_OK(ipcx_options_close(o));
        T_ERR(IPCX_ERR_BAD_HANDLE, ipcx_options_close(o));
        _exit(0);
    }
    t_wait_ok(p, 10000);
    T_OK(ipcx_options_set_mode(o, 0600)); /* still alive in the parent */
    T_OK(ipcx_options_close(o));
}

static volatile sig_atomic_t t_got_sig;
static void on_sig(int s) {
    (void)s;
    t_got_sig++;
}

T_CASE(interruptible_threads_get_interrupted) {
    /* A handler without SA_RESTART: by default ipcx resumes the wait; when the thread
     * asks for it, the call returns IPCX_ERR_INTERRUPTED. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigemptyset(&sa.sa_mask);
    T_ASSERT(sigaction(SIGUSR1, &sa, NULL) == 0);
    ipcx_pipe *r, *w;
    T_OK(ipcx_pipe_pair(0, NULL, &r, &w));
    pid_t parent = getpid();
    pid_t p = t_fork();
    if (p == 0) {
        for (int i = 0; i < 40; i++) {
            usleep(20000);
            kill(parent, SIGUSR1);
        }
        _exit(0);
    }
    char buf[16];
    size_t len = sizeof buf;
    /* Default: signals arrive but the call waits out its whole timeout. */
    T_TIMES_OUT(IPCX_ERR_TIMEOUT, 300, ipcx_pipe_recv(r, buf, &len, 300));
    T_ASSERT(t_got_sig > 0);
    ipcx_thread_set_interruptible(true);
    len = sizeof buf;
    T_ERR(IPCX_ERR_INTERRUPTED, ipcx_pipe_recv(r, buf, &len, 5000));
    T_EQ_INT(ipcx_last_errno(), EINTR);
    ipcx_thread_set_interruptible(false);
    t_wait_ok(p, 10000);
    T_OK(ipcx_pipe_close(r));
    T_OK(ipcx_pipe_close(w));
}

T_MAIN(T_ENTRY(version_matches_header), T_ENTRY(strerror_is_static_and_total),
       T_ENTRY(last_error_detail_and_thread_locality), T_ENTRY(options_validation),
       T_ENTRY(closed_and_foreign_handles), T_ENTRY(handles_survive_fork),
       T_ENTRY(interruptible_threads_get_interrupted))
