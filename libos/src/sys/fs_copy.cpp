// sendfile, copy_file_range, splice, tee, vmsplice: copies between two open files through a
// LibOS buffer, so that any readable File can feed any writable one (host files, tmpfs,
// the console, pipes, sockets).
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/stat.h>

#include "../net/pipe.h"
#include "../proc/process.h"
#include "fs_common.h"
#include "syscall.h"

namespace carbyne::libos {

using fs::IoBuf;

namespace {

constexpr size_t kMaxRw = 0x7ffff000;  // MAX_RW_COUNT
constexpr size_t kChunkSize = 64 * 1024;

struct Chunk {
    uint8_t bytes[kChunkSize];
};

// Where a copy reads or writes: at an explicit position (pread/pwrite), or at the file's
// own position (read/write) when the file cannot seek.
struct End {
    FileRef* file;
    bool positioned;
    int64_t pos;

    Result<size_t> read(void* buf, size_t size) {
        return positioned ? (*file)->pread(IoBuf::kernel(buf), size, uint64_t(pos)) : (*file)->read(IoBuf::kernel(buf), size);
    }
    Result<size_t> write(const void* buf, size_t size) {
        return positioned ? (*file)->pwrite(IoBuf::kernel(buf), size, uint64_t(pos))
                          : (*file)->write(IoBuf::kernel(buf), size);
    }
};

// Moves up to `count` bytes; stops at the end of the input or at a short write. An error
// after some bytes moved is a short count (Linux semantics).
Result<size_t> copy_between(End& in, End& out, size_t count) {
    HeapBox<Chunk> chunk;
    if (!chunk.get())
        return Errno(ENOMEM);
    size_t total = 0;
    while (total < count) {
        size_t want = count - total < kChunkSize ? count - total : kChunkSize;
        auto got = in.read(chunk.get()->bytes, want);
        if (!got.ok())
            return total ? Result<size_t>(total) : got;
        if (got.value() == 0)
            break;
        size_t n = got.value();
        size_t written = 0;
        while (written < n) {
            auto w = out.write(chunk.get()->bytes + written, n - written);
            if (!w.ok() || w.value() == 0) {
                // The bytes read but not written are not lost for a positioned input: the
                // caller moves its position by what was written only. FIXME: from a stream
                // (a pipe, the console) they are; Linux splices without consuming them.
                total += written;
                if (in.positioned)
                    in.pos += int64_t(written);
                if (!w.ok() && !total)
                    return w.error();
                return total;
            }
            written += w.value();
            if (out.positioned)
                out.pos += int64_t(w.value());
        }
        if (in.positioned)
            in.pos += int64_t(n);
        total += n;
        if (n < want)
            break;
    }
    return total;
}

// An end at the file's own position: the position now, or, for a file that has one only
// on the host (ESPIPE from seek: the console), unpositioned transfers.
Result<void> own_position(End& end) {
    auto pos = (*end.file)->seek(0, 1 /* SEEK_CUR */);
    if (pos.ok()) {
        end.pos = pos.value();
        return {};
    }
    if (pos.error().code != ESPIPE || !(*end.file)->is_console())
        return pos.error();
    end.positioned = false;
    end.pos = 0;
    return {};
}

bool is_directory(FileRef& f) {
    fs::Stat st;
    return f->stat(&st).ok() && (st.mode & S_IFMT) == S_IFDIR;
}

}  // namespace

Result<long> sys_sendfile(const SyscallArgs& a) {
    uint64_t user_offset = a.u64(2);
    size_t count = a.u64(3) > kMaxRw ? kMaxRw : size_t(a.u64(3));
    int64_t offset = 0;
    if (user_offset)
        TRY(copy_from_user(&offset, user_offset, sizeof(offset)));
    FileRef in = TRY(g_process.fds.get(a.fd(1)));
    if (!in->readable())
        return Errno(EBADF);
    End src{&in, false, 0};
    if (user_offset) {
        TRY(in->pread(IoBuf::kernel(nullptr), 0, 0));  // ESPIPE when it cannot read at an offset
        if (offset < 0)
            return Errno(EINVAL);
        src = End{&in, true, offset};
    } else {
        // A seekable input is read at its position, which then moves by what was written.
        auto pos = in->seek(0, 1 /* SEEK_CUR */);
        if (pos.ok())
            src = End{&in, true, pos.value()};
    }
    FileRef out = TRY(g_process.fds.get(a.fd(0)));
    if (!out->writable())
        return Errno(EBADF);
    if (out->flags() & O_APPEND)
        return Errno(EINVAL);
    if (is_directory(in))
        return Errno(EINVAL);  // nothing to splice from
    End dst{&out, false, 0};
    auto done = count ? copy_between(src, dst, count) : Result<size_t>(size_t(0));
    if (user_offset) {
        TRY(copy_to_user(user_offset, &src.pos, sizeof(src.pos)));
    } else if (src.positioned) {
        TRY(in->seek(src.pos, 0 /* SEEK_SET */));
    }
    return long(TRY(done));
}

Result<long> sys_copy_file_range(const SyscallArgs& a) {
    FileRef in = TRY(g_process.fds.get(a.fd(0)));
    FileRef out = TRY(g_process.fds.get(a.fd(2)));
    uint64_t user_off_in = a.u64(1), user_off_out = a.u64(3);
    size_t len = a.u64(4) > kMaxRw ? kMaxRw : size_t(a.u64(4));
    int64_t pos_in = 0, pos_out = 0;
    if (user_off_in)
        TRY(copy_from_user(&pos_in, user_off_in, sizeof(pos_in)));
    if (user_off_out)
        TRY(copy_from_user(&pos_out, user_off_out, sizeof(pos_out)));
    if (a.u32(5))
        return Errno(EINVAL);
    // generic_copy_file_checks, in its order.
    fs::Stat st_in, st_out;
    TRY(in->stat(&st_in));
    TRY(out->stat(&st_out));
    if ((st_in.mode & S_IFMT) == S_IFDIR || (st_out.mode & S_IFMT) == S_IFDIR)
        return Errno(EISDIR);
    if ((st_in.mode & S_IFMT) != S_IFREG || (st_out.mode & S_IFMT) != S_IFREG)
        return Errno(EINVAL);
    if (!in->readable() || !out->writable() || (out->flags() & O_APPEND))
        return Errno(EBADF);
    // Regular files both: their positions can be read now, but for a host file behind the
    // console (a shell's `< FILE` or `> FILE`), whose position only the host knows: that
    // end is read or written at its own position, which moves as it does on Linux.
    End src{&in, true, pos_in}, dst{&out, true, pos_out};
    if (!user_off_in)
        TRY(own_position(src));
    if (!user_off_out)
        TRY(own_position(dst));
    pos_in = src.pos;
    pos_out = dst.pos;
    // Linux compares as unsigned: a negative offset wraps here already.
    if (uint64_t(pos_in) + len < uint64_t(pos_in) || uint64_t(pos_out) + len < uint64_t(pos_out))
        return Errno(EOVERFLOW);
    size_t count = len;
    if (src.positioned) {
        count = pos_in >= int64_t(st_in.size) ? 0 : len;
        if (count && uint64_t(pos_in) + count > st_in.size)
            count = size_t(st_in.size - uint64_t(pos_in));
    }
    bool same = st_in.dev == st_out.dev && st_in.ino == st_out.ino;
    if (same && src.positioned && dst.positioned && pos_out + int64_t(count) > pos_in &&
        pos_out < pos_in + int64_t(count))
        return Errno(EINVAL);  // overlapping ranges of one file
    if (pos_in < 0 || pos_out < 0)
        return Errno(EINVAL);
    auto done = count ? copy_between(src, dst, count) : Result<size_t>(size_t(0));
    if (!done.ok())
        return done.error();
    if (user_off_in)
        TRY(copy_to_user(user_off_in, &src.pos, sizeof(src.pos)));
    else if (src.positioned)
        TRY(in->seek(src.pos, 0 /* SEEK_SET */));
    if (user_off_out)
        TRY(copy_to_user(user_off_out, &dst.pos, sizeof(dst.pos)));
    else if (dst.positioned)
        TRY(out->seek(dst.pos, 0 /* SEEK_SET */));
    return long(done.value());
}

namespace {

constexpr uint32_t kSpliceNonblock = 0x02, kSpliceAll = 0x0f;  // SPLICE_F_NONBLOCK, SPLICE_F_ALL

bool is_pipe(FileRef& f) { return f->kind() == fs::FileKind::Pipe; }

// How much one call moves into the pipe `out`: up to len and a chunk, no more than its free
// room when it has some (with none, the write waits for room).
size_t into_pipe(fs::File* out, size_t len) {
    size_t room = net::pipe_room(out);
    size_t want = len < kChunkSize ? len : kChunkSize;
    return room && room < want ? room : want;
}

// A splice offset argument: the position it points to (EFAULT; EINVAL when negative).
Result<int64_t> read_offset(uint64_t user) {
    int64_t pos;
    TRY(copy_from_user(&pos, user, sizeof(pos)));
    if (pos < 0)
        return Errno(EINVAL);
    return pos;
}

// The file end of a splice: at *user_off when given (the file must read or write at an
// offset: EINVAL), else at the file's own position.
Result<End> file_end(FileRef* f, uint64_t user_off, bool write) {
    End end{f, true, 0};
    if (user_off) {
        end.pos = TRY(read_offset(user_off));
        auto probe = write ? (*f)->pwrite(IoBuf::kernel(nullptr), 0, uint64_t(end.pos))
                           : (*f)->pread(IoBuf::kernel(nullptr), 0, uint64_t(end.pos));
        if (!probe.ok() && probe.error().code == ESPIPE)
            return Errno(EINVAL);
        return end;
    }
    auto pos = (*f)->seek(0, 1 /* SEEK_CUR */);
    if (pos.ok())
        end.pos = pos.value();
    else
        end.positioned = false;  // a socket, the console: its own stream
    return end;
}

// After a splice: the file end's new position, to *user_off or to the file.
Result<void> store_position(End& end, uint64_t user_off) {
    if (user_off)
        return copy_to_user(user_off, &end.pos, sizeof(end.pos));
    if (end.positioned)
        TRY((*end.file)->seek(end.pos, 0 /* SEEK_SET */));
    return {};
}

// Writes all of buf to `end` (a short write ends it); the count written.
Result<size_t> write_all(End& end, const uint8_t* buf, size_t size) {
    size_t done = 0;
    while (done < size) {
        auto w = end.write(buf + done, size - done);
        if (!w.ok() || !w.value()) {
            if (done)
                break;
            return w.ok() ? Result<size_t>(size_t(0)) : w.error();
        }
        done += w.value();
        if (end.positioned)
            end.pos += int64_t(w.value());
    }
    return done;
}

}  // namespace

// splice(2): one side a pipe. Pipe to file or socket: what the pipe holds, up to len
// (waiting only while it is empty); file or socket to pipe: up to len, at most what the
// pipe has room for; pipe to pipe: the same. Bytes taken from a pipe that the other side
// then refuses are lost (FIXME: Linux moves pipe pages without copying and loses none).
Result<long> sys_splice(const SyscallArgs& a) {
    uint64_t off_in = a.u64(1), off_out = a.u64(3);
    size_t len = a.u64(4) > kMaxRw ? kMaxRw : size_t(a.u64(4));
    uint32_t flags = a.u32(5);
    FileRef in = TRY(g_process.fds.get(a.fd(0)));
    FileRef out = TRY(g_process.fds.get(a.fd(2)));
    if (!in->readable() || !out->writable())
        return Errno(EBADF);
    if (flags & ~kSpliceAll)
        return Errno(EINVAL);
    bool nonblock = (flags & kSpliceNonblock) || (in->flags() & O_NONBLOCK) || (out->flags() & O_NONBLOCK);
    HeapBox<Chunk> chunk;
    if (!chunk.get())
        return Errno(ENOMEM);
    uint8_t* buf = chunk.get()->bytes;
    if (is_pipe(in) && is_pipe(out)) {
        if (off_in || off_out)
            return Errno(ESPIPE);
        if (net::pipe_same(in.get(), out.get()))
            return Errno(EINVAL);
        if (!len)
            return 0;
        size_t want = into_pipe(out.get(), len);
        size_t n = TRY(net::pipe_take(in.get(), buf, want, nonblock));
        return long(n ? TRY(net::pipe_put(out.get(), buf, n, nonblock)) : 0);
    }
    if (is_pipe(in)) {
        if (off_in)
            return Errno(ESPIPE);
        End dst = TRY(file_end(&out, off_out, true));
        if (out->flags() & O_APPEND)
            return Errno(EINVAL);
        size_t total = 0;
        while (total < len) {
            size_t want = len - total < kChunkSize ? len - total : kChunkSize;
            auto got = net::pipe_take(in.get(), buf, want, nonblock || total > 0);
            if (!got.ok() || !got.value()) {
                if (total || got.ok())
                    break;
                return got.error();
            }
            auto put = write_all(dst, buf, got.value());
            if (!put.ok()) {
                if (!total)
                    return put.error();
                break;
            }
            total += put.value();
            if (put.value() < got.value())
                break;
        }
        TRY(store_position(dst, off_out));
        return long(total);
    }
    if (is_pipe(out)) {
        if (off_out)
            return Errno(ESPIPE);
        End src = TRY(file_end(&in, off_in, false));
        if (is_directory(in))
            return Errno(EISDIR);
        if (!len)
            return 0;
        size_t want = into_pipe(out.get(), len);
        size_t n = TRY(src.read(buf, want));
        size_t put = n ? TRY(net::pipe_put(out.get(), buf, n, nonblock)) : 0;
        if (src.positioned)
            src.pos += int64_t(put);
        TRY(store_position(src, off_in));
        return long(put);
    }
    return Errno(EINVAL);
}

// tee(2): a copy of what one pipe holds, up to len, into another; the first keeps it.
Result<long> sys_tee(const SyscallArgs& a) {
    size_t len = a.u64(2) > kMaxRw ? kMaxRw : size_t(a.u64(2));
    uint32_t flags = a.u32(3);
    FileRef in = TRY(g_process.fds.get(a.fd(0)));
    FileRef out = TRY(g_process.fds.get(a.fd(1)));
    if (!in->readable() || !out->writable())
        return Errno(EBADF);
    if (flags & ~kSpliceAll)
        return Errno(EINVAL);
    if (!is_pipe(in) || !is_pipe(out) || net::pipe_same(in.get(), out.get()))
        return Errno(EINVAL);
    if (!len)
        return 0;
    bool nonblock = (flags & kSpliceNonblock) != 0;
    HeapBox<Chunk> chunk;
    if (!chunk.get())
        return Errno(ENOMEM);
    size_t want = into_pipe(out.get(), len);
    size_t n = TRY(net::pipe_peek(in.get(), chunk.get()->bytes, want, nonblock));
    return long(n ? TRY(net::pipe_put(out.get(), chunk.get()->bytes, n, nonblock)) : 0);
}

// vmsplice(2): application memory into a pipe's write end, or out of its read end: a
// writev or readv of the pipe (copied, as Linux copies for a read end; SPLICE_F_GIFT is a
// hint).
Result<long> sys_vmsplice(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    if (a.u32(3) & ~kSpliceAll)
        return Errno(EINVAL);
    if (!is_pipe(f))
        return Errno(EBADF);
    if (a.u64(2) > 1024)  // UIO_MAXIOV
        return Errno(EINVAL);
    if (f->writable())
        return net::pipe_writev(f.get(), a.u64(1), size_t(a.u64(2)));
    return net::pipe_readv(f.get(), a.u64(1), size_t(a.u64(2)));
}

}  // namespace carbyne::libos
