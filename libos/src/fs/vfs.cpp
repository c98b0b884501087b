// Mount table and path resolution.
#include "vfs.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <linux/fcntl.h>
#include <linux/inotify.h>

#include "../proc/process.h"
#include "dcache.h"
#include "dentry.h"
#include "inotify.h"
#include "remote.h"
#include "../ipc/leader.h"

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
    m.dcache = nullptr;
    if (fs->walk_cacheable()) {
        auto cache = DentryCache::create();
        if (cache.ok())
            m.dcache = cache.value();
        else
            log_debug("mount %s: no dentry cache (out of memory)", m.path);  // slower, still right
    }
    g_mount_count++;
    log_debug("mount %s: %s %s%s", m.path, fs->type_name(), m.source, readonly ? " (read-only)" : "");
    return {};
}

namespace {

// The mount with the longest path at or above `clean_path` (later mounts at the same path
// shadow earlier ones, as on Linux); with `strictly_above`, the one that holds the
// directory entry of `clean_path` (a mount point's lives in the mount below it).
const Mount* longest_mount(const char* clean_path, bool strictly_above) {
    const Mount* best = nullptr;
    size_t best_len = 0;
    for (unsigned i = 0; i < g_mount_count; i++) {
        const Mount& m = g_mounts[i];
        size_t len = strlen(m.path);
        if (strictly_above && strcmp(m.path, clean_path) == 0)
            continue;
        if (path_is_within(clean_path, m.path) && (!best || len >= best_len)) {
            best = &m;
            best_len = len;
        }
    }
    return best;
}

const Mount* mount_holding_entry(const char* clean_path) { return longest_mount(clean_path, true); }

// A mount point missing in a tmpfs is made there, with the directories above it, as
// Gramine does: `carbyne exec` in a directory under /tmp mounts that directory inside the
// fresh tmpfs at /tmp. (In a chroot mount the host's directory must exist.)
Result<void> make_mount_points() {
    for (unsigned i = 0; i < g_mount_count; i++) {
        const char* path = g_mounts[i].path;
        char prefix[kPathMax];
        for (size_t end = 1; path[end - 1]; end++) {
            if (path[end] != '/' && path[end] != '\0')
                continue;
            memcpy(prefix, path, end);
            prefix[end] = '\0';
            const Mount* holder = mount_holding_entry(prefix);
            if (!holder || strcmp(holder->fs->type_name(), "tmpfs") != 0)
                continue;
            const char* rel = path_below(prefix, holder->path);
            bool exists = false;
            Stat st;
            TRY(holder->fs->lookup(rel, &exists, &st));
            if (!exists)
                TRY(holder->fs->mkdir(rel, 0755));
        }
    }
    return {};
}

}  // namespace

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
        FileSystem* fs = chroot ? TRY(chroot_create(view.uri)) : TRY(shared_tmpfs_create(g_mount_count));
        TRY(vfs_add_mount(view.path, fs, (view.flags & boot::kMountReadOnly) != 0, chroot ? view.uri : "tmpfs"));
    }
    // The tmpfs mounts are the first process's: it made their mount points for everyone.
    return ipc::is_leader() ? make_mount_points() : Result<void>();
}

const Mount* vfs_find_mount(const char* clean_path) { return longest_mount(clean_path, false); }

unsigned vfs_mount_count() { return g_mount_count; }
const Mount* vfs_mount_at(unsigned i) { return i < g_mount_count ? &g_mounts[i] : nullptr; }

int vfs_mount_index(const Mount* m) {
    for (unsigned i = 0; i < g_mount_count; i++)
        if (&g_mounts[i] == m)
            return int(i);
    return -1;
}

