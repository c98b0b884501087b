// /dev: the memory devices (null, zero, full, random, urandom), the console (tty, console,
// console-stderr) and the links to /proc/self/fd. /dev/shm is a tmpfs mounted on top
// (pseudofs_mount_all); ptmx and pts/ are the pseudo-terminals (pty.h).
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/fcntl.h>

#include "path.h"
#include "pseudo.h"
#include "pty.h"

namespace carbyne::libos::fs {

namespace {

using pseudo::makedev;
using pseudo::Node;
using pseudo::NodeFile;

// The memory devices: reads and writes that never block and keep no position.
class MemoryDevice : public NodeFile {
public:
    using NodeFile::NodeFile;

    Result<size_t> pread(IoBuf buf, size_t size, uint64_t) override { return read(buf, size); }
    Result<size_t> pwrite(IoBuf buf, size_t size, uint64_t) override { return write(buf, size); }
    Result<int64_t> seek(int64_t, int) override { return int64_t{0}; }  // Linux: always 0

protected:
    // Fills `buf` with zeros; a fault after some bytes is a short count.
    static Result<size_t> read_zeros(IoBuf buf, size_t size) {
        if (!buf.user) {
            memset(reinterpret_cast<void*>(buf.addr), 0, size);
            return size;
        }
        constexpr size_t kChunk = 65536;
        size_t done = 0;
        while (done < size) {
            size_t n = size - done < kChunk ? size - done : kChunk;
            auto cleared = clear_user(buf.addr + done, n);
            if (!cleared.ok())
                return done ? Result<size_t>(done) : Result<size_t>(cleared.error());
            done += n;
        }
        return done;
    }
};

// /dev/null: reads end at once; writes are taken whole (the buffer is not even read).
class NullDevice final : public MemoryDevice {
public:
    using MemoryDevice::MemoryDevice;
    Result<size_t> read(IoBuf, size_t) override { return size_t{0}; }
    Result<size_t> write(IoBuf, size_t size) override { return size; }
};

// /dev/zero: zeros; writes are taken whole.
class ZeroDevice final : public MemoryDevice {
public:
    using MemoryDevice::MemoryDevice;
    Result<size_t> read(IoBuf buf, size_t size) override { return read_zeros(buf, size); }
    Result<size_t> write(IoBuf, size_t size) override { return size; }
    bool maps_as_anonymous() const override { return true; }
};

// /dev/full: zeros, and every write fails as on a full disk.
class FullDevice final : public MemoryDevice {
public:
    using MemoryDevice::MemoryDevice;
    Result<size_t> read(IoBuf buf, size_t size) override { return read_zeros(buf, size); }
    Result<size_t> write(IoBuf, size_t) override { return Errno(ENOSPC); }
};

// /dev/random and /dev/urandom: the host's randomness. Writes are accepted (Linux mixes
// them into its pool; the host's pool is not the LibOS's to feed).
class RandomDevice final : public MemoryDevice {
public:
    using MemoryDevice::MemoryDevice;
    Result<size_t> read(IoBuf buf, size_t size) override {
        uint8_t bounce[256];
        size_t done = 0;
        while (done < size) {
            size_t n = size - done < sizeof(bounce) ? size - done : sizeof(bounce);
            auto got = pal_result(g_pal->random_bytes(bounce, n));
            if (got.ok())
                got = io_copy_out(buf + done, bounce, n);
            if (!got.ok())
                return done ? Result<size_t>(done) : Result<size_t>(got.error());
            done += n;
        }
        return done;
    }
    Result<size_t> write(IoBuf, size_t size) override { return size; }
};

template <typename T>
Result<File*> open_device(uint32_t flags, const char* path, const Stat& st) {
    File* f = make<T>(flags, path, st);
    if (!f)
        return Errno(ENOMEM);
    return f;
}

// The console under another name: reads come from the host's stdin, writes go to the
// host's stdout (or stderr for console-stderr). Its status is the device node's.
class ConsoleDevice final : public NodeFile {
public:
    ConsoleDevice(uint32_t flags, const char* path, const Stat& st, File* in, File* out)
        : NodeFile(flags, path, st), m_in(in), m_out(out) {}
    ~ConsoleDevice() override {
        if (m_in)
            m_in->unref();
        if (m_out)
            m_out->unref();
    }

