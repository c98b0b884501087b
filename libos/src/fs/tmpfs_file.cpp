// tmpfs open files: TmpfsFile (regular files, and symlinks opened with O_PATH) and TmpfsDir.
// Each holds a reference on its node, so an unlinked file lives until its last close.
// Lock order: tmpfs_node.h.
#include <carbyne/string.h>
#include <libos/heap.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>

#include "tmpfs_node.h"

namespace carbyne::libos::fs::tmpfs {

namespace {

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    char d_name[];
};

// The position after the last entry, and the last record's d_off.
constexpr uint64_t kEndOfDir = INT64_MAX;

uint8_t dtype_of(const TmpfsNode* n) {
    switch (n->type) {
    case S_IFDIR: return 4;   // DT_DIR
    case S_IFLNK: return 10;  // DT_LNK
    case S_IFIFO: return 1;   // DT_FIFO
    case S_IFSOCK: return 12; // DT_SOCK
    default: return 8;        // DT_REG
    }
}

class TmpfsFile final : public File {
public:
    TmpfsFile(TmpfsNode* n, uint32_t flags, const char* path) : File(flags, path), m_node(n) {}
    ~TmpfsFile() override { m_node->fs->unpin(m_node); }

    Result<size_t> read(IoBuf buf, size_t size) override {
        LockGuard pos(m_pos_lock);
        size_t done = TRY(node_read(m_node, buf, size, m_pos));
        m_pos += done;
        return done;
    }

    Result<size_t> write(IoBuf buf, size_t size) override {
        LockGuard pos(m_pos_lock);
        uint64_t end = m_pos;
        size_t done = TRY(node_write(m_node, buf, size, m_pos, (flags() & O_APPEND) != 0, &end));
        m_pos = end;
        return done;
    }

    Result<size_t> pread(IoBuf buf, size_t size, uint64_t offset) override {
        return node_read(m_node, buf, size, offset);
    }

    // As on Linux, pwrite on an O_APPEND file appends whatever the offset.
    Result<size_t> pwrite(IoBuf buf, size_t size, uint64_t offset) override {
        uint64_t end;
        return node_write(m_node, buf, size, offset, (flags() & O_APPEND) != 0, &end);
    }

    Result<int64_t> seek(int64_t offset, int whence) override {
        LockGuard pos(m_pos_lock);
        int64_t target;
        switch (whence) {
        case SEEK_SET:
            target = offset;
            break;
        case SEEK_CUR:
            if (__builtin_add_overflow(int64_t(m_pos), offset, &target))
                return Errno(EINVAL);
            break;
        case SEEK_END: {
            Stat st;
            node_stat(m_node, &st);
            if (__builtin_add_overflow(int64_t(st.size), offset, &target))
                return Errno(EINVAL);
            break;
        }
        case SEEK_DATA:
        case SEEK_HOLE:
            if (m_node->type != S_IFREG)
                return Errno(EINVAL);
            target = TRY(node_seek_data(m_node, offset, whence));
            break;
        default:
            return Errno(EINVAL);
        }
        if (target < 0)
            return Errno(EINVAL);
        m_pos = uint64_t(target);
        return target;
    }

    Result<void> stat(Stat* out) override {
        node_settle(m_node);  // pages written through mappings count in st_blocks
        node_stat(m_node, out);
        return {};
    }

    Result<void> truncate(uint64_t size) override {
        if (!writable())
            return Errno(EINVAL);  // ftruncate(2) on a descriptor not open for writing
        return node_truncate(m_node, size, true);
    }

    Result<void> allocate(int mode, uint64_t offset, uint64_t size) override {
        if (!writable())
            return Errno(EBADF);
        return node_allocate(m_node, mode, offset, size);
    }

    Result<void> chmod(uint32_t mode) override { return node_chmod(m_node, mode, now_ns()); }
    Result<size_t> xattr(const XattrRequest& req) override { return node_xattr(m_node, req, now_ns()); }
    Result<void> chown(uint32_t uid, uint32_t gid) override { return node_chown(m_node, uid, gid, now_ns()); }
    Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) override {
        return node_utimens(m_node, atime_ns, mtime_ns, now_ns());
    }
    Result<void> sync() override { return {}; }
    Result<void> datasync() override { return {}; }

    // FIONREAD: Linux answers i_size - f_pos, negative when the offset is past the end.
    Result<uint64_t> readable_bytes() override {
        LockGuard pos(m_pos_lock);
        Stat st;
        node_stat(m_node, &st);
        return uint64_t(int64_t(st.size) - int64_t(m_pos));
    }

    // mmap maps the node's host shared memory, made from its pages on the first map
    // (tmpfs_node.h: TmpfsNode::shm); until then there is no host file behind it.
    PalHandle* pal_file() override { return node_shm(m_node); }
    Result<PalHandle*> map_handle() override { return node_map_handle(m_node); }

private:
    TmpfsNode* m_node;
    Mutex m_pos_lock{LockRank::FilePos};
    uint64_t m_pos = 0;  // guarded by m_pos_lock
};

class TmpfsDir final : public File {
public:
    TmpfsDir(TmpfsNode* n, uint32_t flags, const char* path) : File(flags, path), m_node(n) {}
    ~TmpfsDir() override { m_node->fs->unpin(m_node); }

    Result<size_t> read(IoBuf, size_t) override { return Errno(EISDIR); }
    Result<size_t> write(IoBuf, size_t) override { return Errno(EISDIR); }
    Result<size_t> pread(IoBuf, size_t, uint64_t) override { return Errno(EISDIR); }
    Result<size_t> pwrite(IoBuf, size_t, uint64_t) override { return Errno(EISDIR); }

