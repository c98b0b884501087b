// Mount table and path resolution.
#include "vfs.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <linux/fcntl.h>

namespace carbyne::libos::fs {

namespace {

Mount g_mounts[kMaxMounts];
unsigned g_mount_count;

char* dup_string(const char* s) {
    size_t n = strlen(s) + 1;
    auto* p = static_cast<char*>(kmalloc(n));
    if (p)
        memcpy(p, s, n);
    return p;
}

// Looks up one clean path in the file system that holds it.
Result<void> lookup(const char* clean, const Mount** mount, bool* exists, Stat* st) {
    const Mount* m = vfs_find_mount(clean);
    if (!m)
        return Errno(ENOENT);  // outside every mount
    *mount = m;
    return m->fs->lookup(path_below(clean, m->path), exists, st);
}

}  // namespace

Result<void> vfs_add_mount(const char* path, FileSystem* fs, bool readonly, const char* source) {
    if (g_mount_count == kMaxMounts) {
        destroy(fs);
        return Errno(ENOMEM);
    }
    char clean[kPathMax];
    auto normalized = path_normalize("/", path, clean);
    if (!normalized.ok()) {
        destroy(fs);
        return normalized.error();
    }
    Mount& m = g_mounts[g_mount_count];
    m.path = dup_string(clean);
    m.source = dup_string(source);
    if (!m.path || !m.source) {
        destroy(fs);
        return Errno(ENOMEM);
    }
    m.fs = fs;
    m.readonly = readonly;
    g_mount_count++;
    log_debug("mount %s: %s %s%s", m.path, fs->type_name(), m.source, readonly ? " (read-only)" : "");
    return {};
}

Result<void> vfs_init(const boot::Reader& config) {
    boot::Reader reader = config;
    boot::Record rec;
    while (reader.next(&rec)) {
        if (rec.tag != boot::Tag::Mount)
            continue;
        boot::MountView view;
        if (!boot::decode_mount(rec, &view))
            return Errno(EINVAL);
        bool chroot = view.type == boot::MountType::Chroot;
        FileSystem* fs = chroot ? TRY(chroot_create(view.uri)) : TRY(tmpfs_create());
        TRY(vfs_add_mount(view.path, fs, (view.flags & boot::kMountReadOnly) != 0, chroot ? view.uri : "tmpfs"));
    }
    return {};
}

const Mount* vfs_find_mount(const char* clean_path) {
    const Mount* best = nullptr;
    size_t best_len = 0;
    for (unsigned i = 0; i < g_mount_count; i++) {
        const Mount& m = g_mounts[i];
        size_t len = strlen(m.path);
        // Later mounts at the same path shadow earlier ones, as on Linux.
        if (path_is_within(clean_path, m.path) && (!best || len >= best_len)) {
            best = &m;
            best_len = len;
        }
    }
    return best;
}

unsigned vfs_mount_count() { return g_mount_count; }
const Mount* vfs_mount_at(unsigned i) { return i < g_mount_count ? &g_mounts[i] : nullptr; }

namespace {

// A /proc link that Linux resolves to an object rather than a path ("magic"): below a
// process directory, fd/N, map_files/X, ns/X, exe, cwd and root. /proc/self itself and
// /proc/mounts are ordinary symlinks.
bool is_magic_link(const Mount* m, const char* clean_path) {
    if (strcmp(m->fs->type_name(), "proc") != 0)
        return false;
    const char* rel = path_below(clean_path, m->path);
    const char* name = path_basename(clean_path);
    bool nested = false;
    for (const char* p = rel; *p; p++)
        nested |= *p == '/';
    if (!nested)
        return false;
    if (!strcmp(name, "exe") || !strcmp(name, "cwd") || !strcmp(name, "root"))
        return true;
    size_t dir_end = size_t(name - 1 - clean_path);
    size_t dir_start = dir_end;
    while (dir_start > 0 && clean_path[dir_start - 1] != '/')
        dir_start--;
    size_t n = dir_end - dir_start;
    const char* dir = clean_path + dir_start;
    return (n == 2 && !strncmp(dir, "fd", 2)) || (n == 9 && !strncmp(dir, "map_files", 9)) ||
           (n == 2 && !strncmp(dir, "ns", 2));
}

LastKind last_kind_of(const char* path, bool* trailing_slash) {
    size_t end = strlen(path);
    size_t stripped = end;
    while (stripped > 0 && path[stripped - 1] == '/')
        stripped--;
    *trailing_slash = stripped > 0 && stripped < end;
    if (stripped == 0)
        return path[0] == '/' ? LastKind::Root : LastKind::Normal;
    size_t start = stripped;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t n = stripped - start;
    if (n == 1 && path[start] == '.')
        return LastKind::Dot;
    if (n == 2 && path[start] == '.' && path[start + 1] == '.')
        return LastKind::DotDot;
    return LastKind::Normal;
}

}  // namespace

Result<void> vfs_resolve(const char* base, const char* path, bool follow_last, Resolved* out) {
    return vfs_resolve_with(base, path, follow_last, 0, out);
}

Result<void> vfs_resolve_with(const char* base, const char* path, bool follow_last, uint32_t flags,
                              Resolved* out) {
    if (!path[0])
        return Errno(ENOENT);
    size_t plen = strlen(path);
    if (plen >= kPathMax)
        return Errno(ENAMETOOLONG);
    out->last = last_kind_of(path, &out->trailing_slash);
    bool must_be_dir = false;
    if (out->trailing_slash && !(flags & kResolveLastRaw)) {
        must_be_dir = true;
        follow_last = true;
    }
    bool beneath = flags & kResolveBeneath;
    bool in_root = flags & kResolveInRoot;
    if (path[0] == '/' && beneath)
        return Errno(EXDEV);

    // `todo` holds what is left to walk; `done` the resolved prefix ("" meaning "/").
    char* todo = static_cast<char*>(kmalloc(kPathMax * 2));
    if (!todo)
        return Errno(ENOMEM);
    char* link = todo + kPathMax;
    HeapGuard guard{todo};
    memcpy(todo, path, plen + 1);

    // The walk starts at the root, or at `base` (relative paths; every path in a root jail).
    char* done = out->path;
    size_t done_len = 0;
    if (path[0] != '/' || in_root) {
        done_len = strlen(base);
        if (done_len >= kPathMax)
            return Errno(ENAMETOOLONG);
        memcpy(done, base, done_len + 1);
        if (done_len == 1 && done[0] == '/')
            done_len = 0;
    }
    done[done_len] = '\0';
    // Resolution never climbs above `floor` (the jail of RESOLVE_BENEATH / RESOLVE_IN_ROOT).
    size_t floor = beneath || in_root ? done_len : 0;

    unsigned links = 0;
    size_t pos = 0;
    bool exists = true;
    const Mount* mount = nullptr;
    Stat st{};
    TRY(lookup(done_len ? done : "/", &mount, &exists, &st));
    const Mount* start_mount = mount;
    auto crossed = [&] { return (flags & kResolveNoXdev) && mount != start_mount; };

    for (;;) {
        while (todo[pos] == '/')
            pos++;
        if (!todo[pos])
            break;
        size_t start = pos;
        while (todo[pos] && todo[pos] != '/')
            pos++;
        size_t n = pos - start;
        while (todo[pos] == '/')
            pos++;
        bool last = todo[pos] == '\0';
        if (n > kNameMax)
            return Errno(ENAMETOOLONG);
        if (!exists)
            return Errno(ENOENT);  // a missing directory on the way
        if ((st.mode & S_IFMT) != S_IFDIR)
            return Errno(ENOTDIR);
        if (n == 1 && todo[start] == '.')
            continue;
        if (n == 2 && todo[start] == '.' && todo[start + 1] == '.') {
            if (done_len <= floor) {
                if (beneath)
                    return Errno(EXDEV);
                continue;  // ".." of the root (or of the jail's root) is itself
            }
            while (done_len > 0 && done[done_len - 1] != '/')
                done_len--;
            if (done_len > 0)
                done_len--;
            done[done_len] = '\0';
            TRY(lookup(done_len ? done : "/", &mount, &exists, &st));
            if (crossed())
                return Errno(EXDEV);
            continue;
        }
        if (done_len + 1 + n + 1 > kPathMax)
            return Errno(ENAMETOOLONG);
        size_t saved_len = done_len;
        done[done_len++] = '/';
        memcpy(done + done_len, todo + start, n);
        done_len += n;
        done[done_len] = '\0';
        TRY(lookup(done, &mount, &exists, &st));
        if (crossed())
            return Errno(EXDEV);
        if (!exists || (st.mode & S_IFMT) != S_IFLNK || (last && !follow_last))
            continue;
        // A symlink to follow: the rest of the walk becomes target + "/" + remaining.
        if ((flags & kResolveNoSymlinks) || ((flags & kResolveNoMagicLinks) && is_magic_link(mount, done)))
            return Errno(ELOOP);
        if (++links > kMaxSymlinks)
            return Errno(ELOOP);
        size_t tlen = TRY(mount->fs->readlink(path_below(done, mount->path), link, kPathMax));
        if (tlen == 0)
            return Errno(ENOENT);
        if (link[0] == '/' && beneath)
            return Errno(EXDEV);
        size_t rest = strlen(todo + pos);
        if (tlen + 1 + rest + 1 > kPathMax)
            return Errno(ENAMETOOLONG);
        memmove(todo + tlen + 1, todo + pos, rest + 1);
        memcpy(todo, link, tlen);
        todo[tlen] = '/';
        pos = 0;
        done_len = link[0] == '/' ? floor : saved_len;
        done[done_len] = '\0';
        TRY(lookup(done_len ? done : "/", &mount, &exists, &st));
        if (crossed())
            return Errno(EXDEV);
    }
    if (done_len == 0) {
        done[0] = '/';
        done[1] = '\0';
    }
    if (must_be_dir && exists && (st.mode & S_IFMT) != S_IFDIR)
        return Errno(ENOTDIR);
    out->mount = mount;
    out->rel = path_below(out->path, mount->path);
    out->exists = exists;
    out->stat = st;
    return {};
}

Result<File*> vfs_open(Resolved& r, uint32_t flags, uint32_t mode) {
    uint32_t acc = flags & O_ACCMODE;
    bool wants_write = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC);
    if (r.exists) {
        if ((flags & O_CREAT) && (flags & O_EXCL))
            return Errno(EEXIST);
        uint32_t type = r.stat.mode & S_IFMT;
        if (type == S_IFLNK && !(flags & O_PATH))
            return Errno(ELOOP);  // only reached with O_NOFOLLOW
        if ((flags & O_DIRECTORY) && type != S_IFDIR)
            return Errno(ENOTDIR);
        if (type == S_IFDIR && wants_write && !(flags & O_PATH))
            return Errno(EISDIR);
        if (r.mount->readonly && wants_write && !(flags & O_PATH))
            return Errno(EROFS);
    } else {
        if (!(flags & O_CREAT))
            return Errno(ENOENT);
        if (flags & O_DIRECTORY)
            return Errno(EINVAL);
        if (r.trailing_slash)
            return Errno(EISDIR);  // "name/" can only be a directory, and open makes none
        if (r.mount->readonly)
            return Errno(EROFS);
    }
    File* f = TRY(r.mount->fs->open(r, flags, mode));
    f->set_mount(r.mount);
    return f;
}