    Result<size_t> read(IoBuf buf, size_t size) override {
        if (!m_in)
            return Errno(EBADF);
        return m_in->read(buf, size);
    }
    Result<size_t> write(IoBuf buf, size_t size) override {
        if (!m_out)
            return Errno(EBADF);
        return m_out->write(buf, size);
    }
    bool is_console() const override { return true; }

private:
    File* m_in;
    File* m_out;
};

Result<File*> open_console_as(uint32_t flags, const char* path, const Stat& st, PalConsole output) {
    uint32_t acc = flags & O_ACCMODE;
    File* in = nullptr;
    File* out = nullptr;
    if (acc != O_WRONLY)
        in = TRY(console_open(PAL_CONSOLE_IN));
    if (acc != O_RDONLY) {
        auto opened = console_open(output);
        if (!opened.ok()) {
            if (in)
                in->unref();
            return opened.error();
        }
        out = opened.value();
    }
    File* f = make<ConsoleDevice>(flags, path, st, in, out);
    if (!f) {
        if (in)
            in->unref();
        if (out)
            out->unref();
        return Errno(ENOMEM);
    }
    return f;
}

Result<File*> open_console_dev(uint32_t flags, const char* path, const Stat& st) {
    return open_console_as(flags, path, st, PAL_CONSOLE_OUT);
}

Result<File*> open_console_stderr(uint32_t flags, const char* path, const Stat& st) {
    return open_console_as(flags, path, st, PAL_CONSOLE_ERR);
}

// Pseudo-terminals (pty.h): /dev/ptmx makes a pair, /dev/pts/N opens its slave, /dev/tty
// the controlling terminal (ENXIO without one: the console is no terminal).
Result<File*> open_ptmx(uint32_t flags, const char*, const Stat& st) { return pty_open_master(flags, st); }

Result<File*> open_pts(uint32_t flags, const char* path, const Stat& st) {
    const char* name = path_basename(path);
    int index = 0;
    for (const char* c = name; *c; c++) {
        if (*c < '0' || *c > '9' || index > 100000)
            return Errno(ENOENT);
        index = index * 10 + (*c - '0');
    }
    return pty_open_slave(index, flags, st);
}

Result<File*> open_tty(uint32_t flags, const char*, const Stat&) { return pty_open_controlling(flags); }

size_t list_ptys(const pseudo::Ctx&, int* ids, size_t max) { return pty_list(ids, max); }
bool pty_entry_exists(const pseudo::Ctx&, int id) { return pty_exists(id); }
void pts_stat(const pseudo::Ctx& ctx, Stat* st) {
    st->rdev = pseudo::makedev(136, uint32_t(ctx.pty));
    if (!pty_owner(ctx.pty, &st->uid, &st->gid))
        st->uid = st->gid = 0;
}

using pseudo::device;
using pseudo::dyn_dir;
using pseudo::empty_dir;
using pseudo::fixed_symlink;

constexpr pseudo::Node kPtsNode = {.name = "", .kind = pseudo::Kind::Device, .perm = 0620, .open = open_pts,
                                   .stat_of = pts_stat};
constexpr pseudo::DynEntries kPtsEntries = {pseudo::Slot::Pty, "", list_ptys, pty_entry_exists, &kPtsNode};

constexpr Node kRootChildren[] = {
    device("console", open_console_dev, makedev(5, 1), 0600),
    // The host's stderr when it is not the same as its stdout: what /proc/self/fd/2 names
    // then, so that opening /dev/stderr writes there.
    device("console-stderr", open_console_stderr, makedev(5, 1), 0600),
    fixed_symlink("fd", "/proc/self/fd"),
    device("full", open_device<FullDevice>, makedev(1, 7)),
    device("null", open_device<NullDevice>, makedev(1, 3)),
    device("ptmx", open_ptmx, makedev(5, 2)),
    dyn_dir("pts", &kPtsEntries, 0755),
    device("random", open_device<RandomDevice>, makedev(1, 8)),
    empty_dir("shm", 01777),  // a tmpfs is mounted here
    fixed_symlink("stderr", "/proc/self/fd/2"),
    fixed_symlink("stdin", "/proc/self/fd/0"),
    fixed_symlink("stdout", "/proc/self/fd/1"),
    device("tty", open_tty, makedev(5, 0)),
    device("urandom", open_device<RandomDevice>, makedev(1, 9)),
    device("zero", open_device<ZeroDevice>, makedev(1, 5)),
};
constexpr Node kRoot = pseudo::dir("", kRootChildren, 0755);

}  // namespace

// devtmpfs: the type Linux shows for /dev; statfs answers TMPFS_MAGIC as devtmpfs does.
constinit const pseudo::FsInfo g_devfs_info = {
    "devtmpfs", &kRoot, pseudo::makedev(0, 0x7c2), 0x01021994 /* TMPFS_MAGIC */, Errno(EPERM), false};

}  // namespace carbyne::libos::fs
