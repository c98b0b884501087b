// Anonymous inodes (see anon_inode.h).
#include "anon_inode.h"

#include <carbyne/string.h>
#include "../proc/process.h"

namespace carbyne::libos::fs {

namespace {
constinit uint64_t g_next_ino = 1;
}

uint64_t anon_inode_number() { return __atomic_fetch_add(&g_next_ino, 1, __ATOMIC_RELAXED); }

void anon_inode_stat(uint64_t ino, Stat* out) {
    memset(out, 0, sizeof(*out));
    out->mode = 0600;
    out->ino = ino;
    out->dev = 0xd;  // Linux's anon_inodefs is a fixed, unnamed device
    out->nlink = 1;
    out->blksize = 4096;
    out->uid = g_process.uid;
    out->gid = g_process.gid;
}

}  // namespace carbyne::libos::fs
