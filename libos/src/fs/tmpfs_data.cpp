// tmpfs nodes: attributes and the data of regular files (read, write, truncate, fallocate,
// SEEK_DATA/SEEK_HOLE), in LibOS pages or, once mapped, in host shared memory. Lock order:
// tmpfs_node.h.
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/stat.h>

#include "tmpfs_node.h"

namespace carbyne::libos::fs::tmpfs {

namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr int64_t kRelatimeLimitNs = 24 * 3600 * kNsPerSec;
constexpr uint64_t kShortSymlinkSize = 128;  // SHORT_SYMLINK_LEN: targets kept inline

Result<void> io_clear(IoBuf dst, size_t size) {
    if (dst.user)
        return clear_user(dst.addr, size);
    memset(reinterpret_cast<void*>(dst.addr), 0, size);
    return {};
}

uint64_t page_count_in(uint64_t first, uint64_t last) { return first > last ? 0 : last - first + 1; }

// Runs copy(at, n) over [0, size) of an application buffer `buf`. When the whole fails, it
// goes again up to each page edge of `buf`, so that the bytes before a fault still count
// (*moved), as Linux's partial reads and writes do. The error is the fault's.
template <typename Copy>
Result<void> move_chunk(IoBuf buf, size_t size, size_t* moved, Copy copy) {
    *moved = 0;
    Result<void> whole = copy(size_t(0), size);
    if (whole.ok() || !buf.user) {
        *moved = whole.ok() ? size : 0;
        return whole;
    }
    size_t at = 0;
    while (at < size) {
        size_t n = size_t(kPageSize - ((buf.addr + at) & (kPageSize - 1)));
        if (n > size - at)
            n = size - at;
        TRY(copy(at, n));
        at += n;
        *moved = at;
    }
    return whole;
}

// -- Data in host shared memory (tmpfs_node.h: TmpfsNode::shm) --------------------------

uint64_t pages_spanned(uint64_t offset, uint64_t size) {
    return size ? ((offset + size - 1) >> kPageShift) - (offset >> kPageShift) + 1 : 0;
}

// Charges the mount for what the host now holds: page_count plus the `reserved` pages the
// caller reserved ahead becomes the host's count. `io` held exclusively.
void shm_settle(TmpfsNode* n, uint64_t reserved) {
    uint64_t charged;
    {
        SpinGuard g(n->lock);
        charged = n->page_count + reserved;
    }
    PalStreamAttr attr;
    if (g_pal->stream_attributes(n->shm, &attr) == PAL_OK) {
        uint64_t held = attr.blocks / (kPageSize / 512);
        if (held < charged) {
            n->fs->release_pages(charged - held);
            charged = held;
        } else if (held > charged && n->fs->reserve_pages(held - charged)) {
            charged = held;  // written through a mapping: not refused, only left uncounted when full
        }
    }
    SpinGuard g(n->lock);
    n->page_count = charged;
}

// Moves up to `size` bytes between `buf` and the shared memory at `offset` (the host's
// pread/pwrite: a fault part-way ends it with the bytes done).
Result<size_t> shm_io(PalHandle* shm, bool write, IoBuf buf, size_t size, uint64_t offset) {
    TRY(io_check(buf, size));
    size_t done = 0;
    while (done < size) {
        size_t got = 0;
        void* at = reinterpret_cast<void*>(buf.addr + done);
        PalError e = write ? g_pal->stream_write(shm, offset + done, at, size - done, &got)
                           : g_pal->stream_read(shm, offset + done, at, size - done, &got);
        if (e != PAL_OK) {
            if (!done)
                return errno_from_pal(e);
            break;
        }
        if (!got)
            break;
        done += got;
    }
    return done;
}

// Copies the pages of the file into fresh shared memory `shm` (as large host writes as
// runs of neighbouring pages allow). Fallocated pages never written stay holes.
Result<void> copy_pages_to(TmpfsNode* n, PalHandle* shm) {
    uint64_t size = n->size;
    if (!size)
        return {};
    uint64_t run_offset = 0;
    const uint8_t* run_data = nullptr;
    size_t run_size = 0;
    Result<void> status;
    auto flush = [&]() {
        if (!run_size)
            return;
        auto written = shm_io(shm, true, IoBuf::kernel(run_data), run_size, run_offset);
        if (!written.ok())
            status = written.error();
        else if (written.value() != run_size)
            status = Errno(ENOSPC);
        run_size = 0;
    };
    n->pages.for_each(0, (size - 1) >> kPageShift, [&](uint64_t i, uintptr_t& slot) {
        if (slot & PageTree::kUnwritten)
            return true;
        uint64_t pos = i << kPageShift;
        const uint8_t* page = PageTree::page_of(slot);
        size_t len = size - pos < kPageSize ? size_t(size - pos) : size_t(kPageSize);
        if (run_size && (run_offset + run_size != pos || run_data + run_size != page))
            flush();
        if (!run_size) {
            run_offset = pos;
            run_data = page;
        }
        run_size += len;
        return status.ok();
    });
    flush();
    return status;
}

}  // namespace

