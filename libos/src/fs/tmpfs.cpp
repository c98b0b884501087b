// tmpfs: files and directories in LibOS memory.
//
// Lock order: g_tmpfs_lock (the tree) before TmpfsNode::lock (a file's data).
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <linux/fcntl.h>

#include "vfs.h"

namespace carbyne::libos::fs {

struct TmpfsNode {
    uint32_t mode;  // type and permission bits
    uint64_t ino;
    uint64_t nlink;
    int64_t atime_ns, mtime_ns, ctime_ns;
    char name[kNameMax + 1];
    TmpfsNode* parent;
    TmpfsNode* children;  // directories
    TmpfsNode* next;      // sibling
    Spinlock lock;        // data of a file
    uint8_t* data;
    uint64_t size;
    uint64_t capacity;
    int open_count;
};

namespace {

Spinlock g_tmpfs_lock;
uint64_t g_next_ino = 1;
constexpr uint64_t kTmpfsDev = 0x2a;
constexpr uint64_t kMaxFileSize = 1ull << 32;

int64_t now_ns() {
    uint64_t ns = 0;
    g_pal->time_get(PAL_CLOCK_REALTIME, &ns);
    return int64_t(ns);
}

void node_stat(const TmpfsNode* n, Stat* out) {
    *out = Stat{n->mode, n->ino, kTmpfsDev, 0, n->nlink, n->size, 4096, (n->size + 511) / 512,
                0, 0, n->atime_ns, n->mtime_ns, n->ctime_ns};
}

TmpfsNode* new_node(uint32_t mode, const char* name, size_t name_len) {
    auto* n = static_cast<TmpfsNode*>(kzalloc(sizeof(TmpfsNode)));
    if (!n)
        return nullptr;
    new (&n->lock) Spinlock();
    n->mode = mode;
    n->ino = __atomic_fetch_add(&g_next_ino, 1, __ATOMIC_RELAXED);
    n->nlink = (mode & S_IFMT) == S_IFDIR ? 2 : 1;
    n->atime_ns = n->mtime_ns = n->ctime_ns = now_ns();
    memcpy(n->name, name, name_len);
    n->name[name_len] = '\0';
    return n;
}

// Finds the node of `rel` below `root`; caller holds g_tmpfs_lock.
// *parent_out gets the directory holding the last component when that exists.
TmpfsNode* walk_locked(TmpfsNode* root, const char* rel, TmpfsNode** parent_out) {
    const char* p = rel;
    TmpfsNode* cur = root;
    TmpfsNode* parent = nullptr;
    while (*p && cur) {
        const char* start = p;
        while (*p && *p != '/')
            p++;
        size_t n = size_t(p - start);
        if (*p == '/')
            p++;
        if ((cur->mode & S_IFMT) != S_IFDIR) {
            cur = nullptr;
            break;
        }
        parent = cur;
        TmpfsNode* child = cur->children;
        while (child && (strncmp(child->name, start, n) != 0 || child->name[n] != '\0'))
            child = child->next;
        cur = child;
    }
    if (parent_out)
        *parent_out = *p ? nullptr : parent;
    return cur;
}

class TmpfsFile final : public File {
public:
    TmpfsFile(TmpfsNode* n, uint32_t flags, const char* path) : File(flags, path), m_node(n) {}
    ~TmpfsFile() override {
        SpinGuard g(g_tmpfs_lock);
        m_node->open_count--;
    }

