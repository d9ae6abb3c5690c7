#ifndef CLOUDLESS_CSYSTEM_SHIM_H
#define CLOUDLESS_CSYSTEM_SHIM_H
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

/* Namespaces for ECS tasks (glibc declares these only under _GNU_SOURCE). setns and unshare with CLONE_NEWNET act on
   the calling thread alone, which is why NamespaceThread exists. */
extern int setns(int fd, int nstype);
extern int unshare(int flags);
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
#define CLOUDLESS_CLONE_NEWNET 0x40000000
static inline int cloudless_unshare_net(void) { return unshare(CLOUDLESS_CLONE_NEWNET); }
static inline int cloudless_setns_net(int fd) { return setns(fd, CLOUDLESS_CLONE_NEWNET); }
/* SOCK_CLOEXEC has O_CLOEXEC's value on Linux. */
static inline int cloudless_accept_cloexec(int fd) { return accept4(fd, 0, 0, O_CLOEXEC); }
/* Bring `lo` of the calling thread's network namespace up: a fresh namespace starts with it down. */
static inline int cloudless_loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | O_CLOEXEC, 0);
    if (s < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    close(s);
    return rc;
}
#endif
