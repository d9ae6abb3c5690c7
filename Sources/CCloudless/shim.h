#ifndef CLOUDLESS_CSYSTEM_SHIM_H
#define CLOUDLESS_CSYSTEM_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <zlib.h>

/* GNU extensions the Glibc module does not show to Swift. */
static inline int cloudless_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
static inline int cloudless_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}
#endif
