// The file and path calls: open and the *at family, reads and writes, metadata, links,
// xattrs, locks, fcntl and ioctl. Written-through paths are absolute scratch paths.
#include "calls.h"

// --- files and paths ---

static const uint64_t kOpenFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
                                   O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE |
                                   O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_SYNC |
                                   O_PATH | O_TMPFILE;

static int open_writes(uint64_t flags) {
    return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE));
}

static uint64_t gen_open_flags(struct worker *w) {
    uint64_t f = gen_flags(w, kOpenFlags);
    if (chance(w, 85))
        f |= O_NONBLOCK;  // a FIFO would block the open, and later reads
    return f;
}

static uint64_t gen_mode(struct worker *w) {
    static const uint64_t kModes[] = {0, 0600, 0644, 0755, 0777, 07777, 0170000 | 0644, (uint64_t)-1};
    return chance(w, 70) ? PICK(w, kModes) : gen_int(w);
}

// A path for `flags`: written-through ones stay in the scratch directories.
static uint64_t path_for(struct worker *w, uint64_t flags) {
    return open_writes(flags) ? gen_path_rw(w) : gen_path_ro(w);
}

static void g_open(struct worker *w, struct call *c) {
    A[1] = gen_open_flags(w);
    A[0] = path_for(w, A[1]);
    A[2] = gen_mode(w);
}

static void g_openat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[2] = gen_open_flags(w);
    // Relative paths resolve against a dirfd that may be anywhere: only for reading.
    A[1] = path_for(w, A[2]);
    A[3] = gen_mode(w);
}

static void g_creat(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = gen_mode(w);
}

static void g_openat2(struct worker *w, struct call *c) {
    struct open_how *how = scratch(w, 4096);
    memset(how, 0, 64);
    how->flags = gen_open_flags(w);
    how->mode = chance(w, 80) ? (how->flags & (O_CREAT | O_TMPFILE) ? 0600 : 0) : gen_mode(w);
    how->resolve = gen_flags(w, 0x3f);
    A[0] = gen_dirfd(w);
    A[1] = path_for(w, how->flags);
    A[2] = ctl(w, how);
    static const uint64_t kSizes[] = {0, 8, 23, 24, 25, 32, 64, 4096, 4097};
    A[3] = chance(w, 80) ? sizeof(*how) : PICK(w, kSizes);
    if (chance(w, 5))
        ((char *)how)[24 + below(w, 40)] = 1;  // nonzero past the known fields: E2BIG
}

static void g_close(struct worker *w, struct call *c) { A[0] = gen_fd(w); }

static void p_close(struct worker *w, struct call *c, long ret) {
    if (ret == 0)
        note_closed(w, (int)A[0]);
}

static void g_close_range(struct worker *w, struct call *c) {
    int fd = gen_fd(w);
    A[0] = fd < 3 ? 3 + below(w, 64) : (uint64_t)fd;  // never 0, 1, 2
    A[1] = chance(w, 50) ? A[0] + below(w, 4) : chance(w, 50) ? ~0u : (uint64_t)gen_fd(w);
    if (A[1] < 3 && A[1] >= A[0])
        A[1] = A[0];
    A[2] = gen_flags(w, CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE);
    if ((uint32_t)A[0] <= 2)
        A[0] = 3;
}

static void g_dup(struct worker *w, struct call *c) { A[0] = gen_fd(w); }

static int gen_newfd(struct worker *w) {
    int fd = gen_fd(w);
    return fd >= 0 && fd < 3 ? 3 : fd;
}

static void g_dup2(struct worker *w, struct call *c) {
    A[0] = gen_fd(w);
    A[1] = chance(w, 10) ? A[0] : (uint64_t)gen_newfd(w);
}

static void g_dup3(struct worker *w, struct call *c) {
    A[0] = gen_fd(w);
    A[1] = chance(w, 10) ? A[0] : (uint64_t)gen_newfd(w);
    A[2] = gen_flags(w, O_CLOEXEC);
}

static void g_read(struct worker *w, struct call *c) {
    A[0] = gen_fd(w);
    size_t room = 1 + below(w, 8192);
    A[1] = gen_out(w, room);
    A[2] = gen_size(w, room);
}

