// tmpfs: a file system in LibOS memory, with Linux tmpfs semantics and errnos. This file is
// the namespace (lookup, create, mkdir, unlink, rmdir, rename, link, symlink, mknod) and
// the attribute calls by path; tmpfs_file.cpp has the open files, tmpfs_data.cpp the file
// data, tmpfs_pages.cpp the page store. A FIFO node's ends are pipe ends (net/pipe.cpp)
// meeting at the node (fifo.h). A socket node is only a name: open(2) of it is ENXIO, as on
// Linux, where connect(2) reaches a socket (the LibOS has no unix sockets to bind it yet).
//
// Lock order (tmpfs_node.h has the details):
//   file position lock -> TmpfsNode::io -> Tmpfs::m_tree -> TmpfsNode::lock -> page pool.
// The first two are sleeping locks and may be held while copying to or from the
// application; the others are spinlocks, held only for memory operations: nothing is
// allocated, copied to the application or asked of the PAL under them (new nodes and
// entries are allocated first, a directory's hash table grows after the lock is dropped).
//
// A node is freed when no name (nlink == 0) and no File or pin (refs == 0) is left, so an
// unlinked file stays usable until its last close.
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>

#include "../net/pipe.h"
#include "../proc/process.h"
#include "tmpfs_node.h"
#include "vfs.h"

