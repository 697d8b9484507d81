/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Example: message queues between a parent and its children.
 *
 * System V: one queue, message types as independent channels. Two workers each receive
 * only their own type (1 or 2); the parent sends jobs to both over the same queue and
 * collects the answers on type 3. Removing the queue wakes anyone still blocked on it.
 *
 * POSIX: a named queue where the receiver gets the highest priority first, with a
 * timeout on the monotonic clock.
 *
 * Build: cc msgq.c $(pkg-config --cflags --libs ipcx)
 */
#include <ipcx.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, ipcx_last_error());
    return 1;
}

static int system_v(void) {
    ipcx_msgq *q;
    /* A private queue: reachable by our children (and by id); 0600 by default. Use
     * ipcx_sysv_key(path, id, &key) instead of IPCX_KEY_PRIVATE for unrelated processes. */
    if (ipcx_msgq_open(IPCX_KEY_PRIVATE, IPCX_OPEN_CREATE, NULL, &q) != IPCX_OK) return fail("open");
    pid_t kids[2];
    for (long channel = 1; channel <= 2; channel++) {
        if ((kids[channel - 1] = fork()) == 0) {
            char job[64], answer[96];
            size_t len = sizeof job - 1;
            /* Only messages of type `channel` reach this worker. */
            while (ipcx_msgq_recv(q, job, &len, channel, 0, 5000, NULL) == IPCX_OK) {
                job[len] = 0;
                int n = snprintf(answer, sizeof answer, "worker %ld did \"%s\"", channel, job);
                ipcx_msgq_send(q, answer, (size_t)n, 3, 5000);
                len = sizeof job - 1;
            }
            _exit(0); /* IPCX_ERR_REMOVED when the parent removes the queue */
        }
    }
    const char *jobs[] = {"wash", "dry", "fold", "iron"};
    for (int i = 0; i < 4; i++) /* alternate channels 1 and 2 */
        if (ipcx_msgq_send(q, jobs[i], strlen(jobs[i]), 1 + i % 2, 5000) != IPCX_OK) return fail("send");
    for (int i = 0; i < 4; i++) {
        char answer[96];
        size_t len = sizeof answer - 1;
        if (ipcx_msgq_recv(q, answer, &len, 3, 0, 5000, NULL) != IPCX_OK) return fail("recv");
        answer[len] = 0;
        printf("System V: %s\n", answer);
    }
    ipcx_msgq_remove(q); /* wakes both workers, blocked on their channels */
    ipcx_msgq_close(q);
    for (int i = 0; i < 2; i++) waitpid(kids[i], NULL, 0);
    return 0;
}

static int posix(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipcx-example-%d", (int)getpid());
    ipcx_options *o;
    ipcx_options_create(&o);
    ipcx_options_set_max_messages(o, 4); /* depth */
    ipcx_options_set_max_message(o, 64); /* message size; receive buffers need this much */
    ipcx_mq *q;
    int s = ipcx_mq_open(name, IPCX_OPEN_READ | IPCX_OPEN_WRITE | IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE, o, &q);
    ipcx_options_close(o);
    if (s != IPCX_OK) return fail("mq_open");
    if (fork() == 0) { /* the child sends, lowest priority first */
        ipcx_mq_send(q, "routine", 7, 1, 5000);
        ipcx_mq_send(q, "urgent", 6, 9, 5000);
        ipcx_mq_send(q, "normal", 6, 5, 5000);
        _exit(0);
    }
    wait(NULL);
    for (;;) {
        char buf[64];
        size_t len = sizeof buf;
        uint32_t prio;
        s = ipcx_mq_recv(q, buf, &len, 100 /* ms */, &prio);
        if (s == IPCX_ERR_TIMEOUT) break; /* empty for 100 ms */
        if (s != IPCX_OK) return fail("mq_recv");
        printf("POSIX: priority %u: %.*s\n", prio, (int)len, buf);
    }
    ipcx_mq_close(q);
    ipcx_mq_remove(name);
    return 0;
}

int main(void) { return system_v() || posix(); }