Result<size_t> vfs_readlink(const Resolved& r, char* buf, size_t size) {
    if (!r.exists)
        return Errno(ENOENT);
    if ((r.stat.mode & S_IFMT) != S_IFLNK)
        return Errno(EINVAL);
    return r.mount->fs->readlink(r.rel, buf, size);
}

namespace {

bool is_dir(const Resolved& r) { return r.exists && (r.stat.mode & S_IFMT) == S_IFDIR; }

// The checks of a name about to be created (mkdir, mknod, symlink, link's new name), in
// Linux's order (filename_create): ".", ".." and "/" exist; an existing name is EEXIST
// before a read-only mount is EROFS; "name/" of a missing non-directory is ENOENT.
Result<void> check_create(const Resolved& r, bool want_dir) {
    if (r.last != LastKind::Normal || r.exists)
        return Errno(EEXIST);
    if (r.trailing_slash && !want_dir)
        return Errno(ENOENT);
    if (vfs_parent_mount(r)->readonly)
        return Errno(EROFS);
    return {};
}

}  // namespace

const Mount* vfs_parent_mount(const Resolved& r) {
    if (r.rel[0] || (r.path[0] == '/' && r.path[1] == '\0'))
        return r.mount;
    // A mount point: its directory entry lives in the mount of its parent directory.
    char parent[kPathMax];
    strlcpy(parent, r.path, sizeof(parent));
    char* slash = const_cast<char*>(path_basename(parent)) - 1;
    if (slash == parent)
        slash[1] = '\0';
    else
        *slash = '\0';
    const Mount* m = vfs_find_mount(parent);
    return m ? m : r.mount;
}