static void g_write(struct worker *w, struct call *c) {
    A[0] = gen_fd(w);
    size_t room = 1 + below(w, 4096);
    A[1] = gen_in_rand(w, room);
    A[2] = gen_size(w, room);
}

static void g_pread(struct worker *w, struct call *c) {
    g_read(w, c);
    A[0] = gen_fd_of(w, K_FILE);
    A[3] = gen_offset(w);
}

static void g_pwrite(struct worker *w, struct call *c) {
    g_write(w, c);
    A[0] = gen_fd_of(w, K_FILE);
    A[3] = gen_offset(w);
}

static void g_readv(struct worker *w, struct call *c) {
    A[0] = gen_fd(w);
    A[1] = gen_iovec(w, &A[2], 1);
}

static void g_writev(struct worker *w, struct call *c) {
    A[0] = gen_fd(w);
    A[1] = gen_iovec(w, &A[2], 0);
}

static void split_offset(struct worker *w, struct call *c, int at) {
    uint64_t off = gen_offset(w);
    A[at] = off & 0xffffffff;  // preadv's pos_l, pos_h
    A[at + 1] = off >> 32;
    if (chance(w, 5))
        A[at] = (uint64_t)-1;  // -1: the current position (preadv2)
}

static void g_preadv(struct worker *w, struct call *c) {
    g_readv(w, c);
    A[0] = gen_fd_of(w, K_FILE);
    split_offset(w, c, 3);
}

static void g_pwritev(struct worker *w, struct call *c) {
    g_writev(w, c);
    A[0] = gen_fd_of(w, K_FILE);
    split_offset(w, c, 3);
}

static void g_preadv2(struct worker *w, struct call *c) {
    g_preadv(w, c);
    A[5] = gen_flags(w, 0x7f);
}

static void g_pwritev2(struct worker *w, struct call *c) {
    g_pwritev(w, c);
    A[5] = gen_flags(w, 0x7f);
}

static void g_lseek(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[1] = chance(w, 80) ? gen_offset(w) : gen_int(w);
    A[2] = chance(w, 90) ? below(w, 5) : gen_int(w);  // SEEK_SET..SEEK_HOLE
}

static void g_stat(struct worker *w, struct call *c) {
    A[0] = gen_path_ro(w);
    A[1] = gen_out(w, sizeof(struct stat));
}

static void g_fstat(struct worker *w, struct call *c) {
    A[0] = chance(w, 5) ? below(w, 3) : (uint64_t)gen_fd(w);  // reading 0-2 is harmless
    A[1] = gen_out(w, sizeof(struct stat));
}

static void g_newfstatat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    if (chance(w, 10)) {
        char *empty = scratch(w, 1);  // "", for AT_EMPTY_PATH
        *empty = 0;
        A[1] = (uint64_t)empty;
    } else {
        A[1] = gen_path_ro(w);
    }
    A[2] = gen_out(w, sizeof(struct stat));
    A[3] = gen_flags(w, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT);
}

static void g_statx(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[1] = gen_path_ro(w);
    if (chance(w, 10)) {
        A[1] = (uint64_t)scratch(w, 1);
        *(char *)A[1] = 0;
    }
    A[2] = gen_flags(w, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_FORCE_SYNC |
                            AT_STATX_DONT_SYNC);
    A[3] = gen_flags(w, 0xffffffff);
    A[4] = gen_out(w, 256);
}

static void g_access(struct worker *w, struct call *c) {
    A[0] = gen_path_ro(w);
    A[1] = gen_flags(w, 7);
}

static void g_faccessat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[1] = gen_path_ro(w);
    A[2] = gen_flags(w, 7);
    A[3] = gen_flags(w, AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH);
}

static void g_readlink(struct worker *w, struct call *c) {
    A[0] = gen_path_ro(w);
    size_t room = 1 + below(w, 512);
    A[1] = gen_out(w, room);
    A[2] = gen_size(w, room);
}

static void g_readlinkat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[1] = gen_path_ro(w);
    size_t room = 1 + below(w, 512);
    A[2] = gen_out(w, room);
    A[3] = gen_size(w, room);
}

static void g_getdents64(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_DIR);
    size_t room = 1 + below(w, 4096);
    A[1] = gen_out(w, room);
    A[2] = gen_size(w, room);
}

