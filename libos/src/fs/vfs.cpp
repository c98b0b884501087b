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

Result<void> vfs_resolve(const char* base, const char* path, bool follow_last, Resolved* out) {
    if (!path[0])
        return Errno(ENOENT);
    size_t plen = strlen(path);
    bool must_be_dir = path[plen - 1] == '/';
    if (must_be_dir)
        follow_last = true;

    // `todo` holds what is left to walk; `done` the resolved prefix ("" meaning "/").
    char* todo = static_cast<char*>(kmalloc(kPathMax * 2));
    if (!todo)
        return Errno(ENOMEM);
    char* link = todo + kPathMax;
    struct Freer {
        char* p;
        ~Freer() { kfree(p); }
    } freer{todo};

    if (path[0] == '/') {
        if (plen >= kPathMax)
            return Errno(ENAMETOOLONG);
        memcpy(todo, path, plen + 1);
    } else {
        size_t blen = strlen(base);
        if (blen + 1 + plen >= kPathMax)
            return Errno(ENAMETOOLONG);
        memcpy(todo, base, blen);
        todo[blen] = '/';
        memcpy(todo + blen + 1, path, plen + 1);
    }

    char* done = out->path;
    size_t done_len = 0;
    unsigned links = 0;
    size_t pos = 0;
    bool exists = true;
    const Mount* mount = nullptr;
    Stat st{};
    TRY(lookup("/", &mount, &exists, &st));

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
            while (done_len > 0 && done[done_len - 1] != '/')
                done_len--;
            if (done_len > 0)
                done_len--;
            done[done_len] = '\0';
            TRY(lookup(done_len ? done : "/", &mount, &exists, &st));
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
        if (!exists || (st.mode & S_IFMT) != S_IFLNK || (last && !follow_last))
            continue;
        // A symlink to follow: the rest of the walk becomes target + "/" + remaining.
        if (++links > kMaxSymlinks)
            return Errno(ELOOP);
        size_t tlen = TRY(mount->fs->readlink(path_below(done, mount->path), link, kPathMax));
        if (tlen == 0)
            return Errno(ENOENT);
        size_t rest = strlen(todo + pos);
        if (tlen + 1 + rest + 1 > kPathMax)
            return Errno(ENAMETOOLONG);
        memmove(todo + tlen + 1, todo + pos, rest + 1);
        memcpy(todo, link, tlen);
        todo[tlen] = '/';
        pos = 0;
        done_len = link[0] == '/' ? 0 : saved_len;
        done[done_len] = '\0';
        TRY(lookup(done_len ? done : "/", &mount, &exists, &st));
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
        if (r.mount->readonly)
            return Errno(EROFS);
    }
    return r.mount->fs->open(r, flags, mode);
}

Result<size_t> vfs_readlink(const Resolved& r, char* buf, size_t size) {
    if (!r.exists)
        return Errno(ENOENT);
    if ((r.stat.mode & S_IFMT) != S_IFLNK)
        return Errno(EINVAL);
    return r.mount->fs->readlink(r.rel, buf, size);
}

}  // namespace carbyne::libos::fs
