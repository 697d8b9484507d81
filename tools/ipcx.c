/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* ipcx: list the IPC objects of this machine, find the stale ones ipcx left behind, remove
 * them. Written against the public C API (include/ipcx.h); see docs/inspect.md.
 *
 *   ipcx list  [--all] [--json] [--dir DIR]...
 *   ipcx clean [--dry-run] [--records-only] [--json] [--dir DIR]...
 *   ipcx rm KIND NAME [--foreign]
 *   ipcx --help | --version
 *
 * Exit status: 0 success; 1 failure (an error, or an object that could not be removed);
 * 2 usage error; 3 refused (the object is not ipcx's and --foreign was not given);
 * 4 no such object.
 */
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcx.h"

enum { EXIT_USAGE = 2, EXIT_REFUSED = 3, EXIT_NOT_FOUND = 4 };

#define MAX_DIRS 64

static void usage(FILE *f) {
    fputs("usage: ipcx list  [--all] [--json] [--dir DIR]...\n"
          "       ipcx clean [--dry-run] [--records-only] [--json] [--dir DIR]...\n"
          "       ipcx rm KIND NAME [--foreign]\n"
          "       ipcx --help | --version\n"
          "\n"
          "list    the IPC objects ipcx created (System V queues, segments and semaphore\n"
          "        sets; POSIX shared memory, queues and named semaphores; rings; FIFOs and\n"
          "        socket files), whether each is stale (its creator is gone and nothing is\n"
          "        attached), and the records whose objects vanished.\n"
          "        --all       also other programs' objects (state \"foreign\")\n"
          "        --dir DIR   look for other programs' FIFOs and socket files under DIR\n"
          "clean   remove ipcx's stale objects and the records of vanished ones; never\n"
          "        anything ipcx did not create.\n"
          "        --dry-run       only show what would be removed\n"
          "        --records-only  only forget records whose objects vanished\n"
          "        --dir DIR       consider FIFOs and socket files under DIR only\n"
          "rm      remove one object: KIND is sysv-msq, sysv-shm, sysv-sem, posix-shm,\n"
          "        posix-mq, posix-sem, fifo, socket or ring; NAME is the id (System V),\n"
          "        the name (\"/orders\") or the absolute path. Only ipcx's objects, unless\n"
          "        --foreign is given.\n"
          "--json  print JSON instead of a table\n"
          "\n"
          "exit status: 0 ok, 1 failure, 2 usage error, 3 refused (not ipcx's: use --foreign),\n"
          "4 no such object\n",
          f);
}

/* ---------------------------------------------------------------- formatting */

static const char *owner_name(uint32_t uid, char *buf, size_t len) {
    struct passwd *pw = getpwuid((uid_t)uid);
    if (pw && pw->pw_name) snprintf(buf, len, "%s", pw->pw_name);
    else snprintf(buf, len, "%u", uid);
    return buf;
}

static const char *age_text(int64_t s, char *buf, size_t len) {
    if (s < 0) snprintf(buf, len, "-");
    else if (s < 120) snprintf(buf, len, "%llds", (long long)s);
    else if (s < 7200) snprintf(buf, len, "%lldm", (long long)(s / 60));
    else if (s < 172800) snprintf(buf, len, "%lldh", (long long)(s / 3600));
    else snprintf(buf, len, "%lldd", (long long)(s / 86400));
    return buf;
}

static const char *state_text(uint32_t flags, char *buf, size_t len) {
    const char *s = (flags & IPCX_OBJECT_VANISHED)   ? "vanished"
                    : (flags & IPCX_OBJECT_STALE)    ? "ipcx,stale"
                    : (flags & IPCX_OBJECT_IPCX)     ? "ipcx"
                                                     : "foreign";
    snprintf(buf, len, "%s%s", s, (flags & IPCX_OBJECT_REMOVED) ? ",removed" : "");
    return buf;
}

static const char *name_text(const ipcx_object_info *o, char *buf, size_t len) {
    if (o->kind == IPCX_OBJECT_SYSV_MSQ || o->kind == IPCX_OBJECT_SYSV_SHM ||
        o->kind == IPCX_OBJECT_SYSV_SEM)
        snprintf(buf, len, "id %d key 0x%08x", o->id, (unsigned)o->key);
    else snprintf(buf, len, "%s", o->name);
    return buf;
}

static void print_table(const ipcx_object_list *l, size_t n) {
    printf("%-9s  %-32s  %-8s  %-4s  %10s  %5s  %3s  %7s  %-5s  %5s  %s\n", "TYPE", "NAME", "OWNER",
           "MODE", "SIZE", "DEPTH", "ATT", "CREATOR", "ALIVE", "AGE", "STATE");
    for (size_t i = 0; i < n; i++) {
        ipcx_object_info o = {.size = sizeof o};
        if (ipcx_object_list_get(l, i, &o) != IPCX_OK) continue;
        char name[4200], own[64], age[32], st[48], depth[24], att[24], cre[24];
        snprintf(depth, sizeof depth, o.depth < 0 ? "-" : "%lld", (long long)o.depth);
        snprintf(att, sizeof att, o.attached < 0 ? "?" : "%lld", (long long)o.attached);
        snprintf(cre, sizeof cre, o.creator_pid > 0 ? "%d" : "-", o.creator_pid);
        const char *alive = o.creator_alive == 1 ? "yes" : o.creator_alive == 0 ? "no" : "?";
        char mode[8] = "-";
        if (o.flags & IPCX_OBJECT_VANISHED) snprintf(att, sizeof att, "-"); /* no object */
        else snprintf(mode, sizeof mode, "%04o", o.mode);
        printf("%-9s  %-32s  %-8s  %4s  %10llu  %5s  %3s  %7s  %-5s  %5s  %s\n",
               ipcx_object_kind_name(o.kind), name_text(&o, name, sizeof name),
               owner_name(o.uid, own, sizeof own), mode, (unsigned long long)o.bytes, depth,
               att, cre, alive, age_text(o.age, age, sizeof age), state_text(o.flags, st, sizeof st));
    }
}

/* A JSON string: control characters, quotes and backslashes escaped; bytes that are not
 * valid UTF-8 replaced by U+FFFD, so the output is always valid JSON. */
static void json_string(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    putchar('"');
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
            p++;
        } else if (c < 0x20) {
            printf("\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            putchar(c);
            p++;
        } else {
            int n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            int ok = n > 0 && c != 0xC0 && c != 0xC1 && c <= 0xF4;
            for (int k = 1; ok && k < n; k++)
                if ((p[k] & 0xC0) != 0x80) ok = 0;
            if (ok) {
                fwrite(p, 1, (size_t)n, stdout);
                p += n;
            } else {
                fputs("\\ufffd", stdout);
                p++;
            }
        }
    }
    putchar('"');
}