static void g_mkdir(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = gen_mode(w);
}

static void g_mkdirat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);  // ignored: the path is absolute
    A[1] = gen_path_rw(w);
    A[2] = gen_mode(w);
}

static void g_path1(struct worker *w, struct call *c) { A[0] = gen_path_rw(w); }

static void g_unlinkat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[1] = gen_path_rw(w);
    A[2] = gen_flags(w, AT_REMOVEDIR);
}

static void g_rename(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = gen_path_rw(w);
}

static void g_renameat2(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[1] = gen_path_rw(w);
    A[2] = gen_dirfd(w);
    A[3] = gen_path_rw(w);
    A[4] = gen_flags(w, RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT);
}

static void g_linkat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[1] = gen_path_rw(w);
    A[2] = gen_dirfd(w);
    A[3] = gen_path_rw(w);
    // Not AT_EMPTY_PATH: that would link whatever the fd is, from anywhere.
    A[4] = gen_flags(w, AT_SYMLINK_FOLLOW) & ~(uint64_t)AT_EMPTY_PATH;
}

// A symlink target: stays inside the scratch directories whatever follows it (no "..").
static uint64_t gen_link_target(struct worker *w) {
    static const char *const kTargets[] = {"f0", "f1", "d0", "l0", "l1", "n0", "d0/f0", "d1",
                                           "", "p0", "d0/d2", "l2/f0"};
    if (chance(w, 80)) {
        const char *t = PICK(w, kTargets);
        char *p = scratch(w, strlen(t) + 1);
        strcpy(p, t);
        return ctl(w, p);  // a target read from garbage could point anywhere
    }
    if (chance(w, 50)) {
        char *p = scratch(w, 5000);  // longer than PATH_MAX
        memset(p, 'a', 4999);
        p[4999] = 0;
        return (uint64_t)p;
    }
    return gen_path_rw(w);  // absolute, into a scratch directory
}

static void g_symlink(struct worker *w, struct call *c) {
    A[0] = gen_link_target(w);
    A[1] = gen_path_rw(w);
}

static void g_symlinkat(struct worker *w, struct call *c) {
    A[0] = gen_link_target(w);
    A[1] = gen_dirfd(w);
    A[2] = gen_path_rw(w);
}

static void g_chmod(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = gen_mode(w);
}

static void g_fchmod(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[1] = gen_mode(w);
}

static void g_fchmodat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[1] = gen_path_rw(w);
    A[2] = gen_mode(w);
    A[3] = gen_flags(w, AT_SYMLINK_NOFOLLOW);
}

static void g_chown(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = gen_uid(w);
    A[2] = gen_uid(w);
}

static void g_fchown(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[1] = gen_uid(w);
    A[2] = gen_uid(w);
}

static void g_fchownat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[1] = gen_path_rw(w);
    A[2] = gen_uid(w);
    A[3] = gen_uid(w);
    A[4] = gen_flags(w, AT_SYMLINK_NOFOLLOW);  // not AT_EMPTY_PATH (the fd may be anything)
}

// A file length that never makes a disk or tmpfs fill up: small, or too large to be valid.
static uint64_t gen_file_len(struct worker *w) {
    static const int64_t kLens[] = {0, 1, 4095, 4096, 1 << 20, -1, INT64_MIN, INT64_MAX, 1ll << 62,
                                    0x7ffffffffffff000};
    return chance(w, 70) ? below(w, 4 * PAGE) : (uint64_t)PICK(w, kLens);
}

static void g_truncate(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = gen_file_len(w);
}

static void g_ftruncate(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[1] = gen_file_len(w);
}

static void g_fallocate(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[1] = gen_flags(w, 0x7f);  // KEEP_SIZE, PUNCH_HOLE, COLLAPSE, ZERO, INSERT, UNSHARE
    A[2] = gen_offset(w);
    // At most 1 MiB, or a length no file system takes: a huge one on tmpfs or a memfd
    // would allocate until memory runs out.
    static const int64_t kOdd[] = {0, -1, INT64_MIN, INT64_MAX};
    A[3] = chance(w, 85) ? 1 + below(w, 1 << 20) : (uint64_t)PICK(w, kOdd);
    if ((int64_t)A[3] == INT64_MAX && (int64_t)A[2] <= 0)
        A[2] = 1;  // the end wraps: EFBIG
}