    Result<size_t> read(IoBuf buf, size_t size) override {
        uint64_t pos = m_pos;
        size_t done = TRY(pread(buf, size, pos));
        m_pos = pos + done;
        return done;
    }
    Result<size_t> write(IoBuf buf, size_t size) override {
        uint64_t pos = m_pos;
        if (flags() & O_APPEND) {
            SpinGuard g(m_node->lock);
            pos = m_node->size;
        }
        size_t done = TRY(pwrite(buf, size, pos));
        m_pos = pos + done;
        return done;
    }
    // The data is copied through a bounce buffer: no copy to or from the application may
    // happen under the node's spinlock.
    Result<size_t> pread(IoBuf buf, size_t size, uint64_t offset) override {
        size_t total = 0;
        uint8_t bounce[kBounceSize];
        while (total < size) {
            size_t want = size - total < kBounceSize ? size - total : kBounceSize;
            size_t n;
            {
                SpinGuard g(m_node->lock);
                uint64_t at = offset + total;
                if (at >= m_node->size)
                    break;
                n = m_node->size - at < want ? size_t(m_node->size - at) : want;
                memcpy(bounce, m_node->data + at, n);
            }
            auto copied = io_copy_out(buf + total, bounce, n);
            if (!copied.ok())
                return total ? Result<size_t>(total) : Result<size_t>(copied.error());
            total += n;
            if (n < want)
                break;
        }
        return total;
    }
    Result<size_t> pwrite(IoBuf buf, size_t size, uint64_t offset) override {
        size_t total = 0;
        uint8_t bounce[kBounceSize];
        while (total < size) {
            size_t n = size - total < kBounceSize ? size - total : kBounceSize;
            auto copied = io_copy_in(bounce, buf + total, n);
            if (!copied.ok())
                return total ? Result<size_t>(total) : Result<size_t>(copied.error());
            auto done = write_locked_chunk(bounce, n, offset + total);
            if (!done.ok())
                return total ? Result<size_t>(total) : done;
            total += n;
        }
        return total;
    }

private:
    static constexpr size_t kBounceSize = 2048;

    Result<size_t> write_locked_chunk(const void* buf, size_t size, uint64_t offset) {
        uint64_t end;
        if (__builtin_add_overflow(offset, size, &end) || end > kMaxFileSize)
            return Errno(EFBIG);
        SpinGuard g(m_node->lock);
        if (end > m_node->capacity) {
            uint64_t cap = m_node->capacity ? m_node->capacity : 4096;
            while (cap < end)
                cap *= 2;
            auto* data = static_cast<uint8_t*>(kzalloc(cap));
            if (!data)
                return Errno(ENOSPC);
            if (m_node->data)
                memcpy(data, m_node->data, m_node->size);
            kfree(m_node->data);
            m_node->data = data;
            m_node->capacity = cap;
        }
        if (offset > m_node->size)
            memset(m_node->data + m_node->size, 0, offset - m_node->size);  // a hole reads as zeros
        memcpy(m_node->data + offset, buf, size);
        if (end > m_node->size)
            m_node->size = end;
        m_node->mtime_ns = m_node->ctime_ns = now_ns();
        return size;
    }
public:
    Result<int64_t> seek(int64_t offset, int whence) override {
        int64_t base = whence == 0 ? 0 : whence == 1 ? int64_t(m_pos) : whence == 2 ? int64_t(size()) : -1;
        if (base < 0)
            return Errno(EINVAL);
        int64_t target;
        if (__builtin_add_overflow(base, offset, &target))
            return Errno(EOVERFLOW);
        if (target < 0)
            return Errno(EINVAL);
        m_pos = uint64_t(target);
        return target;
    }
    Result<void> stat(Stat* out) override {
        SpinGuard g(m_node->lock);
        node_stat(m_node, out);
        return {};
    }
    Result<void> sync() override { return {}; }

    void truncate_to_zero() {
        SpinGuard g(m_node->lock);
        m_node->size = 0;
    }

private:
    uint64_t size() {
        SpinGuard g(m_node->lock);
        return m_node->size;
    }
    TmpfsNode* m_node;
    // FIXME: not atomic against a second thread using the same description.
    uint64_t m_pos = 0;
};

class TmpfsDir final : public File {
public:
    TmpfsDir(TmpfsNode* n, uint32_t flags, const char* path) : File(flags, path), m_node(n) {}