    Result<void> stat(Stat* out) override {
        node_stat(m_node, out);
        return {};
    }

    // Any position getdents64 returned (d_off) is valid; SEEK_SET and SEEK_CUR only.
    Result<int64_t> seek(int64_t offset, int whence) override {
        LockGuard pos(m_pos_lock);
        int64_t target;
        if (whence == SEEK_CUR) {
            if (__builtin_add_overflow(int64_t(m_pos), offset, &target))
                return Errno(EINVAL);
        } else if (whence == SEEK_SET) {
            target = offset;
        } else {
            return Errno(EINVAL);
        }
        if (target < 0)
            return Errno(EINVAL);
        if (uint64_t(target) != m_pos) {
            m_pos = uint64_t(target);
            m_hint = nullptr;
        }
        return target;
    }

    Result<size_t> getdents64(void* out, size_t size) override;

    Result<void> chmod(uint32_t mode) override { return node_chmod(m_node, mode, now_ns()); }
    Result<size_t> xattr(const XattrRequest& req) override { return node_xattr(m_node, req, now_ns()); }
    Result<void> chown(uint32_t uid, uint32_t gid) override { return node_chown(m_node, uid, gid, now_ns()); }
    Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) override {
        return node_utimens(m_node, atime_ns, mtime_ns, now_ns());
    }
    Result<void> sync() override { return {}; }
    Result<void> datasync() override { return {}; }
    Result<void> allocate(int, uint64_t, uint64_t) override { return Errno(EISDIR); }

private:
    TmpfsNode* m_node;
    Mutex m_pos_lock{LockRank::FilePos};
    // Guarded by m_pos_lock.
    // 0 ".", 1 "..", then a cookie: the entries below it are still to come; kEndOfDir once
    // the end was reached (as Linux 6.12+).
    uint64_t m_pos = 0;
    // Where the last call stopped: the first entry with a cookie below m_pos, valid while
    // the directory's remove_gen is m_hint_gen (no entry left since); dereferenced only
    // under the tree lock.
    TmpfsDirent* m_hint = nullptr;
    uint64_t m_hint_gen = 0;
};

Result<size_t> TmpfsDir::getdents64(void* out, size_t size) {
    LockGuard pos(m_pos_lock);
    Tmpfs* fs = m_node->fs;
    SpinGuard tree(fs->m_tree);
    // A removed directory has no entries, not even "." and ".." (IS_DEADDIR).
    if (m_node->nlink == 0)
        return Errno(ENOENT);
    if (m_pos >= kEndOfDir)
        return size_t(0);
    auto* dst = static_cast<uint8_t*>(out);
    size_t written = 0;
    linux_dirent64* last = nullptr;
    auto emit = [&](uint64_t ino, uint64_t next_pos, uint8_t type, const char* name, size_t name_len) {
        size_t rec = (offsetof(linux_dirent64, d_name) + name_len + 1 + 7) & ~size_t(7);
        if (written + rec > size)
            return false;
        auto* d = reinterpret_cast<linux_dirent64*>(dst + written);
        d->d_ino = ino;
        d->d_off = int64_t(next_pos);
        d->d_reclen = uint16_t(rec);
        d->d_type = type;
        memcpy(d->d_name, name, name_len);
        memset(d->d_name + name_len, 0, rec - offsetof(linux_dirent64, d_name) - name_len);
        written += rec;
        last = d;
        return true;
    };

    bool full = false;
    if (m_pos == 0) {
        if (!emit(m_node->ino, 1, 4, ".", 1))
            full = true;
        else
            m_pos = 1;
    }
    if (!full && m_pos == 1) {
        // The mount root is its own parent here, as in Linux's dcache ("..": parent_ino).
        TmpfsNode* parent = m_node->parent ? m_node->parent : m_node;
        uint64_t all = m_node->dir.next_cookie;  // every entry so far has a smaller cookie
        if (!emit(parent->ino, all, 4, "..", 2))
            full = true;
        else
            m_pos = all;
    }
    if (!full) {
        // Newest first: resume at the first entry with a cookie below the position.
        DirTable& table = m_node->dir;
        TmpfsDirent* e;
        if (m_hint && m_hint_gen == table.remove_gen && m_hint->cookie < m_pos) {
            e = m_hint;
        } else {
            e = table.head;
            while (e && e->cookie >= m_pos)
                e = e->next;
        }
        for (; e; e = e->next) {
            if (!emit(e->node->ino, e->cookie, dtype_of(e->node), e->name, e->name_len)) {
                full = true;
                break;
            }
            m_pos = e->cookie;
        }
        m_hint = e;
        m_hint_gen = table.remove_gen;
    }
    if (full && !written)
        return Errno(EINVAL);  // the buffer cannot hold one record
    if (!full) {
        m_pos = kEndOfDir;
        if (last)
            last->d_off = int64_t(kEndOfDir);
    }
    return written;
}

}  // namespace

Result<File*> file_open(TmpfsNode* n, uint32_t flags, const char* path) {
    uint32_t fflags = flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
    File* f;
    if (n->type == S_IFDIR)
        f = make<TmpfsDir>(n, fflags, path);
    else
        f = make<TmpfsFile>(n, fflags, path);
    if (!f) {
        n->fs->unpin(n);
        return Errno(ENOMEM);
    }
    if (flags & O_PATH)
        f->set_path_only();
    return f;
}

}  // namespace carbyne::libos::fs::tmpfs