static void g_utime(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = chance(w, 30) ? 0 : gen_in_rand(w, 16);
}

static void g_utimes(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    if (chance(w, 30)) {
        A[1] = 0;
        return;
    }
    struct timeval *tv = scratch(w, 2 * sizeof(*tv));
    for (int i = 0; i < 2; i++) {
        long s, ns;
        fill_timespec(w, &s, &ns);
        tv[i].tv_sec = s;
        tv[i].tv_usec = ns / 1000;
    }
    A[1] = maybe_bad(w, tv);
}

static void g_futimesat(struct worker *w, struct call *c) {
    struct call tmp;
    g_utimes(w, &tmp);
    A[0] = gen_dirfd(w);
    A[1] = tmp.a[0];
    A[2] = tmp.a[1];
}

static void g_utimensat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    // Never a NULL path (that changes the times of whatever the fd is).
    A[1] = gen_path_rw(w);
    if (!A[1])
        A[1] = 1;
    if (chance(w, 25)) {
        A[2] = 0;
    } else {
        struct timespec *ts = scratch(w, 2 * sizeof(*ts));
        for (int i = 0; i < 2; i++) {
            fill_timespec(w, &ts[i].tv_sec, &ts[i].tv_nsec);
            if (chance(w, 20))
                ts[i].tv_nsec = chance(w, 50) ? UTIME_NOW : UTIME_OMIT;
        }
        A[2] = maybe_bad(w, ts);
    }
    A[3] = gen_flags(w, AT_SYMLINK_NOFOLLOW);
}

static uint64_t gen_mknod_mode(struct worker *w) {
    static const uint64_t kTypes[] = {S_IFIFO, S_IFREG, S_IFSOCK, S_IFCHR, S_IFBLK, S_IFDIR, 0, S_IFLNK};
    return PICK(w, kTypes) | (chance(w, 80) ? 0644 : gen_int(w) & 07777);
}

static void g_mknod(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = gen_mknod_mode(w);
    A[2] = chance(w, 80) ? 0 : gen_int(w);
}

static void g_mknodat(struct worker *w, struct call *c) {
    A[0] = gen_dirfd(w);
    A[1] = gen_path_rw(w);
    A[2] = gen_mknod_mode(w);
    A[3] = chance(w, 80) ? 0 : gen_int(w);
}

static void g_statfs(struct worker *w, struct call *c) {
    A[0] = gen_path_ro(w);
    A[1] = gen_out(w, 120);
}

static void g_fstatfs(struct worker *w, struct call *c) {
    A[0] = gen_fd(w);
    A[1] = gen_out(w, 120);
}

static void g_getcwd(struct worker *w, struct call *c) {
    size_t room = 1 + below(w, 4200);
    A[0] = gen_out(w, room);
    A[1] = gen_size(w, room);
}

static void g_chdir(struct worker *w, struct call *c) {
    // Anywhere: written-through paths are absolute and do not depend on the cwd.
    A[0] = gen_path_ro(w);
}

static void g_file1(struct worker *w, struct call *c) { A[0] = gen_fd_of(w, K_FILE); }
static void g_dir1(struct worker *w, struct call *c) { A[0] = gen_fd_of(w, K_DIR); }

static void g_sync_file_range(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[1] = gen_offset(w);
    A[2] = gen_offset(w);
    A[3] = gen_flags(w, 7);
}

static void g_readahead(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[1] = gen_offset(w);
    A[2] = gen_size(w, 1 << 20);
}

static void g_fadvise64(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[1] = gen_offset(w);
    A[2] = gen_offset(w);
    A[3] = chance(w, 90) ? below(w, 6) : gen_int(w);
}

static void g_flock(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    static const uint64_t kOps[] = {LOCK_SH, LOCK_EX, LOCK_UN, LOCK_SH | LOCK_NB, LOCK_EX | LOCK_NB,
                                    LOCK_UN | LOCK_NB, 0, 3, 0xff, (uint64_t)-1};
    A[1] = chance(w, 30) ? LOCK_EX | LOCK_NB : PICK(w, kOps);
}