namespace {

// A link that Linux resolves to an object rather than a path (FileSystem::magic_link).
bool is_magic_link(const Mount* m, const char* clean_path) {
    int fd;
    return m->fs->magic_link(path_below(clean_path, m->path), &fd);
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

// What a walk knows of the path it has resolved so far. An answer of the dentry cache has
// the type only (a directory's mode and owners, a symlink's target, left in the walk's link
// buffer); `fresh` says that `st` was just read from the file system.
struct WalkNode {
    const Mount* mount;
    bool exists;
    bool fresh;
    uint32_t type;      // S_IFMT bits, when exists
    Attrs attrs;        // a directory's mode and owners (search permission), when exists
    Stat st;            // when fresh
    bool has_target;    // a symlink whose target is in the link buffer
    size_t target_len;
    uint64_t gen;       // the dentry cache's generation before the file system was asked
};

// Remembers in m's dentry cache that `rel` is a directory or a symlink. A walk that starts
// at the working directory (or below a symlink's target, or after "..") meets paths whose
// parents it did not pass through: those are looked up and remembered first, once.
void dcache_remember(const Mount* m, const char* rel, DentryKind kind, const char* target, size_t target_len,
                     uint64_t gen, const Attrs& attrs) {
    DentryCache* cache = m->dcache;
    if (cache->insert(rel, kind, target, target_len, gen, attrs) != DentryInsert::NoParent)
        return;
    auto* prefix = static_cast<char*>(kmalloc(kPathMax));
    if (!prefix)
        return;
    HeapGuard guard{prefix};
    // The directory rel[0..end) is cached when this returns true.
    auto ensure_dir = [&](size_t end) {
        memcpy(prefix, rel, end);
        prefix[end] = '\0';
        DentryKind cached;
        size_t unused;
        if (cache->lookup(prefix, &cached, nullptr, 0, &unused))
            return true;  // (a cached symlink misses: no target buffer)
        bool exists = false;
        Stat st;
        if (!m->fs->lookup(prefix, &exists, &st).ok() || !exists || (st.mode & S_IFMT) != S_IFDIR)
            return false;
        DentryInsert done = cache->insert(prefix, DentryKind::Dir, nullptr, 0, gen, attrs_of(st));
        return done == DentryInsert::Inserted || done == DentryInsert::Present;
    };
    if (!ensure_dir(0))
        return;
    for (size_t i = 0; rel[i]; i++)
        if (rel[i] == '/' && !ensure_dir(i))
            return;
    (void)cache->insert(rel, kind, target, target_len, gen, attrs);
}

// Asks the file system about `clean` (in mount `m`): for the last component, whose
// attributes must be current. A directory found is remembered for later walks; a symlink's
// target is taken from the cache when it has it.
Result<void> lookup_fresh(const Mount* m, const char* clean, WalkNode* n, char* link) {
    const char* rel = path_below(clean, m->path);
    n->mount = m;
    n->gen = m->dcache ? m->dcache->generation() : 0;
    n->exists = false;
    TRY(m->fs->lookup(rel, &n->exists, &n->st));
    n->fresh = true;
    n->has_target = false;
    n->type = n->exists ? n->st.mode & S_IFMT : 0;
    n->attrs = attrs_of(n->st);
    if (!m->dcache || !n->exists || (n->type != S_IFDIR && n->type != S_IFLNK))
        return {};
    DentryKind cached;
    size_t tlen = 0;
    bool hit = m->dcache->lookup(rel, &cached, link, kPathMax, &tlen);
    if (n->type == S_IFDIR && !hit)
        dcache_remember(m, rel, DentryKind::Dir, nullptr, 0, n->gen, n->attrs);
    if (n->type == S_IFLNK && hit && cached == DentryKind::Symlink) {
        n->has_target = true;
        n->target_len = tlen;
    }
    return {};
}

// Looks up a path the walk passes through: the dentry cache answers when it can.
Result<void> lookup_passing(const char* clean, WalkNode* n, char* link) {
    const Mount* m = vfs_find_mount(clean);
    if (!m)
        return Errno(ENOENT);  // outside every mount
    DentryKind kind;
    size_t tlen = 0;
    if (m->dcache && m->dcache->lookup(path_below(clean, m->path), &kind, link, kPathMax, &tlen, &n->attrs)) {
        n->mount = m;
        n->exists = true;
        n->fresh = false;
        n->type = kind == DentryKind::Dir ? S_IFDIR : S_IFLNK;
        n->has_target = kind == DentryKind::Symlink;
        n->target_len = tlen;
        return {};
    }
    return lookup_fresh(m, clean, n, link);
}

Result<void> lookup_last(const char* clean, WalkNode* n, char* link) {
    const Mount* m = vfs_find_mount(clean);
    if (!m)
        return Errno(ENOENT);
    return lookup_fresh(m, clean, n, link);
}

// The target of the symlink the walk stands on, into link[kPathMax]; remembered for later
// walks when the file system's answer is fresh.
Result<size_t> symlink_target(const WalkNode& n, const char* clean, char* link) {
    if (n.has_target)
        return n.target_len;
    const char* rel = path_below(clean, n.mount->path);
    size_t tlen = TRY(n.mount->fs->readlink(rel, link, kPathMax));
    if (n.mount->dcache && n.fresh && tlen < kPathMax)
        dcache_remember(n.mount, rel, DentryKind::Symlink, link, tlen, n.gen, n.attrs);
    return tlen;
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
    out->dir_known = false;
    FsIds who = (flags & kResolveRealIds) ? FsIds::real() : FsIds::current();

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
    WalkNode cur;
    TRY(lookup_passing(done_len ? done : "/", &cur, link));
    const Mount* start_mount = cur.mount;
    auto crossed = [&] { return (flags & kResolveNoXdev) && cur.mount != start_mount; };

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
        if (!cur.exists)
            return Errno(ENOENT);  // a missing directory on the way
        if (cur.type != S_IFDIR)
            return Errno(ENOTDIR);
        // may_lookup: every component, "." and ".." too, needs search permission on the
        // directory it is looked up in (an id of 0 searches any directory).
        if (!who.privileged() && !(flags & kResolveNoSearchCheck))
            TRY(check_permission(who, cur.attrs, kMayExec));
        out->dir = cur.attrs;
        out->dir_known = true;
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
            TRY(lookup_passing(done_len ? done : "/", &cur, link));
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
        // Only the last component needs current attributes; the others need their type.
        TRY(last ? lookup_last(done, &cur, link) : lookup_passing(done, &cur, link));
        if (crossed())
            return Errno(EXDEV);
        if (!cur.exists || cur.type != S_IFLNK || (last && !follow_last))
            continue;
        // A symlink to follow: the rest of the walk becomes target + "/" + remaining.
        if ((flags & kResolveNoSymlinks) || ((flags & kResolveNoMagicLinks) && is_magic_link(cur.mount, done)))
            return Errno(ELOOP);
        if (++links > kMaxSymlinks)
            return Errno(ELOOP);
        size_t tlen = TRY(symlink_target(cur, done, link));
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
        TRY(lookup_passing(done_len ? done : "/", &cur, link));
        if (crossed())
            return Errno(EXDEV);
    }
    if (done_len == 0) {
        done[0] = '/';
        done[1] = '\0';
    }
    // The walk ended on a path it passed through (the base, "..", a symlink's directory):
    // its attributes come from the file system, not from the cache.
    if (cur.exists && !cur.fresh)
        TRY(lookup_last(done, &cur, link));
    if (must_be_dir && cur.exists && cur.type != S_IFDIR)
        return Errno(ENOTDIR);
    out->mount = cur.mount;
    out->rel = path_below(out->path, cur.mount->path);
    out->exists = cur.exists;
    out->stat = cur.exists ? cur.st : Stat{};
    return {};
}

namespace {

// may_create's permission part for the name `r` is about to get (the directory it would be
// made in was searched by the walk already).
Result<void> check_may_create(const Resolved& r) {
    if (!r.dir_known)
        return {};
    return check_create_in(FsIds::current(), r.dir);
}

// may_delete's permission part for the name `r` (which exists): write and search
// permission on its directory, and the sticky bit's rule.
Result<void> check_may_delete(const FsIds& who, const Resolved& r) {
    if (!r.dir_known)
        return {};
    return check_delete_from(who, r.dir, attrs_of(r.stat));
}

// A file made on a mount of host files (chroot) belongs on the host to the host process's
// ids. Linux gives it to its maker's file-system ids (the group of a set-group-ID directory
// instead, which the host applies itself): when those differ from the host process's, the
// new file is given to them, so that later permission checks see its real owner. A host
// process that may not chown (not root) leaves it as it is. Symlinks are left alone.
void own_new_file(const Resolved& r) {
    if (!r.mount->fs->host_root())
        return;  // tmpfs gives its files to their makers itself
    Credentials c = process_creds();
    bool setgid_dir = r.dir_known && (r.dir.mode & S_ISGID);
    uint32_t uid = c.uid.fs == g_boot->host_uid ? ~0u : c.uid.fs;
    uint32_t gid = setgid_dir || c.gid.fs == g_boot->host_gid ? ~0u : c.gid.fs;
    if (uid == ~0u && gid == ~0u)
        return;
    auto given = r.mount->fs->chown(r.rel, uid, gid);
    vfs_dcache_forget(r.mount, r.rel);  // a concurrent walk may have cached the host's owner
    if (!given.ok())
        log_debug("%s: cannot give the new file to %u:%u (error %d)", r.path, uid, gid, given.error().code);
}

}  // namespace

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
        // A FIFO or a socket keeps no data on its mount: a read-only mount opens it for
        // writing too, and O_TRUNC means nothing to it (Linux's sb_permission, may_open).
        bool holds_data = type != S_IFIFO && type != S_IFSOCK;
        if (r.mount->readonly && wants_write && holds_data && !(flags & O_PATH))
            return Errno(EROFS);
        // may_open's inode_permission (O_PATH opens without it), then O_NOATIME's owner rule.
        if (!(flags & O_PATH)) {
            FsIds who = FsIds::current();
            uint32_t want = acc == O_RDONLY ? kMayRead : acc == O_WRONLY ? kMayWrite : kMayRead | kMayWrite;
            if (flags & O_TRUNC)
                want |= kMayWrite;
            TRY(check_permission(who, attrs_of(r.stat), want));
            if ((flags & O_NOATIME) && !owner_or_privileged(who, attrs_of(r.stat)))
                return Errno(EPERM);
        }
    } else {
        if (!(flags & O_CREAT))
            return Errno(ENOENT);
        if (flags & O_DIRECTORY)
            return Errno(EINVAL);
        if (r.trailing_slash)
            return Errno(EISDIR);  // "name/" can only be a directory, and open makes none
        if (r.mount->readonly)
            return Errno(EROFS);
        // may_o_create; the new file itself is then opened without a permission check, as
        // Linux opens what it has just created (open("f", O_CREAT | O_WRONLY, 0444) works).
        TRY(check_may_create(r));
    }
    File* f = TRY(r.mount->fs->open(r, flags, mode));
    f->set_mount(r.mount);
    f->set_dentry(dentry_get(r.path));
    if (!r.exists) {
        own_new_file(r);
        notify_path(r.path, IN_CREATE, false);
    }
    if (!(flags & O_PATH))
        notify_file(f, IN_OPEN);
    return f;
}