namespace carbyne::libos::fs {

namespace tmpfs {

namespace {

constexpr uint64_t kTmpfsMagic = 0x01021994;  // TMPFS_MAGIC
// Limits shown by statfs and enforced (ENOSPC), like tmpfs's size= and nr_inodes=.
// FIXME: fixed until the manifest can set them per mount.
constexpr uint64_t kCapacityPages = 2ull << 20;  // 8 GiB
constexpr uint64_t kMaxInodes = 1ull << 20;
constexpr uint32_t kSmallDir = 8;         // entries up to which a directory has no hash table
constexpr uint64_t kStRelatime = 0x1000;  // ST_RELATIME: atime as node_read keeps it

// Each mount gets its own anonymous device number, major 0 as on Linux; minors start high
// to stay clear of the host's. FIXME: the pseudo file systems need the same; share one
// allocator in vfs.cpp when they do.
uint32_t g_next_dev_minor = 0xc000;

uint64_t encode_dev(uint32_t major, uint32_t minor) {
    return (minor & 0xff) | (uint64_t(major & 0xfff) << 8) | (uint64_t(minor & ~0xffu) << 12);
}

uint64_t name_hash(const char* name, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
    for (size_t i = 0; i < len; i++)
        h = (h ^ uint8_t(name[i])) * 0x100000001b3ull;
    return h;
}

bool is_dot(const char* name, size_t len) { return len == 1 && name[0] == '.'; }
bool is_dotdot(const char* name, size_t len) { return len == 2 && name[0] == '.' && name[1] == '.'; }

// The last component of `rel` (a clean relative path; "" is the root).
void last_component(const char* rel, const char** name, size_t* len) {
    size_t n = strlen(rel);
    while (n && rel[n - 1] == '/')
        n--;
    size_t start = n;
    while (start && rel[start - 1] != '/')
        start--;
    *name = rel + start;
    *len = n - start;
}

TmpfsDirent* dirent_alloc(const char* name, size_t len) {
    auto* e = static_cast<TmpfsDirent*>(kzalloc(sizeof(TmpfsDirent) + len + 1));
    if (!e)
        return nullptr;
    memcpy(e->name, name, len);
    e->name[len] = '\0';
    e->name_len = uint16_t(len);
    e->hash = name_hash(name, len);
    return e;
}

// -- Directory tables: caller holds the tree lock -------------------------------------------

TmpfsDirent* dir_find(TmpfsNode* dir, const char* name, size_t len) {
    DirTable& t = dir->dir;
    if (t.buckets) {
        uint64_t h = name_hash(name, len);
        for (TmpfsDirent* e = t.buckets[h & (t.bucket_count - 1)]; e; e = e->hash_next)
            if (e->hash == h && e->name_len == len && memcmp(e->name, name, len) == 0)
                return e;
        return nullptr;
    }
    for (TmpfsDirent* e = t.head; e; e = e->next)
        if (e->name_len == len && memcmp(e->name, name, len) == 0)
            return e;
    return nullptr;
}

// New entries go first: listings run newest to oldest, as Linux's tmpfs does, so that a
// name made or renamed during a listing lands behind the cursor and is never listed twice.
void dir_insert(TmpfsNode* dir, TmpfsDirent* e) {
    DirTable& t = dir->dir;
    e->cookie = t.next_cookie++;
    e->prev = nullptr;
    e->next = t.head;
    if (t.head)
        t.head->prev = e;
    else
        t.tail = e;
    t.head = e;
    if (t.buckets) {
        TmpfsDirent** b = &t.buckets[e->hash & (t.bucket_count - 1)];
        e->hash_next = *b;
        *b = e;
    }
    t.count++;
}

void dir_remove(TmpfsNode* dir, TmpfsDirent* e) {
    DirTable& t = dir->dir;
    if (e->prev)
        e->prev->next = e->next;
    else
        t.head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        t.tail = e->prev;
    if (t.buckets) {
        TmpfsDirent** p = &t.buckets[e->hash & (t.bucket_count - 1)];
        while (*p != e)
            p = &(*p)->hash_next;
        *p = e->hash_next;
    }
    t.count--;
    t.remove_gen++;
}

bool dir_overloaded(const TmpfsNode* dir) {
    return dir->dir.count > kSmallDir && dir->dir.count > dir->dir.bucket_count;
}

// A directory's size and times after an entry came or went.
void touch_dir(TmpfsNode* dir, int64_t now) {
    SpinGuard g(dir->lock);
    dir->size = (dir->dir.count + 2) * kBogoDirentSize;
    dir->mtime_ns = dir->ctime_ns = now;
}

void add_links(TmpfsNode* n, int64_t delta, int64_t now) {
    SpinGuard g(n->lock);
    n->nlink = uint64_t(int64_t(n->nlink) + delta);
    if (now)
        n->ctime_ns = now;
}

void set_ctime(TmpfsNode* n, int64_t now) {
    SpinGuard g(n->lock);
    n->ctime_ns = now;
}

// True when `a` is `d` or one of its ancestors.
bool is_ancestor(const TmpfsNode* a, const TmpfsNode* d) {
    for (; d; d = d->parent)
        if (d == a)
            return true;
    return false;
}

enum class CreateMode { kNew, kOpen, kOpenExclusive };

}  // namespace

// An O_TMPFILE node while a File has it open: linkat finds it by its inode number (a File
// does not tell which node it holds). `linkable` is Linux's I_LINKABLE: set unless the file
// was opened with O_EXCL, cleared by the first link, so that a tmpfile named and unlinked
// again cannot come back. (State of the mount: a fork's checkpoint carries it with the node.)
struct Tmpfs::Tmpfile {
    Tmpfile* next;
    TmpfsNode* node;
    bool linkable;
};

struct Tmpfs::Where {
    TmpfsNode* dir;    // the directory holding the last component
    const char* name;  // the last component; name_len 0 when the path is the root
    size_t name_len;
};

Tmpfs::~Tmpfs() {
    // Nothing is open when a mount goes away: free the tree depth first.
    TmpfsNode* dir = m_root;
    while (dir) {
        if (TmpfsDirent* e = dir->dir.head) {
            dir->dir.head = e->next;
            TmpfsNode* child = e->node;
            kfree(e);
            if (child->type == S_IFDIR) {
                dir = child;
            } else if (--child->nlink == 0) {
                node_free(child);
            }
            continue;
        }
        TmpfsNode* up = dir->parent;
        node_free(dir);
        dir = up;
    }
}

bool Tmpfs::reserve_pages(uint64_t count) {
    if (!count)
        return true;
    if (__atomic_add_fetch(&m_pages, count, __ATOMIC_RELAXED) > kCapacityPages) {
        __atomic_sub_fetch(&m_pages, count, __ATOMIC_RELAXED);
        return false;
    }
    return true;
}

void Tmpfs::release_pages(uint64_t count) {
    if (count)
        __atomic_sub_fetch(&m_pages, count, __ATOMIC_RELAXED);
}

bool Tmpfs::reserve_inode() {
    if (__atomic_add_fetch(&m_inodes, 1, __ATOMIC_RELAXED) > kMaxInodes) {
        __atomic_sub_fetch(&m_inodes, 1, __ATOMIC_RELAXED);
        return false;
    }
    return true;
}

void Tmpfs::release_inode() { __atomic_sub_fetch(&m_inodes, 1, __ATOMIC_RELAXED); }

void Tmpfs::unpin(TmpfsNode* n) {
    bool dead;
    Tmpfile* gone = nullptr;
    {
        SpinGuard g(m_tree);
        bool last = --n->refs == 0;
        dead = last && n->nlink == 0;
        // No File is left that linkat could name: an O_TMPFILE node leaves the list.
        for (Tmpfile** p = &m_tmpfiles; last && *p; p = &(*p)->next) {
            if ((*p)->node == n) {
                gone = *p;
                *p = gone->next;
                break;
            }
        }
    }
    kfree(gone);
    if (dead)
        node_free(n);
}

Result<TmpfsNode*> Tmpfs::new_node(uint32_t type, uint32_t perm, int64_t now) {
    if (!reserve_inode())
        return Errno(ENOSPC);
    void* mem = kzalloc(sizeof(TmpfsNode));
    if (!mem) {
        release_inode();
        return Errno(ENOMEM);
    }
    auto* n = new (mem) TmpfsNode();
    n->fs = this;
    n->fifo.node = n;
    n->ino = __atomic_fetch_add(&m_next_ino, 1, __ATOMIC_RELAXED);
    n->type = type;
    n->perm = perm;
    // Owned by the creator's file-system ids (never called under the tree lock).
    creator_ids(&n->uid, &n->gid);
    n->nlink = type == S_IFDIR ? 2 : 1;
    n->atime_ns = n->mtime_ns = n->ctime_ns = now;
    if (type == S_IFDIR) {
        n->dir.next_cookie = kFirstCookie;
        n->size = 2 * kBogoDirentSize;
    }
    return n;
}

Result<void> Tmpfs::init() {
    // The root is owned by root with mode 1777, as a tmpfs mounted for /tmp.
    TmpfsNode* root = TRY(new_node(S_IFDIR, 01777, now_ns()));
    root->uid = root->gid = 0;
    m_root = root;
    return {};
}

// -- Walking: caller holds the tree lock --------------------------------------------------

Result<TmpfsNode*> Tmpfs::walk_range_locked(const char* p, const char* end) {
    TmpfsNode* cur = m_root;
    while (p < end) {
        while (p < end && *p == '/')
            p++;
        if (p == end)
            break;
        const char* name = p;
        while (p < end && *p != '/')
            p++;
        size_t len = size_t(p - name);
        if (cur->type != S_IFDIR)
            return Errno(ENOTDIR);
        if (is_dot(name, len))
            continue;
        if (is_dotdot(name, len)) {
            if (cur->parent)
                cur = cur->parent;
            continue;
        }
        TmpfsDirent* e = dir_find(cur, name, len);
        if (!e)
            return Errno(ENOENT);
        cur = e->node;
    }
    return cur;
}

Result<TmpfsNode*> Tmpfs::walk_locked(const char* rel) { return walk_range_locked(rel, rel + strlen(rel)); }

Result<void> Tmpfs::walk_parent_locked(const char* rel, Where* out) {
    last_component(rel, &out->name, &out->name_len);
    out->dir = TRY(walk_range_locked(rel, out->name));
    if (out->dir->type != S_IFDIR)
        return Errno(ENOTDIR);
    if (out->name_len > kNameMax)
        return Errno(ENAMETOOLONG);
    return {};
}

Result<TmpfsNode*> Tmpfs::pin(const char* rel) {
    SpinGuard g(m_tree);
    TmpfsNode* n = TRY(walk_locked(rel));
    n->refs++;
    return n;
}

void Tmpfs::grow_table(TmpfsNode* dir) {
    uint32_t want;
    {
        SpinGuard g(m_tree);
        if (!dir_overloaded(dir))
            return;
        want = 16;
        while (want < dir->dir.count * 2 && want < (1u << 30))
            want *= 2;
    }
    auto** table = static_cast<TmpfsDirent**>(kzalloc(want * sizeof(TmpfsDirent*)));
    if (!table)
        return;  // lookups stay correct, only slower
    TmpfsDirent** old = table;
    {
        SpinGuard g(m_tree);
        DirTable& t = dir->dir;
        if (t.bucket_count < want) {
            for (TmpfsDirent* e = t.head; e; e = e->next) {
                TmpfsDirent** b = &table[e->hash & (want - 1)];
                e->hash_next = *b;
                *b = e;
            }
            old = t.buckets;
            t.buckets = table;
            t.bucket_count = want;
        }
    }
    kfree(old);
}

// Creates a node of `type` at `rel`. kOpen returns an existing regular file or directory
// instead of EEXIST; with kOpen and kOpenExclusive the node comes back pinned (refs + 1)
// for the File about to be made, and *created says whether it is new.
Result<TmpfsNode*> Tmpfs::create(const char* rel, uint32_t type, uint32_t perm, const char* target, int how,
                                 bool* created) {
    CreateMode mode = CreateMode(how);
    const char* name;
    size_t len;
    last_component(rel, &name, &len);
    if (len > kNameMax)
        return Errno(ENAMETOOLONG);
    int64_t now = now_ns();
    TmpfsNode* node = TRY(new_node(type, perm, now));
    TmpfsDirent* e = len ? dirent_alloc(name, len) : nullptr;
    if (type == S_IFLNK) {
        node->target_len = strlen(target);
        node->target = static_cast<char*>(kmalloc(node->target_len + 1));
        if (node->target)
            memcpy(node->target, target, node->target_len + 1);
    }
    if ((len && !e) || (type == S_IFLNK && !node->target)) {
        kfree(e);
        node_free(node);
        return Errno(ENOMEM);
    }

    TmpfsNode* result = nullptr;
    TmpfsNode* grow = nullptr;
    auto locked = [&]() -> Result<void> {
        SpinGuard g(m_tree);
        Where w;
        TRY(walk_parent_locked(rel, &w));
        TmpfsDirent* old = w.name_len ? dir_find(w.dir, w.name, w.name_len) : nullptr;
        if (!w.name_len || is_dot(w.name, w.name_len) || is_dotdot(w.name, w.name_len) || old) {
            TmpfsNode* existing = old ? old->node : w.dir;
            if (mode != CreateMode::kOpen)
                return Errno(EEXIST);
            if (existing->type == S_IFLNK)
                return Errno(EEXIST);  // the VFS follows links; one appearing since is a race
            existing->refs++;
            result = existing;
            return {};
        }
        if (w.dir->nlink == 0)
            return Errno(ENOENT);  // the directory was removed
        // A set-group-ID directory passes its group on, and the bit to subdirectories.
        {
            SpinGuard dg(w.dir->lock);
            if (w.dir->perm & S_ISGID) {
                node->gid = w.dir->gid;
                if (type == S_IFDIR)
                    node->perm |= S_ISGID;
            }
        }
        e->node = node;
        dir_insert(w.dir, e);
        if (type == S_IFDIR) {
            node->parent = w.dir;
            w.dir->dir.subdirs++;
            add_links(w.dir, 1, 0);
        }
        touch_dir(w.dir, now);
        if (mode != CreateMode::kNew)
            node->refs = 1;
        result = node;
        if (dir_overloaded(w.dir)) {
            w.dir->refs++;
            grow = w.dir;
        }
        return {};
    }();
    if (!locked.ok() || result != node) {
        kfree(e);
        node_free(node);
        TRY(locked);
    }
    if (grow) {
        grow_table(grow);
        unpin(grow);
    }
    if (created)
        *created = result == node;
    return result;
}

// -- FIFO nodes ----------------------------------------------------------------------------

Result<void> TmpfsFifo::stat(Stat* out) {
    node_stat(node, out);
    return {};
}

Result<void> TmpfsFifo::chmod(uint32_t mode) { return node_chmod(node, mode, now_ns()); }

Result<void> TmpfsFifo::chown(uint32_t uid, uint32_t gid) { return node_chown(node, uid, gid, now_ns()); }

Result<void> TmpfsFifo::utimens(int64_t atime_ns, int64_t mtime_ns) {
    return node_utimens(node, atime_ns, mtime_ns, now_ns());
}

void TmpfsFifo::release() { node->fs->unpin(node); }

// -- FileSystem ----------------------------------------------------------------------------

Result<void> Tmpfs::lookup(const char* rel, bool* exists, Stat* st) {
    SpinGuard g(m_tree);
    auto n = walk_locked(rel);
    if (!n.ok()) {
        if (n.error() != Errno(ENOENT))
            return n.error();
        *exists = false;
        return {};
    }
    *exists = true;
    node_stat(n.value(), st);
    return {};
}

Result<size_t> Tmpfs::readlink(const char* rel, char* buf, size_t size) {
    SpinGuard g(m_tree);
    TmpfsNode* n = TRY(walk_locked(rel));
    if (n->type != S_IFLNK)
        return Errno(EINVAL);
    size_t len = n->target_len < size ? size_t(n->target_len) : size;
    memcpy(buf, n->target, len);  // LibOS memory: the caller copies it out
    return len;
}

Result<File*> Tmpfs::open(const Resolved& r, uint32_t flags, uint32_t mode) {
    // O_PATH ignores O_CREAT and O_TRUNC, as on Linux.
    bool path_only = (flags & O_PATH) != 0;
    bool created = false;
    TmpfsNode* n = nullptr;
    if ((flags & O_CREAT) && !path_only) {
        if (r.exists && !(flags & O_EXCL)) {
            // The common case of O_CREAT: the file is there already.
            auto pinned = pin(r.rel);
            if (pinned.ok())
                n = pinned.value();
            else if (pinned.error() != Errno(ENOENT))
                return pinned.error();
        }
        if (!n) {
            CreateMode how = (flags & O_EXCL) ? CreateMode::kOpenExclusive : CreateMode::kOpen;
            n = TRY(create(r.rel, S_IFREG, mode & 07777, nullptr, int(how), &created));
        }
        if (n->type == S_IFDIR) {
            unpin(n);
            return Errno(EISDIR);
        }
    } else {
        n = TRY(pin(r.rel));
    }
    // A FIFO connects to its pipe (O_TRUNC is ignored); a socket cannot be opened.
    if (n->type == S_IFIFO && !path_only)
        return net::fifo_open(&n->fifo, flags, r.path);  // the end keeps the pin
    if (n->type == S_IFSOCK && !path_only) {
        unpin(n);
        return Errno(ENXIO);
    }
    // O_TRUNC on an existing file, even opened read-only (Linux truncates when allowed to write).
    if ((flags & O_TRUNC) && !path_only && !created && n->type == S_IFREG) {
        auto truncated = node_truncate(n, 0, true);
        if (!truncated.ok()) {
            unpin(n);
            return truncated.error();
        }
    }
    return file_open(n, flags, r.path);
}

Result<File*> Tmpfs::open_tmpfile(const Resolved& dir, uint32_t flags, uint32_t mode) {
    int64_t now = now_ns();
    TmpfsNode* node = TRY(new_node(S_IFREG, mode & 07777, now));
    // What /proc/self/fd shows for it, as on Linux: "DIR/#INO (deleted)".
    size_t path_size = strlen(dir.path) + 32;
    auto* path = static_cast<char*>(kmalloc(path_size));
    HeapGuard path_guard{path};
    auto* t = static_cast<Tmpfile*>(kmalloc(sizeof(Tmpfile)));
    if (!path || !t) {
        kfree(t);
        node_free(node);
        return Errno(ENOMEM);
    }
    format(path, path_size, "%s/#%llu (deleted)", dir.path[1] ? dir.path : "", (unsigned long long)node->ino);
    node->nlink = 0;
    node->refs = 1;  // the File's
    t->node = node;
    t->linkable = !(flags & O_EXCL);
    auto locked = [&]() -> Result<void> {
        SpinGuard g(m_tree);
        TmpfsNode* d = TRY(walk_locked(dir.rel));
        if (d->type != S_IFDIR)
            return Errno(ENOTDIR);
        if (d->nlink == 0)
            return Errno(ENOENT);  // the directory was removed
        {
            SpinGuard dg(d->lock);
            if (d->perm & S_ISGID)
                node->gid = d->gid;
        }
        t->next = m_tmpfiles;
        m_tmpfiles = t;
        return {};
    }();
    if (!locked.ok()) {
        kfree(t);
        node_free(node);
        return locked.error();
    }
    return file_open(node, flags, path);  // on failure, unpin() frees the node and `t`
}

Result<void> Tmpfs::link_file(File* f, const Stat& st, const char* rel) {
    const char* name;
    size_t len;
    last_component(rel, &name, &len);
    if (len > kNameMax)
        return Errno(ENAMETOOLONG);
    TmpfsDirent* e = len ? dirent_alloc(name, len) : nullptr;
    if (len && !e)
        return Errno(ENOMEM);
    int64_t now = now_ns();
    bool tmpfile = false;
    TmpfsNode* grow = nullptr;
    auto locked = [&]() -> Result<void> {
        SpinGuard g(m_tree);
        Tmpfile* t = m_tmpfiles;
        while (t && t->node->ino != st.ino)
            t = t->next;
        if (!t)
            return {};  // not an O_TMPFILE file: linked by its path (below)
        tmpfile = true;
        TmpfsNode* n = t->node;
        Where w;
        TRY(walk_parent_locked(rel, &w));
        if (!w.name_len || is_dot(w.name, w.name_len) || is_dotdot(w.name, w.name_len) ||
            dir_find(w.dir, w.name, w.name_len))
            return Errno(EEXIST);
        if (w.dir->nlink == 0)
            return Errno(ENOENT);
        if (n->nlink == 0 && !t->linkable)
            return Errno(ENOENT);  // O_EXCL, or named once and unlinked since
        e->node = n;
        dir_insert(w.dir, e);
        touch_dir(w.dir, now);
        add_links(n, 1, now);
        t->linkable = false;
        if (dir_overloaded(w.dir)) {
            w.dir->refs++;
            grow = w.dir;
        }
        return {};
    }();
    if (!locked.ok() || !tmpfile)
        kfree(e);
    TRY(locked);
    if (!tmpfile)
        return FileSystem::link_file(f, st, rel);
    if (grow) {
        grow_table(grow);
        unpin(grow);
    }
    return {};
}

Result<void> Tmpfs::mkdir(const char* rel, uint32_t mode) {
    TRY(create(rel, S_IFDIR, mode & 01777, nullptr, int(CreateMode::kNew), nullptr));
    return {};
}

Result<void> Tmpfs::symlink(const char* target, const char* rel) {
    if (!target[0])
        return Errno(ENOENT);
    if (strnlen(target, kPathMax) >= kPathMax)
        return Errno(ENAMETOOLONG);
    TRY(create(rel, S_IFLNK, 0777, target, int(CreateMode::kNew), nullptr));
    return {};
}

Result<void> Tmpfs::mknod(const char* rel, uint32_t mode, uint64_t) {
    uint32_t type = mode & S_IFMT;
    switch (type) {
    case 0:
    case S_IFREG:
        TRY(create(rel, S_IFREG, mode & 07777, nullptr, int(CreateMode::kNew), nullptr));
        return {};
    case S_IFIFO:
    case S_IFSOCK:
        TRY(create(rel, type, mode & 07777, nullptr, int(CreateMode::kNew), nullptr));
        return {};
    case S_IFCHR:
    case S_IFBLK: {
        // Devices need CAP_MKNOD, which the LibOS grants no one (vfs_mknod says so first).
        SpinGuard g(m_tree);
        Where w;
        TRY(walk_parent_locked(rel, &w));
        if (!w.name_len || dir_find(w.dir, w.name, w.name_len))
            return Errno(EEXIST);
        return Errno(EPERM);
    }
    default:
        return Errno(EINVAL);
    }
}

Result<void> Tmpfs::unlink(const char* rel) {
    int64_t now = now_ns();
    TmpfsDirent* gone = nullptr;
    TmpfsNode* dead = nullptr;
    {
        SpinGuard g(m_tree);
        Where w;
        TRY(walk_parent_locked(rel, &w));
        if (!w.name_len || is_dot(w.name, w.name_len) || is_dotdot(w.name, w.name_len))
            return Errno(EISDIR);
        TmpfsDirent* e = dir_find(w.dir, w.name, w.name_len);
        if (!e)
            return Errno(ENOENT);
        TmpfsNode* n = e->node;
        if (n->type == S_IFDIR)
            return Errno(EISDIR);  // Linux's unlink(2) answer; POSIX allows EPERM
        dir_remove(w.dir, e);
        touch_dir(w.dir, now);
        add_links(n, -1, now);
        gone = e;
        if (n->nlink == 0 && n->refs == 0)
            dead = n;
    }
    kfree(gone);
    if (dead)
        node_free(dead);
    return {};
}

Result<void> Tmpfs::rmdir(const char* rel) {
    int64_t now = now_ns();
    TmpfsDirent* gone = nullptr;
    TmpfsNode* dead = nullptr;
    {
        SpinGuard g(m_tree);
        Where w;
        TRY(walk_parent_locked(rel, &w));
        if (!w.name_len)
            return Errno(EBUSY);  // the mount root
        if (is_dot(w.name, w.name_len))
            return Errno(EINVAL);
        if (is_dotdot(w.name, w.name_len))
            return Errno(ENOTEMPTY);
        TmpfsDirent* e = dir_find(w.dir, w.name, w.name_len);
        if (!e)
            return Errno(ENOENT);
        TmpfsNode* n = e->node;
        if (n->type != S_IFDIR)
            return Errno(ENOTDIR);
        if (n->dir.count)
            return Errno(ENOTEMPTY);
        dir_remove(w.dir, e);
        w.dir->dir.subdirs--;
        add_links(w.dir, -1, 0);
        touch_dir(w.dir, now);
        add_links(n, -int64_t(n->nlink), now);
        n->parent = nullptr;
        gone = e;
        if (n->refs == 0)
            dead = n;
    }
    kfree(gone);
    if (dead)
        node_free(dead);
    return {};
}

Result<void> Tmpfs::link(const char* from, const char* to) {
    const char* name;
    size_t len;
    last_component(to, &name, &len);
    if (len > kNameMax)
        return Errno(ENAMETOOLONG);
    TmpfsDirent* e = len ? dirent_alloc(name, len) : nullptr;
    if (len && !e)
        return Errno(ENOMEM);
    int64_t now = now_ns();
    TmpfsNode* grow = nullptr;
    auto locked = [&]() -> Result<void> {
        SpinGuard g(m_tree);
        TmpfsNode* n = TRY(walk_locked(from));
        Where w;
        TRY(walk_parent_locked(to, &w));
        if (!w.name_len || is_dot(w.name, w.name_len) || is_dotdot(w.name, w.name_len) ||
            dir_find(w.dir, w.name, w.name_len))
            return Errno(EEXIST);
        if (n->type == S_IFDIR)
            return Errno(EPERM);
        if (w.dir->nlink == 0)
            return Errno(ENOENT);
        e->node = n;
        dir_insert(w.dir, e);
        touch_dir(w.dir, now);
        add_links(n, 1, now);
        if (dir_overloaded(w.dir)) {
            w.dir->refs++;
            grow = w.dir;
        }
        return {};
    }();
    if (!locked.ok()) {
        kfree(e);
        return locked.error();
    }
    if (grow) {
        grow_table(grow);
        unpin(grow);
    }
    return {};
}

Result<void> Tmpfs::rename(const char* from, const char* to, uint32_t flags) {
    if (flags & ~uint32_t(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return Errno(EINVAL);
    if ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
        return Errno(EINVAL);
    if (flags & RENAME_WHITEOUT)
        return Errno(EINVAL);  // FIXME: whiteouts need character devices (overlay file systems)
    bool exchange = (flags & RENAME_EXCHANGE) != 0;
    const char* name;
    size_t len;
    last_component(to, &name, &len);
    if (len > kNameMax)
        return Errno(ENAMETOOLONG);
    // The moved entry gets a new cookie in its new directory, like a new name.
    TmpfsDirent* fresh = len && !exchange ? dirent_alloc(name, len) : nullptr;
    if (len && !exchange && !fresh)
        return Errno(ENOMEM);
    int64_t now = now_ns();
    TmpfsDirent* gone[2] = {nullptr, nullptr};
    TmpfsNode* dead = nullptr;
    TmpfsNode* grow = nullptr;
    auto locked = [&]() -> Result<void> {
        SpinGuard g(m_tree);
        Where src, dst;
        TRY(walk_parent_locked(from, &src));
        TRY(walk_parent_locked(to, &dst));
        // In do_renameat2's order: ".", ".." and the root first, then the lookups.
        if (!src.name_len || is_dot(src.name, src.name_len) || is_dotdot(src.name, src.name_len))
            return Errno(EBUSY);
        if (!dst.name_len || is_dot(dst.name, dst.name_len) || is_dotdot(dst.name, dst.name_len))
            return Errno((flags & RENAME_NOREPLACE) ? EEXIST : EBUSY);
        TmpfsDirent* se = dir_find(src.dir, src.name, src.name_len);
        if (!se)
            return Errno(ENOENT);
        TmpfsDirent* de = dir_find(dst.dir, dst.name, dst.name_len);
        if ((flags & RENAME_NOREPLACE) && de)
            return Errno(EEXIST);
        if (exchange && !de)
            return Errno(ENOENT);
        TmpfsNode* sn = se->node;
        TmpfsNode* dn = de ? de->node : nullptr;
        bool s_dir = sn->type == S_IFDIR;
        bool d_dir = dn && dn->type == S_IFDIR;
        if (s_dir && is_ancestor(sn, dst.dir))
            return Errno(EINVAL);  // a directory into its own subtree
        if (d_dir && is_ancestor(dn, src.dir))
            return Errno(exchange ? EINVAL : ENOTEMPTY);  // over one of its ancestors
        if (sn == dn)
            return {};  // the same inode (one name, or two hard links): nothing happens
        if (dst.dir->nlink == 0)
            return Errno(ENOENT);

        if (exchange) {
            se->node = dn;
            de->node = sn;
            if (src.dir != dst.dir) {
                if (s_dir)
                    sn->parent = dst.dir;
                if (d_dir)
                    dn->parent = src.dir;
                if (s_dir != d_dir) {
                    TmpfsNode* gains = s_dir ? dst.dir : src.dir;
                    TmpfsNode* loses = s_dir ? src.dir : dst.dir;
                    gains->dir.subdirs++;
                    add_links(gains, 1, 0);
                    loses->dir.subdirs--;
                    add_links(loses, -1, 0);
                }
            }
            set_ctime(sn, now);
            set_ctime(dn, now);
            touch_dir(src.dir, now);
            touch_dir(dst.dir, now);
            return {};
        }

        if (dn) {
            if (s_dir && !d_dir)
                return Errno(ENOTDIR);
            if (!s_dir && d_dir)
                return Errno(EISDIR);
            if (d_dir && dn->dir.count)
                return Errno(ENOTEMPTY);
            dir_remove(dst.dir, de);
            gone[0] = de;
            if (d_dir) {
                add_links(dn, -int64_t(dn->nlink), now);
                dn->parent = nullptr;
                dst.dir->dir.subdirs--;
                add_links(dst.dir, -1, 0);
            } else {
                add_links(dn, -1, now);
            }
            if (dn->nlink == 0 && dn->refs == 0)
                dead = dn;
        }
        dir_remove(src.dir, se);
        gone[1] = se;
        fresh->node = sn;
        dir_insert(dst.dir, fresh);
        fresh = nullptr;
        if (s_dir && src.dir != dst.dir) {
            src.dir->dir.subdirs--;
            add_links(src.dir, -1, 0);
            dst.dir->dir.subdirs++;
            add_links(dst.dir, 1, 0);
            sn->parent = dst.dir;
        }
        set_ctime(sn, now);
        touch_dir(src.dir, now);
        touch_dir(dst.dir, now);
        if (dir_overloaded(dst.dir)) {
            dst.dir->refs++;
            grow = dst.dir;
        }
        return {};
    }();
    kfree(fresh);
    kfree(gone[0]);
    kfree(gone[1]);
    if (dead)
        node_free(dead);
    if (grow) {
        grow_table(grow);
        unpin(grow);
    }
    return locked;
}

Result<void> Tmpfs::chmod(const char* rel, uint32_t mode) {
    int64_t now = now_ns();
    SpinGuard g(m_tree);
    return node_chmod(TRY(walk_locked(rel)), mode, now);
}

Result<size_t> Tmpfs::xattr(const char* rel, const XattrRequest& req) {
    int64_t now = now_ns();
    SpinGuard g(m_tree);
    return node_xattr(TRY(walk_locked(rel)), req, now);
}

Result<void> Tmpfs::chown(const char* rel, uint32_t uid, uint32_t gid) {
    int64_t now = now_ns();
    SpinGuard g(m_tree);
    return node_chown(TRY(walk_locked(rel)), uid, gid, now);
}

Result<void> Tmpfs::utimens(const char* rel, int64_t atime_ns, int64_t mtime_ns) {
    int64_t now = now_ns();
    SpinGuard g(m_tree);
    return node_utimens(TRY(walk_locked(rel)), atime_ns, mtime_ns, now);
}

Result<void> Tmpfs::truncate(const char* rel, uint64_t size) {
    TmpfsNode* n = TRY(pin(rel));
    auto done = node_truncate(n, size, false);  // truncate(2) keeps the times at the same size
    unpin(n);
    return done;
}

Result<void> Tmpfs::statfs(StatFs* out) {
    uint64_t pages = __atomic_load_n(&m_pages, __ATOMIC_RELAXED);
    uint64_t inodes = __atomic_load_n(&m_inodes, __ATOMIC_RELAXED);
    uint64_t free_pages = pages < kCapacityPages ? kCapacityPages - pages : 0;
    uint64_t free_inodes = inodes < kMaxInodes ? kMaxInodes - inodes : 0;
    *out = StatFs{kTmpfsMagic, kPageSize, kCapacityPages, free_pages, free_pages,
                  kMaxInodes, free_inodes, kNameMax, kStRelatime};
    return {};
}

}  // namespace tmpfs

Result<FileSystem*> tmpfs_create() {
    uint32_t minor = __atomic_fetch_add(&tmpfs::g_next_dev_minor, 1, __ATOMIC_RELAXED);
    auto* fs = make<tmpfs::Tmpfs>(tmpfs::encode_dev(0, minor));
    if (!fs)
        return Errno(ENOMEM);
    auto ready = fs->init();
    if (!ready.ok()) {
        destroy(fs);
        return ready.error();
    }
    return static_cast<FileSystem*>(fs);
}

}  // namespace carbyne::libos::fs