static void g_fcntl(struct worker *w, struct call *c) {
    static const int kCmds[] = {F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL,
                                F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
                                F_GETOWN, F_SETOWN, F_GETOWN_EX, F_SETOWN_EX, F_GETSIG, F_SETSIG,
                                F_SETLEASE, F_GETLEASE, F_NOTIFY, F_SETPIPE_SZ, F_GETPIPE_SZ,
                                F_ADD_SEALS, F_GET_SEALS, 1036 /* F_GET_RW_HINT */, 1037, 12345, -1};
    A[0] = gen_fd(w);
    int cmd = PICK(w, kCmds);
    A[1] = (uint64_t)(int64_t)cmd;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: A[2] = chance(w, 80) ? below(w, 100) : gen_int(w); break;
    case F_SETFL:
        A[2] = gen_flags(w, O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK | O_RDWR);
        if (chance(w, 90))
            A[2] |= O_NONBLOCK;
        break;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW: {
        struct flock *fl = scratch(w, sizeof(*fl));
        memset(fl, 0, sizeof(*fl));
        fl->l_type = (short)(chance(w, 90) ? below(w, 3) : gen_int(w));
        fl->l_whence = (short)(chance(w, 90) ? below(w, 3) : gen_int(w));
        fl->l_start = (off_t)(chance(w, 80) ? below(w, 100) : gen_offset(w));
        fl->l_len = (off_t)(chance(w, 80) ? below(w, 100) : gen_offset(w));
        fl->l_pid = chance(w, 90) ? 0 : (pid_t)gen_int(w);  // OFD locks want 0
        A[2] = maybe_bad(w, fl);
        break;
    }
    case F_SETOWN:
        // Never another process group: SIGIO would reach whoever is in it.
        A[2] = chance(w, 50) ? (uint64_t)g_pid : chance(w, 50) ? 0 : 0x40000000;
        break;
    case F_SETOWN_EX:
    case F_GETOWN_EX: {
        struct f_owner_ex *o = scratch(w, sizeof(*o));
        o->type = chance(w, 90) ? (int)below(w, 3) : (int)gen_int(w);  // TID, PID, PGRP
        o->pid = o->type == F_OWNER_PGRP ? 0x40000000 : gen_pid_self(w);
        A[2] = ctl(w, o);
        break;
    }
    case F_SETSIG: A[2] = (uint64_t)gen_signal(w); break;
    case F_SETLEASE: A[2] = chance(w, 90) ? below(w, 3) : gen_int(w); break;
    case F_NOTIFY: A[2] = gen_flags(w, 0x8000003f); break;
    case F_SETPIPE_SZ: A[2] = chance(w, 70) ? PAGE << below(w, 6) : gen_int(w); break;
    case F_ADD_SEALS: A[2] = gen_flags(w, 0x3f); break;
    case 1036:
    case 1037: A[2] = gen_out(w, 8); break;
    default: A[2] = gen_int(w); break;
    }
}

static void p_fcntl(struct worker *w, struct call *c, long ret) {
    (void)w;
    if (ret >= 3 && (A[1] == F_DUPFD || A[1] == F_DUPFD_CLOEXEC))
        pool_add((int)ret, K_ANY);
}

static void g_ioctl(struct worker *w, struct call *c) {
    static const unsigned long kReqs[] = {FIONBIO, FIONREAD, FIOCLEX, FIONCLEX, FIOASYNC, TCGETS,
                                          TIOCGWINSZ, TIOCGPGRP, TIOCOUTQ, SIOCATMARK, 0x8912 /* SIOCGIFCONF */,
                                          0x8933 /* SIOCGIFINDEX */, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS,
                                          FIGETBSZ, FS_IOC_GETVERSION, 0x80085203 /* RNDGETENTCNT */,
                                          FIOQSIZE, TCFLSH, TIOCSWINSZ, 0x5441 /* TIOCGPTN */, 0};
    A[0] = gen_fd(w);
    unsigned long req = chance(w, 85) ? PICK(w, kReqs) : (unsigned long)rnd(w);
    A[1] = req;
    if (req == FIONBIO || req == FIOASYNC || req == FS_IOC_SETFLAGS) {
        int *v = scratch(w, 8);
        *v = req == FIONBIO ? (chance(w, 90) ? 1 : 0) : (int)(req == FS_IOC_SETFLAGS ? gen_flags(w, 0x80) : below(w, 2));
        A[2] = maybe_bad(w, v);
    } else if (req == 0x8912) {
        struct {
            int len;
            int pad;
            void *buf;
        } *ifc = scratch(w, 16);
        ifc->len = (int)gen_size(w, 512);
        ifc->buf = scratch(w, 512);
        A[2] = ctl(w, ifc);  // the kernel writes at ifc->buf
    } else {
        // A pointer, or an int taken by value; never a random address (some requests write
        // through it).
        A[2] = chance(w, 80) ? gen_out(w, 256) : chance(w, 50) ? below(w, 65536) : bad_ptr(w);
    }
}