static void print_json(const ipcx_object_list *l, size_t n, const char *warnings) {
    printf("{\n  \"objects\": [");
    for (size_t i = 0; i < n; i++) {
        ipcx_object_info o = {.size = sizeof o};
        if (ipcx_object_list_get(l, i, &o) != IPCX_OK) continue;
        char own[64];
        printf("%s\n    {\"kind\": ", i ? "," : "");
        json_string(ipcx_object_kind_name(o.kind));
        printf(", \"name\": ");
        json_string(o.name);
        printf(", \"key\": %d, \"id\": %d, \"uid\": %u, \"owner\": ", o.key, o.id, o.uid);
        json_string(owner_name(o.uid, own, sizeof own));
        printf(", \"mode\": \"%04o\", \"size\": %llu, \"depth\": %lld, \"attached\": %lld, "
               "\"creator_pid\": %d, \"creator_alive\": %s, \"last_pid\": %d, \"created\": %lld, "
               "\"age\": %lld, \"ipcx\": %s, \"stale\": %s, \"vanished\": %s, \"removed\": %s}",
               o.mode, (unsigned long long)o.bytes, (long long)o.depth, (long long)o.attached,
               o.creator_pid,
               o.creator_alive == 1 ? "true" : o.creator_alive == 0 ? "false" : "null",
               o.last_pid, (long long)o.created, (long long)o.age,
               (o.flags & IPCX_OBJECT_IPCX) ? "true" : "false",
               (o.flags & IPCX_OBJECT_STALE) ? "true" : "false",
               (o.flags & IPCX_OBJECT_VANISHED) ? "true" : "false",
               (o.flags & IPCX_OBJECT_REMOVED) ? "true" : "false");
    }
    printf("%s],\n  \"warnings\": [", n ? "\n  " : "");
    int first = 1;
    const char *w = warnings;
    while (w && *w) {
        const char *e = strchr(w, '\n');
        size_t len = e ? (size_t)(e - w) : strlen(w);
        char *line = malloc(len + 1);
        if (!line) break;
        memcpy(line, w, len);
        line[len] = 0;
        printf("%s\n    ", first ? "" : ",");
        json_string(line);
        free(line);
        first = 0;
        w = e ? e + 1 : w + len;
    }
    printf("%s]\n}\n", first ? "" : "\n  ");
}

static void print_warnings(const char *warnings) {
    const char *w = warnings;
    while (w && *w) {
        const char *e = strchr(w, '\n');
        int len = e ? (int)(e - w) : (int)strlen(w);
        fprintf(stderr, "ipcx: warning: %.*s\n", len, w);
        w = e ? e + 1 : w + len;
    }
}

static int fail(const char *what, ipcx_status s) {
    fprintf(stderr, "ipcx: %s: %s (%s)\n", what, ipcx_last_error(), ipcx_strerror((int)s));
    if (s == IPCX_ERR_INVALID) return EXIT_USAGE;
    if (s == IPCX_ERR_NOT_FOUND) return EXIT_NOT_FOUND;
    return 1;
}