Result<File*> vfs_open_tmpfile(Resolved& dir, uint32_t flags, uint32_t mode) {
    if (!dir.exists)
        return Errno(ENOENT);
    if ((dir.stat.mode & S_IFMT) != S_IFDIR)
        return Errno(ENOTDIR);  // a symlink too, with O_NOFOLLOW
    if (dir.mount->readonly)
        return Errno(EROFS);
    // vfs_tmpfile: the directory must be writable (before EOPNOTSUPP).
    TRY(check_create_in(FsIds::current(), attrs_of(dir.stat)));
    File* f = TRY(dir.mount->fs->open_tmpfile(dir, flags, mode));
    f->set_mount(dir.mount);
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

// Whether two resolved names are in the same directory (their paths up to the last '/').
bool same_parent(const Resolved& a, const Resolved& b) {
    size_t la = size_t(path_basename(a.path) - a.path), lb = size_t(path_basename(b.path) - b.path);
    return la == lb && memcmp(a.path, b.path, la) == 0;
}

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

void vfs_dcache_forget(const Mount* m, const char* rel) {
    if (m->dcache)
        m->dcache->forget(rel);
    const char* root = m->fs->host_root();
    if (!root)
        return;
    // Another mount may show the same host files under other paths (a host directory and
    // one of its subdirectories mounted apart): forget the same host path there.
    char* host = nullptr;
    bool host_known = false;
    for (unsigned i = 0; i < g_mount_count; i++) {
        const Mount& other = g_mounts[i];
        const char* other_root = other.dcache && &other != m ? other.fs->host_root() : nullptr;
        if (!other_root)
            continue;
        if (!host) {
            host = static_cast<char*>(kmalloc(kPathMax));
            size_t rlen = strlen(root), len = strlen(rel);
            bool root_slash = rlen > 0 && root[rlen - 1] == '/';
            host_known = host && rlen + 1 + len + 1 <= kPathMax;
            if (host_known) {
                memcpy(host, root, rlen);
                if (len && !root_slash)
                    host[rlen++] = '/';
                memcpy(host + rlen, rel, len + 1);
            }
        }
        if (!host_known || path_is_within(other_root, host))
            other.dcache->forget("");  // its whole tree is at or below the changed path
        else if (path_is_within(host, other_root))
            other.dcache->forget(path_below(host, other_root));
    }
    kfree(host);
}

namespace {

// The namespace operations below forget, once the file system has answered (success or
// not), every path whose type or symlink target may have changed, with what is below it:
// an answer a concurrent walker read before the change is then refused (dcache.h). Making
// a name (mkdir, mknod, symlink, link, open with O_CREAT) forgets nothing: the caches hold
// no negative entries.
Result<void> forgetting(Result<void> done, const Resolved& r) {
    vfs_dcache_forget(r.mount, r.rel);
    return done;
}

}  // namespace

Result<void> vfs_mkdir(const Resolved& r, uint32_t mode) {
    TRY(check_create(r, true));
    TRY(check_may_create(r));
    TRY(r.mount->fs->mkdir(r.rel, mode & 07777));
    own_new_file(r);
    notify_path(r.path, IN_CREATE, true);
    return {};
}

Result<void> vfs_mknod(const Resolved& r, uint32_t mode, uint64_t dev) {
    TRY(check_create(r, false));
    TRY(check_may_create(r));
    uint32_t type = mode & S_IFMT;
    if (type == S_IFCHR || type == S_IFBLK)
        return Errno(EPERM);  // devices need CAP_MKNOD, which the LibOS grants no one
    TRY(r.mount->fs->mknod(r.rel, mode, dev));
    own_new_file(r);
    notify_path(r.path, IN_CREATE, false);
    return {};
}

Result<void> vfs_symlink(const char* target, const Resolved& r) {
    TRY(check_create(r, false));
    TRY(check_may_create(r));
    TRY(r.mount->fs->symlink(target, r.rel));
    notify_path(r.path, IN_CREATE, false);
    return {};
}

Result<void> vfs_unlink(const Resolved& r) {
    if (r.last != LastKind::Normal)
        return Errno(EISDIR);
    if (vfs_parent_mount(r)->readonly)
        return Errno(EROFS);
    if (!r.exists)
        return Errno(ENOENT);
    if (r.trailing_slash)
        return Errno(is_dir(r) ? EISDIR : ENOTDIR);
    TRY(check_may_delete(FsIds::current(), r));  // may_delete: permission before the type
    if (is_dir(r))
        return Errno(EISDIR);
    if (!r.rel[0])
        return Errno(EBUSY);
    TRY(forgetting(r.mount->fs->unlink(r.rel), r));
    notify_removed(r.path, false);
    dentry_removed(r.path);
    return {};
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
    TRY(check_may_delete(FsIds::current(), r));  // may_delete: permission before the type
    if (!is_dir(r))
        return Errno(ENOTDIR);
    if (!r.rel[0])
        return Errno(EBUSY);
    TRY(forgetting(r.mount->fs->rmdir(r.rel), r));
    notify_removed(r.path, true);
    dentry_removed(r.path);
    return {};
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
    // vfs_rename's permissions: the old name removed, the new one made or replaced, and a
    // directory that moves to another parent must be writable itself (its ".." changes).
    FsIds who = FsIds::current();
    TRY(check_may_delete(who, from));
    if (to.exists)
        TRY(check_may_delete(who, to));
    else if (to.dir_known)
        TRY(check_create_in(who, to.dir));
    if (!same_parent(from, to)) {
        if (is_dir(from))
            TRY(check_permission(who, attrs_of(from.stat), kMayWrite));
        if ((flags & kExchange) && is_dir(to))
            TRY(check_permission(who, attrs_of(to.stat), kMayWrite));
    }
    if (!(flags & kExchange) && to.exists) {
        if (is_dir(from) && !is_dir(to))
            return Errno(ENOTDIR);
        if (!is_dir(from) && is_dir(to))
            return Errno(EISDIR);
    }
    auto done = from.mount->fs->rename(from.rel, to.rel, flags);
    vfs_dcache_forget(from.mount, from.rel);
    TRY(forgetting(done, to));
    notify_rename(from.path, to.path, is_dir(from));
    if (flags & kExchange)
        notify_rename(to.path, from.path, is_dir(to));
    // The names held below either path follow. Out of memory, a held name leaves the tree
    // (its holders see it deleted); the rename itself is done.
    auto moved = (flags & kExchange) ? dentry_exchanged(from.path, to.path) : dentry_renamed(from.path, to.path);
    if (!moved.ok())
        log_warning("rename %s: the names held below it are lost (out of memory)", from.path);
    return {};
}

Result<void> vfs_link(const Resolved& from, const Resolved& to) {
    if (!from.exists)
        return Errno(ENOENT);
    TRY(check_create(to, false));
    if (from.mount != vfs_parent_mount(to))
        return Errno(EXDEV);
    TRY(check_may_create(to));
    if (is_dir(from))
        return Errno(EPERM);
    TRY(from.mount->fs->link(from.rel, to.rel));
    notify_path(from.path, IN_ATTRIB, false);  // its link count
    notify_path(to.path, IN_CREATE, false);
    return {};
}

Result<void> vfs_link_file(File* f, const Resolved& to) {
    Stat st;
    TRY(f->stat(&st));
    // do_linkat's order: the new name (EEXIST, EROFS), the mounts, then the file itself.
    TRY(check_create(to, false));
    const Mount* m = f->mount();
    if (!m || m != vfs_parent_mount(to))
        return Errno(EXDEV);  // pipes, memfds and the like live on no mount of the table
    TRY(check_may_create(to));
    if ((st.mode & S_IFMT) == S_IFDIR)
        return Errno(EPERM);
    TRY(m->fs->link_file(f, st, to.rel));
    notify_path(to.path, IN_CREATE, false);
    return {};
}

int vfs_proc_fd_link(const Resolved& r) {
    int fd = -1;
    if (!r.exists || (r.stat.mode & S_IFMT) != S_IFLNK || !r.mount->fs->magic_link(r.rel, &fd))
        return -1;
    return fd;
}

Result<void> vfs_chmod(const Resolved& r, uint32_t mode) {
    if (!r.exists)
        return Errno(ENOENT);
    if (r.mount->readonly)
        return Errno(EROFS);
    if ((r.stat.mode & S_IFMT) == S_IFLNK)
        return Errno(EOPNOTSUPP);  // Linux 6.6+: a symlink's mode cannot change
    FsIds who = FsIds::current();
    if (!owner_or_privileged(who, attrs_of(r.stat)))
        return Errno(EPERM);
    mode = chmod_mode(who, attrs_of(r.stat), mode & 07777);
    // A directory's search permission decides whether the walks cached below it may pass.
    TRY(forgetting(r.mount->fs->chmod(r.rel, mode), r));
    notify_path(r.path, IN_ATTRIB, is_dir(r));
    return {};
}

Result<void> vfs_chown(const Resolved& r, uint32_t uid, uint32_t gid) {
    if (!r.exists)
        return Errno(ENOENT);
    if (r.mount->readonly)
        return Errno(EROFS);
    TRY(check_chown(FsIds::current(), attrs_of(r.stat), uid, gid));
    TRY(forgetting(r.mount->fs->chown(r.rel, uid, gid), r));
    notify_path(r.path, IN_ATTRIB, is_dir(r));
    return {};
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
    TRY(check_permission(FsIds::current(), attrs_of(r.stat), kMayWrite));
    TRY(r.mount->fs->truncate(r.rel, size));
    notify_path(r.path, IN_MODIFY, false);
    return {};
}

Result<void> vfs_utimens(const Resolved& r, int64_t atime_ns, int64_t mtime_ns) {
    if (!r.exists)
        return Errno(ENOENT);
    if (r.mount->readonly)
        return Errno(EROFS);
    TRY(check_utimes(FsIds::current(), attrs_of(r.stat), atime_ns == kTimeNow && mtime_ns == kTimeNow));
    TRY(r.mount->fs->utimens(r.rel, atime_ns, mtime_ns));
    notify_path(r.path, IN_ATTRIB, is_dir(r));
    return {};
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