static void g_sendfile(struct worker *w, struct call *c) {
    A[0] = gen_fd(w);
    A[1] = gen_fd_of(w, K_FILE);
    if (chance(w, 50)) {
        A[2] = 0;
    } else {
        int64_t *off = scratch(w, 8);
        *off = (int64_t)gen_offset(w);
        A[2] = maybe_bad(w, off);
    }
    // At most 1 MiB: a huge count from a sparse file would write that much.
    A[3] = chance(w, 95) ? below(w, 1 << 20) : 0;
}

static void g_copy_file_range(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[2] = gen_fd_of(w, K_FILE);
    for (int i = 1; i <= 3; i += 2) {
        if (chance(w, 50)) {
            A[i] = 0;
        } else {
            int64_t *off = scratch(w, 8);
            *off = (int64_t)gen_offset(w);
            A[i] = maybe_bad(w, off);
        }
    }
    A[5] = chance(w, 90) ? 0 : gen_int(w);
    // A huge length only with flags the kernel refuses before copying.
    A[4] = A[5] ? gen_int(w) : below(w, 1 << 20);
}

static void g_splice(struct worker *w, struct call *c) {
    A[0] = chance(w, 50) ? gen_fd_of(w, K_PIPE) : gen_fd(w);
    A[2] = gen_fd_of(w, K_PIPE);
    for (int i = 1; i <= 3; i += 2) {
        if (chance(w, 60)) {
            A[i] = 0;
        } else {
            int64_t *off = scratch(w, 8);
            *off = (int64_t)gen_offset(w);
            A[i] = maybe_bad(w, off);
        }
    }
    A[4] = below(w, 1 << 20);
    A[5] = gen_flags(w, 0xf) | (chance(w, 85) ? SPLICE_F_NONBLOCK : 0);
}

static void g_tee(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_PIPE);
    A[1] = gen_fd_of(w, K_PIPE);
    A[2] = below(w, 1 << 20);
    A[3] = gen_flags(w, 0xf) | (chance(w, 85) ? SPLICE_F_NONBLOCK : 0);
}

static void g_vmsplice(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_PIPE);
    A[1] = gen_iovec(w, &A[2], 0);
    A[3] = gen_flags(w, 0xf) | (chance(w, 85) ? SPLICE_F_NONBLOCK : 0);
}

static void g_memfd_create(struct worker *w, struct call *c) {
    A[0] = gen_string(w, chance(w, 90) ? 20 : 300);
    // Not MFD_HUGETLB: mapped FIXED in the arena, a huge page would reach past it.
    A[1] = gen_flags(w, MFD_CLOEXEC | MFD_ALLOW_SEALING | 0x8 /* NOEXEC_SEAL */ | 0x10 /* EXEC */) &
           ~(uint64_t)(MFD_HUGETLB | (0x3full << 26));
}

