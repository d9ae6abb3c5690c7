#ifndef CLOUDLESS_CSYSTEM_SHIM_H
#define CLOUDLESS_CSYSTEM_SHIM_H
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <zlib.h>

/* GNU extensions of glibc, declared here rather than through _GNU_SOURCE (which would give this module C types that
   differ from the Glibc module's). */
extern int pipe2(int pipefd[2], int flags);
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

static inline int cloudless_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
static inline int cloudless_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}
/* Close every descriptor from `from` up in the child (glibc 2.34+): sockets and files the emulator opened without
   O_CLOEXEC (NIO's listeners among them) must not live on in a function instance. */
static inline int cloudless_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
#endif