Result<void> vfs_mkdir(const Resolved& r, uint32_t mode) {
    TRY(check_create(r, true));
    return r.mount->fs->mkdir(r.rel, mode & 07777);
}

Result<void> vfs_mknod(const Resolved& r, uint32_t mode, uint64_t dev) {
    TRY(check_create(r, false));
    if ((mode & S_IFMT) != S_IFREG)
        return Errno(EPERM);  // FIFOs, sockets and devices: no file system here makes them
    return r.mount->fs->mknod(r.rel, mode, dev);
}

Result<void> vfs_symlink(const char* target, const Resolved& r) {
    TRY(check_create(r, false));
    return r.mount->fs->symlink(target, r.rel);
}

Result<void> vfs_unlink(const Resolved& r) {
    if (r.last != LastKind::Normal)
        return Errno(EISDIR);
    if (vfs_parent_mount(r)->readonly)
        return Errno(EROFS);
    if (!r.exists)
        return Errno(ENOENT);
    if (is_dir(r))
        return Errno(EISDIR);
    if (r.trailing_slash)
        return Errno(ENOTDIR);
    if (!r.rel[0])
        return Errno(EBUSY);
    return r.mount->fs->unlink(r.rel);
}

Result<void> vfs_rmdir(const Resolved& r) {
    switch (r.last) {
    case LastKind::DotDot: return Errno(ENOTEMPTY);
    case LastKind::Dot: return Errno(EINVAL);
    case LastKind::Root: return Errno(EBUSY);
    case LastKind::Normal: break;
    }
    if (vfs_parent_mount(r)->readonly)
        return Errno(EROFS);
    if (!r.exists)
        return Errno(ENOENT);
    if (!is_dir(r))
        return Errno(ENOTDIR);
    if (!r.rel[0])
        return Errno(EBUSY);
    return r.mount->fs->rmdir(r.rel);
}