static const char *const kXattrNames[] = {"user.fuzz", "user.a", "trusted.fuzz", "security.fuzz",
                                          "system.posix_acl_access", "user.", "", "nosuchns.x",
                                          "user.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};

static uint64_t gen_xattr_name(struct worker *w) {
    if (chance(w, 5)) {
        char *p = scratch(w, 300);  // longer than XATTR_NAME_MAX
        memcpy(p, "user.", 5);
        memset(p + 5, 'n', 290);
        p[295] = 0;
        return (uint64_t)p;
    }
    const char *n = PICK(w, kXattrNames);
    char *p = scratch(w, strlen(n) + 1);
    strcpy(p, n);
    return maybe_bad(w, p);
}

static void g_setxattr(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = gen_xattr_name(w);
    size_t room = below(w, 300);
    A[2] = gen_in_rand(w, room ? room : 1);
    A[3] = chance(w, 90) ? room : gen_size(w, room);
    A[4] = gen_flags(w, 3);  // XATTR_CREATE, XATTR_REPLACE
}

static void g_fsetxattr(struct worker *w, struct call *c) {
    g_setxattr(w, c);
    A[0] = gen_fd_of(w, K_FILE);
}

static void g_getxattr(struct worker *w, struct call *c) {
    A[0] = gen_path_ro(w);
    A[1] = gen_xattr_name(w);
    size_t room = below(w, 300);
    A[2] = gen_out(w, room);
    A[3] = gen_size(w, room);
}

static void g_fgetxattr(struct worker *w, struct call *c) {
    g_getxattr(w, c);
    A[0] = gen_fd_of(w, K_FILE);
}

static void g_listxattr(struct worker *w, struct call *c) {
    A[0] = gen_path_ro(w);
    size_t room = below(w, 300);
    A[1] = gen_out(w, room);
    A[2] = gen_size(w, room);
}

static void g_flistxattr(struct worker *w, struct call *c) {
    g_listxattr(w, c);
    A[0] = gen_fd_of(w, K_FILE);
}

static void g_removexattr(struct worker *w, struct call *c) {
    A[0] = gen_path_rw(w);
    A[1] = gen_xattr_name(w);
}

static void g_fremovexattr(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_FILE);
    A[1] = gen_xattr_name(w);
}

static void g_inotify_init1(struct worker *w, struct call *c) { A[0] = gen_flags(w, IN_NONBLOCK | IN_CLOEXEC); }

static void g_inotify_add_watch(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_INOTIFY);
    A[1] = gen_path_ro(w);
    A[2] = gen_flags(w, 0xffffffff);
}

static void g_inotify_rm_watch(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_INOTIFY);
    A[1] = gen_small(w, 8);
}

