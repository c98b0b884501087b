// tmpfs internals shared by its files: the nodes, the per-mount file system and the page
// store. Only tmpfs*.cpp include this; the VFS sees tmpfs_create().
//
// Lock order (libos/LOCKING.md; a lock may be taken while holding the ones above it):
//   1. TmpfsFile/TmpfsDir position lock   (Mutex; Linux's f_pos_lock)
//   2. TmpfsNode::io                      (RwLock; Linux's i_rwsem, regular files)
//   3. Tmpfs::m_tree                      (Spinlock; the namespace of one mount)
//   4. TmpfsNode::lock                    (Spinlock; one node's attributes; one at a time)
//   5. the page pool lock                 (Spinlock; leaf, tmpfs_pages.cpp)
// The sleeping locks may be held while copying to or from the application (the data moves
// straight between its buffer and the pages, or the host shared memory by PAL calls); the
// spinlocks never are, and no PAL call is made under a spinlock. No fault handler takes
// `io`: mappings of a file are host mappings of its shared memory, filled by the host.
#pragma once

#include <libos/result.h>
#include <libos/lock.h>
#include <stddef.h>
#include <stdint.h>

#include "fifo.h"
#include "filesystem.h"
#include "xattr.h"

namespace carbyne::libos::fs::tmpfs {

inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kPageSize = 1ull << kPageShift;
inline constexpr uint64_t kMaxFileSize = INT64_MAX;  // MAX_LFS_FILESIZE
inline constexpr uint64_t kMaxPageIndex = kMaxFileSize >> kPageShift;

// -- Pages (tmpfs_pages.cpp) ------------------------------------------------------------

// Whole zeroed 4 KiB pages, for file data and page-tree nodes; nullptr when out of memory.
void* page_alloc();
void page_free(void* page);
// Frees a page that holds only zeros without touching it (it may never have been touched:
// freeing it then costs no memory).
void page_free_zero(void* page);

// A sparse array of pages indexed by page number: a radix tree of 512-slot nodes whose
// height grows with the highest index. Holes cost nothing. A slot holds a page address
// (page-aligned) with flag bits below.
class PageTree {
public:
    static constexpr uintptr_t kUnwritten = 1;  // fallocated, never written: a hole to SEEK_DATA
    static constexpr uintptr_t kFresh = 2;      // allocated by the fallocate in progress
    // Allocated by fallocate and not written since: the page holds only zeros and may never
    // have been touched, so freeing it must not touch it either (page_free_zero). A later
    // fallocate that makes it data (no longer kUnwritten) leaves this.
    static constexpr uintptr_t kZero = 4;
    static constexpr uintptr_t kFlags = kPageSize - 1;

    static uint8_t* page_of(uintptr_t slot) { return reinterpret_cast<uint8_t*>(slot & ~kFlags); }

    // The slot of `index`, 0 when absent.
    uintptr_t get(uint64_t index) const;
    // The slot of `index` to fill in, creating tree nodes; nullptr when out of memory.
    uintptr_t* slot(uint64_t index);
    // Calls fn(index, uintptr_t& slot) for each nonzero slot in [first, last], in index
    // order, until fn returns false. Returns false when fn stopped it.
    template <typename F>
    bool for_each(uint64_t first, uint64_t last, F&& fn) {
        if (!m_root || first > last)
            return true;
        uint64_t top = capacity_of(m_height) - 1;
        if (first > top)
            return true;
        return visit(m_root, m_height, 0, first, last < top ? last : top, fn);
    }
    // Frees the pages in [first, last] and the tree nodes left empty; returns the count of
    // pages freed. With only_flag, frees only slots carrying that flag.
    uint64_t remove(uint64_t first, uint64_t last, uintptr_t only_flag = 0);

private:
    static constexpr unsigned kBits = 9;
    static constexpr uint64_t kFanout = 1u << kBits;

    static uint64_t capacity_of(unsigned height) {
        return height * kBits >= 64 ? UINT64_MAX : 1ull << (height * kBits);
    }
    template <typename F>
    static bool visit(void* node, unsigned height, uint64_t base, uint64_t first, uint64_t last, F& fn) {
        auto* slots = static_cast<uintptr_t*>(node);
        uint64_t span = capacity_of(height - 1);  // indices under one slot
        uint64_t lo = (first - base) / span, hi = (last - base) / span;
        for (uint64_t i = lo; i <= hi; i++) {
            if (!slots[i])
                continue;
            uint64_t child_base = base + i * span;
            if (height == 1) {
                if (!fn(child_base, slots[i]))
                    return false;
                continue;
            }
            uint64_t f = first > child_base ? first : child_base;
            uint64_t l = last < child_base + span - 1 ? last : child_base + span - 1;
            if (!visit(reinterpret_cast<void*>(slots[i]), height - 1, child_base, f, l, fn))
                return false;
        }
        return true;
    }
    static uint64_t remove_in(void* node, unsigned height, uint64_t base, uint64_t first, uint64_t last,
                              uintptr_t only_flag, bool* now_empty);