    Result<size_t> read(IoBuf, size_t) override { return Errno(EISDIR); }
    Result<size_t> write(IoBuf, size_t) override { return Errno(EISDIR); }
    Result<void> stat(Stat* out) override {
        SpinGuard g(g_tmpfs_lock);
        node_stat(m_node, out);
        return {};
    }
    Result<int64_t> seek(int64_t offset, int whence) override {
        if (whence != 0 || offset < 0)
            return Errno(EINVAL);
        m_index = uint64_t(offset);
        return offset;
    }
    Result<size_t> getdents64(void* out, size_t size) override {
        SpinGuard g(g_tmpfs_lock);
        auto* dst = static_cast<uint8_t*>(out);
        size_t written = 0;
        // Entry i: 0 is ".", 1 is "..", then the children in list order.
        for (;; m_index++) {
            const char* name;
            uint64_t ino;
            uint8_t type;
            if (m_index == 0) {
                name = ".", ino = m_node->ino, type = 4;
            } else if (m_index == 1) {
                name = "..", ino = m_node->parent ? m_node->parent->ino : m_node->ino, type = 4;
            } else {
                TmpfsNode* c = m_node->children;
                for (uint64_t i = 2; c && i < m_index; i++)
                    c = c->next;
                if (!c)
                    break;
                name = c->name, ino = c->ino;
                type = (c->mode & S_IFMT) == S_IFDIR ? 4 : (c->mode & S_IFMT) == S_IFLNK ? 10 : 8;
            }
            size_t name_size = strlen(name) + 1;
            size_t rec = (19 + name_size + 7) & ~size_t(7);
            if (written + rec > size) {
                if (!written)
                    return Errno(EINVAL);
                break;
            }
            uint8_t* d = dst + written;
            uint64_t off = m_index + 1;
            uint16_t reclen = uint16_t(rec);
            memcpy(d, &ino, 8);
            memcpy(d + 8, &off, 8);
            memcpy(d + 16, &reclen, 2);
            d[18] = type;
            memcpy(d + 19, name, name_size);
            written += rec;
        }
        return written;
    }

private:
    TmpfsNode* m_node;
    uint64_t m_index = 0;
};

class Tmpfs final : public FileSystem {
public:
    explicit Tmpfs(TmpfsNode* root) : m_root(root) {}

    const char* type_name() const override { return "tmpfs"; }

    Result<void> lookup(const char* rel, bool* exists, Stat* st) override {
        SpinGuard g(g_tmpfs_lock);
        TmpfsNode* n = walk_locked(m_root, rel, nullptr);
        *exists = n != nullptr;
        if (n)
            node_stat(n, st);
        return {};
    }

    Result<File*> open(const Resolved& r, uint32_t flags, uint32_t mode) override {
        TmpfsNode* node;
        {
            SpinGuard g(g_tmpfs_lock);
            TmpfsNode* parent = nullptr;
            node = walk_locked(m_root, r.rel, &parent);
            if (!node) {
                if (!parent)
                    return Errno(ENOENT);
                const char* name = path_basename(r.path);
                node = new_node(S_IFREG | (mode & 07777), name, strlen(name));
                if (!node)
                    return Errno(ENOSPC);
                node->parent = parent;
                node->next = parent->children;
                parent->children = node;
                parent->mtime_ns = parent->ctime_ns = node->ctime_ns;
            }
            if ((node->mode & S_IFMT) == S_IFREG)
                node->open_count++;
        }
        uint32_t fflags = flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
        File* f;
        if ((node->mode & S_IFMT) == S_IFDIR) {
            f = make<TmpfsDir>(node, fflags, r.path);
        } else {
            auto* tf = make<TmpfsFile>(node, fflags, r.path);
            if (tf && (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
                tf->truncate_to_zero();
            f = tf;
        }
        if (!f)
            return Errno(ENOMEM);
        if (flags & O_PATH)
            f->set_path_only();
        return f;
    }

private:
    TmpfsNode* m_root;
};

}  // namespace

Result<FileSystem*> tmpfs_create() {
    TmpfsNode* root = new_node(S_IFDIR | 01777, "", 0);
    if (!root)
        return Errno(ENOMEM);
    FileSystem* fs = make<Tmpfs>(root);
    if (!fs) {
        kfree(root);
        return Errno(ENOMEM);
    }
    return fs;
}

}  // namespace carbyne::libos::fs