const struct sysdef g_calls_fs[] = {
    // files and paths
    S(open, 30, F_RETFD, g_open, NULL),
    S(openat, 40, F_RETFD, g_openat, NULL),
    S(creat, 5, F_RETFD, g_creat, NULL),
    S(openat2, 10, F_RETFD, g_openat2, NULL),
    S(close, 25, 0, g_close, p_close),
    S(close_range, 3, 0, g_close_range, NULL),
    S(dup, 10, F_RETFD, g_dup, NULL),
    S(dup2, 10, F_RETFD, g_dup2, NULL),
    S(dup3, 10, F_RETFD, g_dup3, NULL),
    S(read, 40, F_SIZE2, g_read, NULL),
    S(write, 40, F_SIZE2, g_write, NULL),
    S(pread64, 15, F_SIZE2, g_pread, NULL),
    S(pwrite64, 15, F_SIZE2, g_pwrite, NULL),
    S(readv, 15, 0, g_readv, NULL),
    S(writev, 15, 0, g_writev, NULL),
    S(preadv, 8, 0, g_preadv, NULL),
    S(pwritev, 8, 0, g_pwritev, NULL),
    S(preadv2, 8, 0, g_preadv2, NULL),
    S(pwritev2, 8, 0, g_pwritev2, NULL),
    S(lseek, 15, 0, g_lseek, NULL),
    S(stat, 15, 0, g_stat, NULL),
    S(lstat, 10, 0, g_stat, NULL),
    S(fstat, 15, 0, g_fstat, NULL),
    S(newfstatat, 15, 0, g_newfstatat, NULL),
    S(statx, 15, 0, g_statx, NULL),
    S(access, 10, 0, g_access, NULL),
    S(faccessat, 8, 0, g_faccessat, NULL),
    S(faccessat2, 8, 0, g_faccessat, NULL),
    S(readlink, 10, F_SIZE2, g_readlink, NULL),
    S(readlinkat, 8, 0, g_readlinkat, NULL),
    S(getdents64, 15, F_SIZE2, g_getdents64, NULL),
    S(getdents, 3, F_SIZE2, g_getdents64, NULL),
    S(mkdir, 10, 0, g_mkdir, NULL),
    S(mkdirat, 8, 0, g_mkdirat, NULL),
    S(rmdir, 8, 0, g_path1, NULL),
    S(unlink, 10, 0, g_path1, NULL),
    S(unlinkat, 8, 0, g_unlinkat, NULL),
    S(rename, 10, 0, g_rename, NULL),
    S(renameat, 5, 0, g_renameat2, NULL),
    S(renameat2, 8, 0, g_renameat2, NULL),
    S(link, 8, 0, g_rename, NULL),
    S(linkat, 8, 0, g_linkat, NULL),
    S(symlink, 8, 0, g_symlink, NULL),
    S(symlinkat, 5, 0, g_symlinkat, NULL),
    S(chmod, 8, 0, g_chmod, NULL),
    S(fchmod, 8, 0, g_fchmod, NULL),
    S(fchmodat, 5, 0, g_fchmodat, NULL),
    N("fchmodat2", NR_fchmodat2, 3, 0, g_fchmodat, NULL),
    S(chown, 5, 0, g_chown, NULL),
    S(lchown, 5, 0, g_chown, NULL),
    S(fchown, 5, 0, g_fchown, NULL),
    S(fchownat, 5, 0, g_fchownat, NULL),
    S(truncate, 8, 0, g_truncate, NULL),
    S(ftruncate, 10, 0, g_ftruncate, NULL),
    S(fallocate, 8, 0, g_fallocate, NULL),
    S(utime, 3, 0, g_utime, NULL),
    S(utimes, 3, 0, g_utimes, NULL),
    S(futimesat, 3, 0, g_futimesat, NULL),
    S(utimensat, 8, 0, g_utimensat, NULL),
    S(mknod, 5, 0, g_mknod, NULL),
    S(mknodat, 5, 0, g_mknodat, NULL),
    S(statfs, 5, 0, g_statfs, NULL),
    S(fstatfs, 5, 0, g_fstatfs, NULL),
    S(getcwd, 5, 0, g_getcwd, NULL),
    S(chdir, 3, 0, g_chdir, NULL),
    S(fchdir, 3, 0, g_dir1, NULL),
    S(fsync, 3, 0, g_file1, NULL),
    S(fdatasync, 3, 0, g_file1, NULL),
    S(sync_file_range, 3, 0, g_sync_file_range, NULL),
    S(readahead, 3, 0, g_readahead, NULL),
    S(fadvise64, 3, 0, g_fadvise64, NULL),
    S(flock, 8, 0, g_flock, NULL),
    S(fcntl, 30, 0, g_fcntl, p_fcntl),
    S(ioctl, 20, 0, g_ioctl, NULL),
    S(sendfile, 8, 0, g_sendfile, NULL),
    S(copy_file_range, 5, 0, g_copy_file_range, NULL),
    S(splice, 5, 0, g_splice, NULL),
    S(tee, 3, 0, g_tee, NULL),
    S(vmsplice, 3, 0, g_vmsplice, NULL),
    S(memfd_create, 8, F_RETFD, g_memfd_create, NULL),
    S(setxattr, 3, 0, g_setxattr, NULL),
    S(lsetxattr, 3, 0, g_setxattr, NULL),
    S(fsetxattr, 3, 0, g_fsetxattr, NULL),
    S(getxattr, 3, 0, g_getxattr, NULL),
    S(lgetxattr, 3, 0, g_getxattr, NULL),
    S(fgetxattr, 3, 0, g_fgetxattr, NULL),
    S(listxattr, 3, 0, g_listxattr, NULL),
    S(llistxattr, 3, 0, g_listxattr, NULL),
    S(flistxattr, 3, 0, g_flistxattr, NULL),
    S(removexattr, 3, 0, g_removexattr, NULL),
    S(lremovexattr, 3, 0, g_removexattr, NULL),
    S(fremovexattr, 3, 0, g_fremovexattr, NULL),
    S(inotify_init1, 2, F_RETFD, g_inotify_init1, NULL),
    S(inotify_add_watch, 2, 0, g_inotify_add_watch, NULL),
    S(inotify_rm_watch, 2, 0, g_inotify_rm_watch, NULL),
};
const int g_ncalls_fs = (int)(sizeof(g_calls_fs) / sizeof(g_calls_fs[0]));