int64_t now_ns() {
    uint64_t ns = 0;
    g_pal->time_get(PAL_CLOCK_REALTIME, &ns);
    return int64_t(ns);
}

void node_stat(TmpfsNode* n, Stat* out) {
    SpinGuard g(n->lock);
    uint64_t size = n->type == S_IFLNK ? n->target_len : n->size;
    uint64_t blocks = n->page_count * (kPageSize / 512);
    if (n->type == S_IFLNK && n->target_len + 1 > kShortSymlinkSize)
        blocks = kPageSize / 512;  // Linux keeps a long target in a page of its own
    *out = Stat{n->type | n->perm, n->ino, n->fs->dev(), 0, n->nlink, size, kPageSize, blocks,
                n->uid, n->gid, n->atime_ns, n->mtime_ns, n->ctime_ns};
}

Result<void> node_chmod(TmpfsNode* n, uint32_t mode, int64_t now) {
    if (n->type == S_IFLNK)
        return Errno(EOPNOTSUPP);  // Linux has no mode for symlinks (fchmodat AT_SYMLINK_NOFOLLOW)
    SpinGuard g(n->lock);
    n->perm = mode & 07777;
    n->ctime_ns = now;
    return {};
}

// The user.* bytes one node may hold (Linux charges them to the mount's inode space).
constexpr size_t kUserXattrLimit = 128 * 1024;

Result<size_t> node_xattr(TmpfsNode* n, const XattrRequest& req, int64_t now) {
    SpinGuard g(n->lock);
    size_t done = TRY(n->xattrs.apply(req, kUserXattrLimit));
    if (req.op == XattrOp::Set || req.op == XattrOp::Remove)
        n->ctime_ns = now;
    return done;
}