    void* m_root = nullptr;
    unsigned m_height = 0;  // 0: empty; else the root covers capacity_of(m_height) pages
};

// -- Nodes ------------------------------------------------------------------------------

class Tmpfs;
struct TmpfsNode;

// A FIFO node as its ends see it (fifo.h): each end holds a pin on the node (refs), so an
// unlinked FIFO keeps working until its last end closes; release() drops that pin.
struct TmpfsFifo final : FifoNode {
    TmpfsNode* node;  // the node this is part of

    Result<void> stat(Stat* out) override;
    Result<void> chmod(uint32_t mode) override;
    Result<void> chown(uint32_t uid, uint32_t gid) override;
    Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) override;
    void release() override;
};

// A name in a directory. Entries are kept newest first, in decreasing cookie order; a
// getdents64 position is "the entries with a cookie below this", so a cursor survives any
// removal and never meets a name made after it.
struct TmpfsDirent {
    TmpfsDirent* next;
    TmpfsDirent* prev;
    TmpfsDirent* hash_next;
    TmpfsNode* node;
    uint64_t cookie;
    uint64_t hash;
    uint16_t name_len;
    char name[];  // NUL-terminated
};

// The entries of a directory, under the mount's tree lock.
struct DirTable {
    TmpfsDirent* head;
    TmpfsDirent* tail;
    TmpfsDirent** buckets;  // nullptr while the directory is small: the list is scanned
    uint32_t bucket_count;
    uint64_t count;
    uint64_t subdirs;
    uint64_t next_cookie;   // from kFirstCookie: positions 0 and 1 are "." and ".."
    uint64_t remove_gen;    // bumped when an entry leaves: invalidates cached cursors
};

inline constexpr uint64_t kFirstCookie = 2;
// Linux tmpfs reports a directory's size as 20 bytes per entry, "." and ".." included.
inline constexpr uint64_t kBogoDirentSize = 20;

struct TmpfsNode {
    // Constant after creation.
    Tmpfs* fs;
    uint64_t ino;
    uint32_t type;       // S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO or S_IFSOCK
    char* target;        // symlinks: the target, NUL-terminated
    uint64_t target_len;

    // Guarded by the mount's tree lock (Tmpfs::m_tree).
    uint64_t refs;       // Files open on it and temporary pins; freed at refs == nlink == 0
    TmpfsNode* parent;   // directories: the one holding it (nullptr for the root, once removed)
    DirTable dir;        // directories

    // Guarded by `lock`. nlink is written with the tree lock held too, so either suffices
    // to read it.
    Spinlock lock{LockRank::TmpfsNode};
    uint32_t perm;       // mode bits below S_IFMT
    uint32_t uid, gid;
    uint64_t nlink;
    uint64_t size;       // regular files: written with `io` held exclusively as well
    uint64_t page_count; // data pages held, fallocated ones included (st_blocks / 8)
    int64_t atime_ns, mtime_ns, ctime_ns;
    XattrSet xattrs;

    // Regular files. Pages change only with `io` held exclusively; readers hold it shared.
    // In host shared memory, page_count is what the mount was charged: the host's count
    // when last settled (after each change made through `io`), short of it only when the
    // mount was full when pages written through a mapping were found.
    RwLock io{LockRank::TmpfsIo};
    PageTree pages;
    // Where the data lives: in `pages` (LibOS memory, sparse) until the file is first
    // mapped, from then on in `shm` (PAL shm_create), a host shared-memory object of exactly
    // `size` bytes that mmap maps, so that read, write, truncate and every MAP_SHARED
    // mapping see the same bytes and a page wholly past the end faults (SIGBUS) as on
    // Linux. The move is one way ("promotion", node_map_handle): made with `io` held
    // exclusively, after which `pages` is empty; `shm` is read with `io` held (shared is
    // enough) or by an acquire load, and closed only by node_free. For fork, `shm` is the
    // node's data to pass on as a host handle, not a copy (mappings in parent and child must
    // alias it); a node without one has its `pages` copied.
    PalHandle* shm;

    // FIFOs: where their ends find the pipe (its own lock; fifo.h).
    TmpfsFifo fifo;
};

int64_t now_ns();

// Attributes (tmpfs_data.cpp and tmpfs.cpp); `now` is taken before any lock.
void node_stat(TmpfsNode* n, Stat* out);
Result<void> node_chmod(TmpfsNode* n, uint32_t mode, int64_t now);
Result<void> node_chown(TmpfsNode* n, uint32_t uid, uint32_t gid, int64_t now);
Result<void> node_utimens(TmpfsNode* n, int64_t atime_ns, int64_t mtime_ns, int64_t now);
// Extended attributes, of regular files and directories alike (the caller checks what
// each namespace allows on which kind of node).
Result<size_t> node_xattr(TmpfsNode* n, const XattrRequest& req, int64_t now);