/* ---------------------------------------------------------------- commands */

static int cmd_list_or_clean(int clean, int argc, char **argv) {
    const char *dirs[MAX_DIRS];
    size_t ndirs = 0;
    int json = 0;
    uint32_t flags = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (!clean && strcmp(argv[i], "--all") == 0) flags |= IPCX_INSPECT_ALL;
        else if (clean && strcmp(argv[i], "--dry-run") == 0) flags |= IPCX_INSPECT_DRY_RUN;
        else if (clean && strcmp(argv[i], "--records-only") == 0) flags |= IPCX_INSPECT_RECORDS_ONLY;
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 == argc) {
            fprintf(stderr, "ipcx %s: --dir needs a directory\n", clean ? "clean" : "list");
            usage(stderr);
            return EXIT_USAGE;
        } else if (strcmp(argv[i], "--dir") == 0) {
            if (ndirs == MAX_DIRS) {
                fprintf(stderr, "ipcx: at most %d --dir options\n", MAX_DIRS);
                return EXIT_USAGE;
            }
            dirs[ndirs++] = argv[++i];
        } else {
            fprintf(stderr, "ipcx %s: unknown argument \"%s\"\n", clean ? "clean" : "list", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    ipcx_object_list *l = NULL;
    ipcx_status s = clean ? ipcx_inspect_clean(dirs, ndirs, flags, &l)
                          : ipcx_inspect_list(dirs, ndirs, flags, &l);
    if (s != IPCX_OK) return fail(clean ? "clean" : "list", s);
    size_t n = 0;
    const char *warnings = "";
    ipcx_object_list_count(l, &n);
    ipcx_object_list_warnings(l, &warnings);
    size_t removed = 0;
    for (size_t i = 0; clean && !(flags & IPCX_INSPECT_DRY_RUN) && i < n; i++) {
        ipcx_object_info o = {.size = sizeof o};
        if (ipcx_object_list_get(l, i, &o) == IPCX_OK && (o.flags & IPCX_OBJECT_REMOVED)) removed++;
    }
    int failed = clean && !(flags & IPCX_INSPECT_DRY_RUN) && removed < n;
    if (json) {
        print_json(l, n, warnings);
    } else {
        print_warnings(warnings);
        if (n) print_table(l, n);
        if (clean && (flags & IPCX_INSPECT_DRY_RUN))
            printf((flags & IPCX_INSPECT_RECORDS_ONLY) ? "%zu record(s) would be forgotten\n"
                                                       : "%zu object(s) would be removed\n",
                   n);
        else if (clean && failed)
            printf("%zu of %zu object(s) removed (the others could not be: see the warnings)\n",
                   removed, n);
        else if (clean && (flags & IPCX_INSPECT_RECORDS_ONLY))
            printf("%zu record(s) of vanished objects forgotten\n", n);
        else if (clean)
            printf("%zu object(s) removed\n", n);
        else if (!n)
            printf("no %sIPC objects found\n", (flags & IPCX_INSPECT_ALL) ? "" : "ipcx ");
    }
    ipcx_object_list_close(l);
    return failed ? 1 : 0;
}

static int cmd_rm(int argc, char **argv) {
    const char *kind = NULL, *name = NULL;
    uint32_t flags = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--foreign") == 0) flags |= IPCX_INSPECT_FOREIGN;
        else if (!kind) kind = argv[i];
        else if (!name) name = argv[i];
        else {
            fprintf(stderr, "ipcx rm: unexpected argument \"%s\"\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!kind || !name) {
        fputs("ipcx rm: needs KIND and NAME\n", stderr);
        usage(stderr);
        return EXIT_USAGE;
    }
    uint32_t k;
    ipcx_status s = ipcx_object_kind_from_name(kind, &k);
    if (s != IPCX_OK) return fail("rm", s);
    s = ipcx_inspect_remove(k, name, flags);
    if (s == IPCX_ERR_PERMISSION && !(flags & IPCX_INSPECT_FOREIGN) &&
        strstr(ipcx_last_error(), "not created by ipcx")) {
        fprintf(stderr, "ipcx: rm: %s\n", ipcx_last_error());
        return EXIT_REFUSED;
    }
    if (s != IPCX_OK) return fail("rm", s);
    printf("removed %s %s\n", kind, name);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("ipcx %s\n", ipcx_version());
        return 0;
    }
    if (strcmp(cmd, "list") == 0) return cmd_list_or_clean(0, argc - 2, argv + 2);
    if (strcmp(cmd, "clean") == 0) return cmd_list_or_clean(1, argc - 2, argv + 2);
    if (strcmp(cmd, "rm") == 0) return cmd_rm(argc - 2, argv + 2);
    fprintf(stderr, "ipcx: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