Result<void> node_chown(TmpfsNode* n, uint32_t uid, uint32_t gid, int64_t now) {
    SpinGuard g(n->lock);
    if (uid != ~0u)
        n->uid = uid;
    if (gid != ~0u)
        n->gid = gid;
    // As chown_common: set-user-ID goes, set-group-ID too when group-executable.
    if (n->type != S_IFDIR) {
        n->perm &= ~uint32_t(S_ISUID);
        if ((n->perm & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
            n->perm &= ~uint32_t(S_ISGID);
    }
    n->ctime_ns = now;
    return {};
}

Result<void> node_utimens(TmpfsNode* n, int64_t atime_ns, int64_t mtime_ns, int64_t now) {
    if (atime_ns == kTimeOmit && mtime_ns == kTimeOmit)
        return {};
    SpinGuard g(n->lock);
    if (atime_ns != kTimeOmit)
        n->atime_ns = atime_ns == kTimeNow ? now : atime_ns;
    if (mtime_ns != kTimeOmit)
        n->mtime_ns = mtime_ns == kTimeNow ? now : mtime_ns;
    n->ctime_ns = now;
    return {};
}

Result<size_t> node_read(TmpfsNode* n, IoBuf buf, size_t size, uint64_t offset) {
    if (!size)
        return size_t(0);
    if (offset > kMaxFileSize - size)
        return Errno(EINVAL);  // rw_verify_area: the range must not pass the largest offset
    int64_t now = now_ns();
    size_t done = 0;
    Result<void> status;
    {
        SharedGuard io(n->io);
        uint64_t file_size = n->size;  // stable while `io` is held
        if (n->shm) {
            size_t want = offset < file_size ? size_t(size < file_size - offset ? size : file_size - offset) : 0;
            auto got = shm_io(n->shm, false, buf, want, offset);
            if (got.ok())
                done = got.value();
            else
                status = got.error();
        }
        while (!n->shm && done < size && offset + done < file_size) {
            uint64_t pos = offset + done;
            size_t in_page = size_t(pos & (kPageSize - 1));
            size_t chunk = size_t(kPageSize) - in_page;
            if (chunk > size - done)
                chunk = size - done;
            if (chunk > file_size - pos)
                chunk = size_t(file_size - pos);
            uintptr_t slot = n->pages.get(pos >> kPageShift);
            const uint8_t* src = slot ? PageTree::page_of(slot) + in_page : nullptr;
            size_t moved;
            status = move_chunk(buf + done, chunk, &moved, [&](size_t at, size_t count) {
                return src ? io_copy_out(buf + done + at, src + at, count)
                           : io_clear(buf + done + at, count);  // a hole reads as zeros
            });
            done += moved;
            if (!status.ok())
                break;
        }
    }
    if (!done && !status.ok())
        return status.error();
    // relatime: only when the last access predates the last change, or is a day old.
    SpinGuard g(n->lock);
    if (n->atime_ns <= n->mtime_ns || n->atime_ns <= n->ctime_ns || now - n->atime_ns >= kRelatimeLimitNs)
        n->atime_ns = now;
    return done;
}

Result<size_t> node_write(TmpfsNode* n, IoBuf buf, size_t size, uint64_t offset, bool append, uint64_t* end) {
    if (!size) {
        *end = offset;
        return size_t(0);
    }
    if (offset > kMaxFileSize - size)
        return Errno(EINVAL);  // rw_verify_area checks the offset given, even for an append
    int64_t now = now_ns();
    LockGuard io(n->io);  // one writer at a time: appends and writes are atomic
    if (append)
        offset = n->size;
    if (offset >= kMaxFileSize)
        return Errno(EFBIG);
    if (size > kMaxFileSize - offset)
        size = size_t(kMaxFileSize - offset);
    size_t done = 0;
    uint64_t added = 0;
    Result<void> status;
    if (n->shm) {
        // Reserved as if every page were new; shm_settle gives back what was not.
        uint64_t reserved = pages_spanned(offset, size);
        if (!n->fs->reserve_pages(reserved))
            return Errno(ENOSPC);
        auto written = shm_io(n->shm, true, buf, size, offset);
        if (written.ok())
            done = written.value();
        else
            status = written.error();
        shm_settle(n, reserved);
    }
    while (!n->shm && done < size) {
        uint64_t pos = offset + done;
        size_t in_page = size_t(pos & (kPageSize - 1));
        size_t chunk = size_t(kPageSize) - in_page;
        if (chunk > size - done)
            chunk = size - done;
        uintptr_t* slot = n->pages.slot(pos >> kPageShift);
        if (!slot) {
            status = Errno(ENOMEM);
            break;
        }
        if (!*slot) {
            if (!n->fs->reserve_pages(1)) {
                status = Errno(ENOSPC);
                break;
            }
            void* page = page_alloc();
            if (!page) {
                n->fs->release_pages(1);
                status = Errno(ENOMEM);
                break;
            }
            *slot = reinterpret_cast<uintptr_t>(page);
            added++;
        }
        *slot &= ~(PageTree::kUnwritten | PageTree::kZero);
        uint8_t* dst = PageTree::page_of(*slot) + in_page;
        size_t moved;
        status = move_chunk(buf + done, chunk, &moved,
                            [&](size_t at, size_t count) { return io_copy_in(dst + at, buf + done + at, count); });
        done += moved;
        if (!status.ok()) {
            // The bytes a fault left half-copied past the end of the file must read as
            // zeros if the file grows later.
            uint64_t inside = n->size > pos ? n->size - pos : 0;
            size_t keep = inside > moved ? size_t(inside < chunk ? inside : chunk) : moved;
            if (keep < chunk)
                memset(dst + keep, 0, chunk - keep);
            break;
        }
    }
    {
        SpinGuard g(n->lock);
        n->page_count += added;
        if (done) {
            if (offset + done > n->size)
                n->size = offset + done;
            n->mtime_ns = n->ctime_ns = now;
        }
    }
    if (!done)
        return status.error();
    *end = offset + done;
    return done;
}

Result<void> node_truncate(TmpfsNode* n, uint64_t size, bool touch) {
    if (n->type == S_IFDIR)
        return Errno(EISDIR);
    if (n->type != S_IFREG)
        return Errno(EINVAL);
    if (size > kMaxFileSize)
        return Errno(EFBIG);
    int64_t now = now_ns();
    LockGuard io(n->io);
    uint64_t old = n->size;
    uint64_t freed = 0;
    if (n->shm) {
        // The host zeroes the tail of the last page and frees the rest, as shmem does.
        TRY(pal_result(g_pal->stream_truncate(n->shm, size)));
        shm_settle(n, 0);
    } else if (size < old) {
        // The tail of the last page must read as zeros if the file grows again.
        if (size & (kPageSize - 1)) {
            if (uintptr_t slot = n->pages.get(size >> kPageShift)) {
                size_t in_page = size_t(size & (kPageSize - 1));
                memset(PageTree::page_of(slot) + in_page, 0, size_t(kPageSize) - in_page);
            }
        }
        // Everything past the new end goes, pages fallocated beyond the old end included.
        freed = n->pages.remove((size + kPageSize - 1) >> kPageShift, kMaxPageIndex);
    }
    n->fs->release_pages(freed);
    SpinGuard g(n->lock);
    n->size = size;
    n->page_count -= freed;
    if (size != old || touch)
        n->mtime_ns = n->ctime_ns = now;
    return {};
}

Result<void> node_allocate(TmpfsNode* n, int mode, uint64_t offset, uint64_t size) {
    if (n->type == S_IFDIR)
        return Errno(EISDIR);
    if (n->type != S_IFREG)
        return Errno(ENODEV);
    // tmpfs supports no other mode; a hole punched must keep the size (vfs_fallocate).
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
        return Errno(EOPNOTSUPP);
    if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
        return Errno(EOPNOTSUPP);
    if (int64_t(offset) < 0 || int64_t(size) <= 0)
        return Errno(EINVAL);
    uint64_t end;
    if (__builtin_add_overflow(offset, size, &end) || end > kMaxFileSize)
        return Errno(EFBIG);
    int64_t now = now_ns();
    LockGuard io(n->io);

    if (n->shm) {
        // The same mode bits; the host keeps its size equal to ours.
        static_assert(FALLOC_FL_KEEP_SIZE == PAL_ALLOC_KEEP_SIZE && FALLOC_FL_PUNCH_HOLE == PAL_ALLOC_PUNCH_HOLE);
        uint64_t reserved = (mode & FALLOC_FL_PUNCH_HOLE) ? 0 : pages_spanned(offset, size);
        if (!n->fs->reserve_pages(reserved))
            return Errno(ENOSPC);
        auto done = pal_result(g_pal->stream_allocate(n->shm, uint32_t(mode), offset, size));
        shm_settle(n, reserved);
        TRY(done);
        SpinGuard g(n->lock);
        if (!(mode & FALLOC_FL_KEEP_SIZE) && end > n->size) {
            n->size = end;
            n->mtime_ns = now;
        }
        if (mode & FALLOC_FL_PUNCH_HOLE)
            n->mtime_ns = now;
        n->ctime_ns = now;
        return {};
    }

    if (mode & FALLOC_FL_PUNCH_HOLE) {
        // Whole pages go; the partial ones at either end are zeroed in place.
        uint64_t first_full = (offset + kPageSize - 1) >> kPageShift;
        uint64_t end_full = end >> kPageShift;  // exclusive
        auto zero = [&](uint64_t from, uint64_t to) {
            if (from >= to)
                return;
            if (uintptr_t slot = n->pages.get(from >> kPageShift))
                memset(PageTree::page_of(slot) + (from & (kPageSize - 1)), 0, size_t(to - from));
        };
        if (first_full > end_full) {
            zero(offset, end);  // inside one page
        } else {
            zero(offset, first_full << kPageShift);
            zero(end_full << kPageShift, end);
        }
        uint64_t freed = end_full > first_full ? n->pages.remove(first_full, end_full - 1) : 0;
        n->fs->release_pages(freed);
        SpinGuard g(n->lock);
        n->page_count -= freed;
        n->mtime_ns = n->ctime_ns = now;
        return {};
    }

    // Reserve what is missing up front (ENOSPC before any change); an allocation failure
    // part-way undoes the pages this call added, as shmem_fallocate does.
    uint64_t first = offset >> kPageShift, last = (end - 1) >> kPageShift;
    uint64_t present = 0;
    n->pages.for_each(first, last, [&](uint64_t, uintptr_t&) {
        present++;
        return true;
    });
    uint64_t missing = page_count_in(first, last) - present;
    if (!n->fs->reserve_pages(missing))
        return Errno(ENOSPC);
    uint64_t added = 0;
    for (uint64_t i = first; added < missing && i <= last; i++) {
        uintptr_t* slot = n->pages.slot(i);
        if (slot && *slot)
            continue;
        void* page = slot ? page_alloc() : nullptr;
        if (!page) {
            n->pages.remove(first, last, PageTree::kFresh);
            n->fs->release_pages(missing);
            return Errno(ENOMEM);
        }
        *slot = reinterpret_cast<uintptr_t>(page) | PageTree::kUnwritten | PageTree::kFresh | PageTree::kZero;
        added++;
    }
    // This call's pages stay holes to SEEK_DATA until written; pages an earlier fallocate
    // left so become data now (shmem_fallocate initialises them).
    n->pages.for_each(first, last, [](uint64_t, uintptr_t& slot) {
        slot = (slot & PageTree::kFresh) ? slot & ~PageTree::kFresh : slot & ~PageTree::kUnwritten;
        return true;
    });
    SpinGuard g(n->lock);
    n->page_count += added;
    if (!(mode & FALLOC_FL_KEEP_SIZE) && end > n->size) {
        n->size = end;
        n->mtime_ns = now;
    }
    n->ctime_ns = now;
    return {};
}

Result<int64_t> node_seek_data(TmpfsNode* n, int64_t offset, int whence) {
    if (offset < 0)
        return Errno(ENXIO);
    SharedGuard io(n->io);
    uint64_t size = n->size;
    uint64_t start = uint64_t(offset);
    if (start >= size)
        return Errno(ENXIO);
    if (n->shm)
        return whence == SEEK_DATA ? int64_t(start) : int64_t(size);
    // Written pages are data; holes and fallocated pages never written are holes.
    uint64_t first = start >> kPageShift;
    if (whence == SEEK_DATA) {
        uint64_t found = UINT64_MAX;
        n->pages.for_each(first, kMaxPageIndex, [&](uint64_t i, uintptr_t& slot) {
            if (slot & PageTree::kUnwritten)
                return true;
            found = i;
            return false;
        });
        if (found == UINT64_MAX)
            return Errno(ENXIO);
        uint64_t pos = found << kPageShift;
        if (pos < start)
            pos = start;
        if (pos >= size)
            return Errno(ENXIO);
        return int64_t(pos);
    }
    uint64_t expected = first;
    n->pages.for_each(first, kMaxPageIndex, [&](uint64_t i, uintptr_t& slot) {
        if (i != expected || (slot & PageTree::kUnwritten))
            return false;
        expected++;
        return true;
    });
    uint64_t hole = expected << kPageShift;
    if (hole < start)
        hole = start;
    return int64_t(hole < size ? hole : size);
}

Result<PalHandle*> node_map_handle(TmpfsNode* n) {
    if (n->type != S_IFREG)
        return Errno(ENODEV);
    if (PalHandle* shm = node_shm(n))
        return shm;
    LockGuard io(n->io);
    if (n->shm)
        return n->shm;  // another thread moved it meanwhile
    PalHandle* shm = nullptr;
    TRY(pal_result(g_pal->shm_create(0, &shm)));
    auto copied = copy_pages_to(n, shm);
    if (copied.ok() && n->size)
        copied = pal_result(g_pal->stream_truncate(shm, n->size));  // the tail may be a hole
    if (!copied.ok()) {
        g_pal->stream_close(shm);
        return copied.error();
    }
    // The pages were charged to the mount; from now on the host's count is.
    n->pages.remove(0, kMaxPageIndex);
    __atomic_store_n(&n->shm, shm, __ATOMIC_RELEASE);
    shm_settle(n, 0);
    return shm;
}

void node_settle(TmpfsNode* n) {
    if (!node_shm(n))
        return;
    LockGuard io(n->io);
    shm_settle(n, 0);
}

void node_free(TmpfsNode* n) {
    Tmpfs* fs = n->fs;
    if (n->type == S_IFREG && n->shm) {
        g_pal->stream_close(n->shm);  // mappings of it keep the host object alive
        fs->release_pages(n->page_count);
    } else if (n->type == S_IFREG) {
        fs->release_pages(n->pages.remove(0, kMaxPageIndex));
    }
    kfree(n->target);
    kfree(n->dir.buckets);
    fs->release_inode();
    n->~TmpfsNode();
    kfree(n);
}

}  // namespace carbyne::libos::fs::tmpfs