Result<void> vfs_rename(const Resolved& from, const Resolved& to, uint32_t flags) {
    constexpr uint32_t kNoReplace = 1, kExchange = 2;  // RENAME_NOREPLACE, RENAME_EXCHANGE
    const Mount* m = vfs_parent_mount(from);
    if (m != vfs_parent_mount(to))
        return Errno(EXDEV);
    if (from.last != LastKind::Normal)
        return Errno(EBUSY);
    if (to.last != LastKind::Normal)
        return Errno((flags & kNoReplace) ? EEXIST : EBUSY);
    if (m->readonly)
        return Errno(EROFS);
    if (!from.exists)
        return Errno(ENOENT);
    if ((flags & kExchange) && !to.exists)
        return Errno(ENOENT);
    if ((flags & kNoReplace) && to.exists)
        return Errno(EEXIST);
    if (!is_dir(from) && (from.trailing_slash || (!(flags & kExchange) && to.trailing_slash)))
        return Errno(ENOTDIR);
    if ((flags & kExchange) && !is_dir(to) && to.trailing_slash)
        return Errno(ENOTDIR);
    bool same_path = strcmp(from.path, to.path) == 0;
    if (!same_path && path_is_within(to.path, from.path))
        return Errno(EINVAL);  // a directory cannot move below itself
    if (!same_path && path_is_within(from.path, to.path))
        return Errno((flags & kExchange) ? EINVAL : ENOTEMPTY);
    if (!from.rel[0] || (to.exists && !to.rel[0]))
        return Errno(EBUSY);
    if (to.exists && from.stat.dev == to.stat.dev && from.stat.ino == to.stat.ino)
        return {};  // two names of one file: Linux does nothing and succeeds
    if (!(flags & kExchange) && to.exists) {
        if (is_dir(from) && !is_dir(to))
            return Errno(ENOTDIR);
        if (!is_dir(from) && is_dir(to))
            return Errno(EISDIR);
    }
    return from.mount->fs->rename(from.rel, to.rel, flags);
}