// Data of regular files (tmpfs_data.cpp).
Result<size_t> node_read(TmpfsNode* n, IoBuf buf, size_t size, uint64_t offset);
// Writes at `offset`, or at the end with `append`; *end is where the write ended.
Result<size_t> node_write(TmpfsNode* n, IoBuf buf, size_t size, uint64_t offset, bool append, uint64_t* end);
// `touch`: update mtime and ctime even when the size stays (ftruncate, O_TRUNC).
Result<void> node_truncate(TmpfsNode* n, uint64_t size, bool touch);
Result<void> node_allocate(TmpfsNode* n, int mode, uint64_t offset, uint64_t size);
// SEEK_DATA / SEEK_HOLE from `offset`. In host shared memory the whole file is data (as
// lseek(2) allows): the PAL cannot ask the host for its holes.
Result<int64_t> node_seek_data(TmpfsNode* n, int64_t offset, int whence);
// The host shared memory mmap maps: the file's data moves there on the first call (ENODEV
// for anything but a regular file).
Result<PalHandle*> node_map_handle(TmpfsNode* n);
// The node's host shared memory; nullptr while its data is in pages.
inline PalHandle* node_shm(TmpfsNode* n) { return __atomic_load_n(&n->shm, __ATOMIC_ACQUIRE); }
// Brings st_blocks of a file in host shared memory up to date with the pages written
// through mappings since the last change (a no-op for other nodes).
void node_settle(TmpfsNode* n);
// Frees a node that no directory and no File refers to any more.
void node_free(TmpfsNode* n);

// The file system of one mount.
class Tmpfs final : public FileSystem {
public:
    explicit Tmpfs(uint64_t dev) : m_dev(dev) {}
    ~Tmpfs() override;
    // Makes the root directory; once, before the mount is used.
    Result<void> init();

    const char* type_name() const override { return "tmpfs"; }
    Result<void> lookup(const char* rel, bool* exists, Stat* st) override;
    Result<size_t> readlink(const char* rel, char* buf, size_t size) override;
    Result<File*> open(const Resolved& r, uint32_t flags, uint32_t mode) override;
    Result<File*> open_tmpfile(const Resolved& dir, uint32_t flags, uint32_t mode) override;
    Result<void> link_file(File* f, const Stat& st, const char* rel) override;
    Result<void> mkdir(const char* rel, uint32_t mode) override;
    Result<void> unlink(const char* rel) override;
    Result<void> rmdir(const char* rel) override;
    Result<void> rename(const char* from, const char* to, uint32_t flags) override;
    Result<void> link(const char* from, const char* to) override;
    Result<void> symlink(const char* target, const char* rel) override;
    Result<void> mknod(const char* rel, uint32_t mode, uint64_t dev) override;
    Result<void> chmod(const char* rel, uint32_t mode) override;
    Result<void> chown(const char* rel, uint32_t uid, uint32_t gid) override;
    Result<void> truncate(const char* rel, uint64_t size) override;
    Result<void> utimens(const char* rel, int64_t atime_ns, int64_t mtime_ns) override;
    Result<size_t> xattr(const char* rel, const XattrRequest& req) override;
    Result<void> statfs(StatFs* out) override;

    uint64_t dev() const { return m_dev; }
    // Drops a reference taken for a File or a pin; frees the node when it was the last
    // and no name is left.
    void unpin(TmpfsNode* n);
    // Accounting against the mount's limits (statfs shows them); false when full.
    bool reserve_pages(uint64_t count);
    void release_pages(uint64_t count);
    bool reserve_inode();
    void release_inode();

    Spinlock m_tree{LockRank::TmpfsTree};  // the namespace: every DirTable, parent and refs; nlink changes

private:
    struct Where;
    Result<TmpfsNode*> walk_range_locked(const char* p, const char* end);
    Result<TmpfsNode*> walk_locked(const char* rel);
    Result<void> walk_parent_locked(const char* rel, Where* out);
    Result<TmpfsNode*> new_node(uint32_t type, uint32_t perm, int64_t now);
    Result<TmpfsNode*> create(const char* rel, uint32_t type, uint32_t perm, const char* target, int how,
                              bool* created);
    // Pins the node at `rel` (refs + 1) so that it can be used without the tree lock.
    Result<TmpfsNode*> pin(const char* rel);
    // Grows an overloaded directory's hash table; the caller pinned the directory.
    void grow_table(TmpfsNode* dir);

    struct Tmpfile;
    Tmpfile* m_tmpfiles = nullptr;  // guarded by m_tree: O_TMPFILE nodes still open (tmpfs.cpp)

    const uint64_t m_dev;
    TmpfsNode* m_root = nullptr;
    uint64_t m_next_ino = 1;  // atomic
    uint64_t m_inodes = 0;    // atomic: nodes alive
    uint64_t m_pages = 0;     // atomic: data pages held
};

// Opens a File on a node pinned for it (tmpfs_file.cpp); on failure the pin is dropped.
Result<File*> file_open(TmpfsNode* n, uint32_t flags, const char* path);

}  // namespace carbyne::libos::fs::tmpfs