Result<void> vfs_link(const Resolved& from, const Resolved& to) {
    if (!from.exists)
        return Errno(ENOENT);
    TRY(check_create(to, false));
    if (from.mount != vfs_parent_mount(to))
        return Errno(EXDEV);
    if (is_dir(from))
        return Errno(EPERM);
    return from.mount->fs->link(from.rel, to.rel);
}

Result<void> vfs_chmod(const Resolved& r, uint32_t mode) {
    if (!r.exists)
        return Errno(ENOENT);
    if (r.mount->readonly)
        return Errno(EROFS);
    if ((r.stat.mode & S_IFMT) == S_IFLNK)
        return Errno(EOPNOTSUPP);  // Linux 6.6+: a symlink's mode cannot change
    return r.mount->fs->chmod(r.rel, mode & 07777);
}

Result<void> vfs_chown(const Resolved& r, uint32_t uid, uint32_t gid) {
    if (!r.exists)
        return Errno(ENOENT);
    if (r.mount->readonly)
        return Errno(EROFS);
    return r.mount->fs->chown(r.rel, uid, gid);
}

Result<void> vfs_truncate(const Resolved& r, uint64_t size) {
    if (!r.exists)
        return Errno(ENOENT);
    if (is_dir(r))
        return Errno(EISDIR);
    if ((r.stat.mode & S_IFMT) != S_IFREG)
        return Errno(EINVAL);
    if (r.mount->readonly)
        return Errno(EROFS);
    return r.mount->fs->truncate(r.rel, size);
}

Result<void> vfs_utimens(const Resolved& r, int64_t atime_ns, int64_t mtime_ns) {
    if (!r.exists)
        return Errno(ENOENT);
    if (r.mount->readonly)
        return Errno(EROFS);
    return r.mount->fs->utimens(r.rel, atime_ns, mtime_ns);
}

Result<void> vfs_statfs(const Mount* m, const char* rel, StatFs* out) {
    TRY(m->fs->statfs_at(rel, out));
    if (m->readonly)
        out->flags |= 1;  // ST_RDONLY
    return {};
}

void vfs_sync_all() {
    for (unsigned i = 0; i < g_mount_count; i++) {
        // sync(2) reports nothing: a file system that cannot write back is skipped.
        auto synced = g_mounts[i].fs->sync();
        if (!synced.ok())
            log_debug("sync of %s: error %d", g_mounts[i].path, synced.error().code);
    }
}

}  // namespace carbyne::libos::fs
