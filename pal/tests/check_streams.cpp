// Streams: host files (read, write, attributes, symlinks, mapping, deletion) and the console.
//
// The scratch directory (run-pal-test) holds data.bin (8192 bytes, byte i = i * 7 + 3),
// link -> data.bin, dangling -> no-such-target, emptydir/, fulldir/inner.txt and a FIFO.
// Paths are relative to the scratch directory's root handle (scratch_root()).
#include "pal_test.h"

namespace pal_test {

namespace {

constexpr size_t kDataSize = 8192;
constexpr uint32_t kRw = PAL_ACCESS_RDWR;

uint8_t data_byte(size_t i) { return uint8_t(i * 7 + 3); }

PalHandle* root() { return scratch_root(); }

// Mismatching bytes between `got` and data.bin from `offset`.
size_t data_mismatches(const uint8_t* got, size_t offset, size_t size) {
    size_t wrong = 0;
    for (size_t i = 0; i < size; i++)
        wrong += got[i] != data_byte(offset + i);
    return wrong;
}

bool read_exact(Check& c, PalHandle* h, uint64_t offset, void* buf, size_t size, const char* what) {
    size_t done = 0;
    PalError err = g_api->stream_read(h, offset, buf, size, &done);
    return c.expect_ok(err, what) && c.expect(done == size, "%s: read %zu bytes, expected %zu", what, done, size);
}

bool write_exact(Check& c, PalHandle* h, uint64_t offset, const void* buf, size_t size, const char* what) {
    size_t done = 0;
    PalError err = g_api->stream_write(h, offset, buf, size, &done);
    return c.expect_ok(err, what) && c.expect(done == size, "%s: wrote %zu bytes, expected %zu", what, done, size);
}

void check_files() {
    PalHandle* file = nullptr;
    const char* new_txt = "new.txt";
    {
        Check c("stream-create-write-read");
        if (c.expect_ok(g_api->stream_open(root(), new_txt, kRw | PAL_OPEN_CREATE | PAL_OPEN_EXCL, 0640, &file),
                        "stream_open")) {
            write_exact(c, file, 0, "hello", 5, "write at 0");
            write_exact(c, file, 100, "world", 5, "write at 100");
            char buf[128] = {};
            if (read_exact(c, file, 100, buf, 5, "read at 100"))
                c.expect(memcmp(buf, "world", 5) == 0, "read '%.5s' at 100", buf);
            if (read_exact(c, file, 0, buf, 105, "read at 0")) {
                size_t hole = 0;
                for (size_t i = 5; i < 100; i++)
                    hole += buf[i] != 0;
                c.expect(memcmp(buf, "hello", 5) == 0 && memcmp(buf + 100, "world", 5) == 0 && hole == 0,
                         "content '%.5s' ... '%.5s', %zu non-zero bytes in the hole", buf, buf + 100, hole);
            }
            size_t done = 1;
            c.expect_ok(g_api->stream_read(file, 1000, buf, sizeof(buf), &done), "read past the end");
            c.expect(done == 0, "read %zu bytes past the end", done);
            size_t partial = 0;
            c.expect_ok(g_api->stream_read(file, 102, buf, sizeof(buf), &partial), "read across the end");
            c.expect(partial == 3, "a read across the end gave %zu bytes, expected 3", partial);
        } else {
            file = nullptr;
        }
    }
    {
        Check c("stream-position");
        if (c.expect(file != nullptr, "no file")) {
            // Offset writes and reads leave the stream's own position at 0.
            char buf[8] = {};
            if (read_exact(c, file, PAL_NO_OFFSET, buf, 3, "first positional read"))
                c.expect(memcmp(buf, "hel", 3) == 0, "read '%.3s'", buf);
            if (read_exact(c, file, PAL_NO_OFFSET, buf, 3, "second positional read"))
                c.expect(memcmp(buf, "lo\0", 3) == 0, "read '%.3s', expected 'lo' and a zero", buf);
            write_exact(c, file, PAL_NO_OFFSET, "XY", 2, "positional write");
            if (read_exact(c, file, 6, buf, 2, "read at 6"))
                c.expect(memcmp(buf, "XY", 2) == 0, "the positional write landed elsewhere: '%.2s' at 6", buf);
        }
    }
    {
        Check c("stream-attributes");
        PalStreamAttr attr = {};
        if (c.expect(file != nullptr, "no file") && c.expect_ok(g_api->stream_attributes(file, &attr), "stream_attributes")) {
            c.expect(attr.type == PAL_TYPE_FILE, "type %d", attr.type);
            c.expect(attr.size == 105, "size %lu, expected 105", attr.size);
            c.expect(attr.mode == 0640, "mode %#o, expected 0640 (umask 022)", attr.mode);
            c.expect(attr.nlink == 1 && attr.ino != 0, "nlink %lu ino %lu", attr.nlink, attr.ino);
            c.expect(attr.uid == g_info->host_uid, "uid %u, host_uid %u", attr.uid, g_info->host_uid);
            PalStreamAttr by_path = {};
            if (c.expect_ok(g_api->stream_attributes_path(root(), new_txt, &by_path), "stream_attributes_path"))
                c.expect(by_path.ino == attr.ino && by_path.size == 105 && by_path.dev == attr.dev,
                         "by path: ino %lu size %lu", by_path.ino, by_path.size);
            c.expect(attr.mtime_ns > 1577836800ll * 1000000000ll, "mtime %ld before 2020", attr.mtime_ns);
        }
    }
    {
        Check c("stream-excl-truncate-append");
        PalHandle* h = nullptr;
        c.expect_error(g_api->stream_open(root(), new_txt, kRw | PAL_OPEN_CREATE | PAL_OPEN_EXCL, 0600, &h),
                       PAL_E_EXISTS, "CREATE|EXCL on an existing file");
        const char* trunc = "trunc.txt";
        if (c.expect_ok(g_api->stream_open(root(), trunc, PAL_ACCESS_WRONLY | PAL_OPEN_CREATE, 0600, &h), "create")) {
            write_exact(c, h, 0, "0123456789", 10, "write");
            g_api->stream_close(h);
        }
        PalStreamAttr attr = {};
        if (c.expect_ok(g_api->stream_open(root(), trunc, PAL_ACCESS_WRONLY | PAL_OPEN_TRUNCATE, 0, &h), "TRUNCATE")) {
            c.expect_ok(g_api->stream_attributes(h, &attr), "attributes");
            c.expect(attr.size == 0, "size %lu after TRUNCATE", attr.size);
            g_api->stream_close(h);
        }
        if (c.expect_ok(g_api->stream_open(root(), trunc, PAL_ACCESS_WRONLY | PAL_OPEN_APPEND, 0, &h), "APPEND")) {
            write_exact(c, h, PAL_NO_OFFSET, "abc", 3, "append 1");
            write_exact(c, h, PAL_NO_OFFSET, "def", 3, "append 2");
            c.expect_ok(g_api->stream_attributes(h, &attr), "attributes");
            c.expect(attr.size == 6, "size %lu after two appends of 3", attr.size);
            g_api->stream_close(h);
        }
        c.expect_ok(g_api->stream_delete(root(), trunc, 0), "delete");
    }
    {
        Check c("stream-symlink-attributes");
        // A path call never follows a symlink: its attributes are the symlink's own.
        PalStreamAttr attr = {};
        if (c.expect_ok(g_api->stream_attributes_path(root(), "link", &attr), "link"))
            c.expect(attr.type == PAL_TYPE_SYMLINK && attr.size == 8, "link: type %d size %lu, expected a SYMLINK of 8",
                     attr.type, attr.size);
        if (c.expect_ok(g_api->stream_attributes_path(root(), "dangling", &attr), "dangling"))
            c.expect(attr.type == PAL_TYPE_SYMLINK, "dangling: type %d", attr.type);
        if (c.expect_ok(g_api->stream_attributes_path(root(), "emptydir", &attr), "emptydir"))
            c.expect(attr.type == PAL_TYPE_DIR, "emptydir: type %d", attr.type);
        PalHandle* h = nullptr;
        if (c.expect_ok(g_api->stream_open(root(), "link", PAL_ACCESS_RDONLY | PAL_OPEN_PATH, 0, &h), "PATH of link")) {
            if (c.expect_ok(g_api->stream_attributes(h, &attr), "attributes of the PATH handle"))
                c.expect(attr.type == PAL_TYPE_SYMLINK, "a PATH handle of link: type %d", attr.type);
            g_api->stream_close(h);
        }
    }
    {
        Check c("stream-readlink");
        char buf[64] = {};
        size_t len = 0;
        if (c.expect_ok(g_api->stream_readlink(root(), "link", buf, sizeof(buf), &len), "readlink"))
            c.expect(len == 8 && memcmp(buf, "data.bin", 8) == 0, "target '%.*s' (%zu bytes)", int(len), buf, len);
        memset(buf, 0, sizeof(buf));
        if (c.expect_ok(g_api->stream_readlink(root(), "link", buf, 4, &len), "readlink into 4 bytes"))
            c.expect(len == 4 && memcmp(buf, "data", 4) == 0 && buf[4] == 0, "truncated target '%.8s' (%zu)", buf, len);
        c.expect_error(g_api->stream_readlink(root(), "data.bin", buf, sizeof(buf), &len), PAL_E_INVAL, "not a link");
        c.expect_error(g_api->stream_readlink(root(), "missing", buf, sizeof(buf), &len), PAL_E_NOENT, "missing");
    }
    PalHandle* data = nullptr;
    {
        Check c("stream-file-map-private");
        if (c.expect_ok(g_api->stream_open(root(), "data.bin", PAL_ACCESS_RDONLY, 0, &data), "open data.bin")) {
            void* map = nullptr;
            if (c.expect_ok(g_api->file_map(data, nullptr, kDataSize, 0, PAL_PROT_READ, 0, &map), "file_map all")) {
                size_t wrong = data_mismatches(static_cast<const uint8_t*>(map), 0, kDataSize);
                c.expect(wrong == 0, "%zu of %zu mapped bytes differ from the file", wrong, kDataSize);
                g_api->memory_free(map, kDataSize);
            }
            if (c.expect_ok(g_api->file_map(data, nullptr, kPageSize, kPageSize, PAL_PROT_READ, 0, &map),
                            "file_map at offset 4096")) {
                size_t wrong = data_mismatches(static_cast<const uint8_t*>(map), kPageSize, kPageSize);
                c.expect(wrong == 0, "%zu bytes at offset 4096 differ", wrong);
                g_api->memory_free(map, kPageSize);
            }
            c.expect_error(g_api->file_map(data, nullptr, kPageSize, 100, PAL_PROT_READ, 0, &map), PAL_E_INVAL,
                           "unaligned offset");
        } else {
            data = nullptr;
        }
    }
    {
        Check c("stream-file-map-write");
        if (c.expect(file != nullptr, "no file")) {
            void* priv = nullptr;
            if (c.expect_ok(g_api->file_map(file, nullptr, kPageSize, 0, PAL_PROT_READ | PAL_PROT_WRITE, 0, &priv),
                            "private map")) {
                static_cast<char*>(priv)[0] = 'Z';
                char b = 0;
                if (read_exact(c, file, 0, &b, 1, "read after a private write"))
                    c.expect(b == 'h', "a private mapping's write reached the file ('%c')", b);
                g_api->memory_free(priv, kPageSize);
            }
            void* shared = nullptr;
            if (c.expect_ok(g_api->file_map(file, nullptr, kPageSize, 0, PAL_PROT_READ | PAL_PROT_WRITE, PAL_MEM_SHARED,
                                            &shared),
                            "shared map")) {
                c.expect(memcmp(shared, "hello", 5) == 0, "shared map shows '%.5s'", static_cast<char*>(shared));
                static_cast<char*>(shared)[1] = 'S';
                char b = 0;
                if (read_exact(c, file, 1, &b, 1, "read after a shared write"))
                    c.expect(b == 'S', "a shared mapping's write did not reach the file ('%c')", b);
                g_api->memory_free(shared, kPageSize);
            }
        }
    }
    {
        Check c("stream-file-map-sync");
        void* map = nullptr;
        if (c.expect(file != nullptr, "no file") &&
            c.expect_ok(g_api->file_map(file, nullptr, kPageSize, 0, PAL_PROT_READ | PAL_PROT_WRITE, PAL_MEM_SHARED,
                                        &map),
                        "shared map")) {
            static_cast<char*>(map)[2] = 'y';
            c.expect_ok(g_api->memory_sync(map, kPageSize, PAL_SYNC_SYNC), "memory_sync SYNC");
            c.expect_ok(g_api->memory_sync(map, kPageSize, PAL_SYNC_ASYNC | PAL_SYNC_INVALIDATE), "memory_sync ASYNC");
            char b = 0;
            if (read_exact(c, file, 2, &b, 1, "read after sync"))
                c.expect(b == 'y', "the synced byte reads '%c'", b);
            static_cast<char*>(map)[2] = 'l';
            c.expect_error(g_api->memory_sync(map, kPageSize, PAL_SYNC_ASYNC | PAL_SYNC_SYNC), PAL_E_INVAL,
                           "ASYNC and SYNC together");
            c.expect_error(g_api->memory_sync(static_cast<char*>(map) + 8, kPageSize, PAL_SYNC_SYNC), PAL_E_INVAL,
                           "an unaligned address");
            g_api->memory_free(map, kPageSize);
        }
    }
    {
        // new.txt is 105 bytes: its second mapped page lies past the end (SIGBUS on the host).
        Check c("stream-file-map-past-end");
        void* map = nullptr;
        if (c.expect(file != nullptr, "no file") &&
            c.expect_ok(g_api->file_map(file, nullptr, 2 * kPageSize, 0, PAL_PROT_READ, 0, &map), "file_map")) {
            const auto* past = static_cast<const uint8_t*>(map) + kPageSize + 16;
            Fault f;
            uint64_t value = 0;
            c.expect(!probe_load(map, &f, &value), "the first page faulted");
            if (c.expect(probe_load(past, &f), "reading past the end of the file did not fault")) {
                c.expect(f.exc.kind == PAL_EXC_MEMFAULT, "kind %d, expected PAL_EXC_MEMFAULT", f.exc.kind);
                c.expect(f.exc.host_signal == 7, "host signal %d, expected SIGBUS", f.exc.host_signal);
                c.expect(f.exc.addr == uint64_t(past), "addr %#lx, expected %p", f.exc.addr, past);
            }
            g_api->memory_free(map, 2 * kPageSize);
        }
    }
    {
        Check c("stream-flush");
        if (c.expect(file != nullptr, "no file"))
            c.expect_ok(g_api->stream_flush(file), "stream_flush of a file");
        PalHandle* ev = nullptr;
        if (c.expect_ok(g_api->event_create(0, 0, &ev), "event_create")) {
            c.expect_error(g_api->stream_flush(ev), PAL_E_BADHANDLE, "stream_flush of an event");
            g_api->stream_close(ev);
        }
    }
    {
        Check c("stream-delete-file");
        PalStreamAttr attr = {};
        c.expect_ok(g_api->stream_delete(root(), new_txt, 0), "stream_delete");
        c.expect_error(g_api->stream_attributes_path(root(), new_txt, &attr), PAL_E_NOENT, "attributes after delete");
        c.expect_error(g_api->stream_delete(root(), new_txt, 0), PAL_E_NOENT, "second delete");
        if (file) {
            char buf[5] = {};
            if (read_exact(c, file, 0, buf, 5, "read through the open handle after delete"))
                c.expect(memcmp(buf, "hSllo", 5) == 0, "read '%.5s' after delete", buf);
        }
    }
    {
        Check c("stream-delete-dir");
        PalStreamAttr attr = {};
        c.expect_error(g_api->stream_delete(root(), "fulldir", 1), PAL_E_NOTEMPTY, "a non-empty directory");
        c.expect_error(g_api->stream_delete(root(), "data.bin", 1), PAL_E_NOTDIR, "a file with dir=1");
        c.expect_error(g_api->stream_delete(root(), "emptydir", 0), PAL_E_ISDIR, "a directory with dir=0");
        c.expect_ok(g_api->stream_delete(root(), "emptydir", 1), "an empty directory");
        c.expect_error(g_api->stream_attributes_path(root(), "emptydir", &attr), PAL_E_NOENT,
                       "attributes after delete");
        c.expect_ok(g_api->stream_attributes_path(root(), "fulldir/inner.txt", &attr), "the non-empty one's file");
    }
    {
        Check c("stream-open-errors");
        PalHandle* h = nullptr;
        c.expect_error(g_api->stream_open(root(), "missing", PAL_ACCESS_RDONLY, 0, &h), PAL_E_NOENT, "a missing file");
        c.expect_error(g_api->stream_open(root(), "missing/child", kRw | PAL_OPEN_CREATE, 0600, &h), PAL_E_NOENT,
                       "create under a missing directory");
        c.expect_error(g_api->stream_open(root(), "data.bin/child", PAL_ACCESS_RDONLY, 0, &h), PAL_E_NOTDIR,
                       "a file as a directory");
        c.expect_error(g_api->stream_open(root(), "data.bin", PAL_ACCESS_RDONLY | PAL_OPEN_DIRECTORY, 0, &h),
                       PAL_E_NOTDIR, "DIRECTORY on a file");
        c.expect_error(g_api->stream_open(root(), "link", PAL_ACCESS_RDONLY, 0, &h), PAL_E_LOOP, "a symlink");
        c.expect_error(g_api->stream_open(root(), "data.bin", 3, 0, &h), PAL_E_INVAL, "access mode 3");
        if (data) {
            size_t done = 0;
            c.expect_error(g_api->stream_write(data, 0, "x", 1, &done), PAL_E_BADHANDLE, "write to a read-only handle");
        }
        if (c.expect_ok(g_api->stream_open(root(), "fulldir", PAL_ACCESS_RDONLY, 0, &h), "a directory")) {
            char b;
            size_t done = 0;
            c.expect_error(g_api->stream_read(h, 0, &b, 1, &done), PAL_E_ISDIR, "read from a directory");
            PalStreamAttr attr = {};
            if (c.expect_ok(g_api->stream_attributes(h, &attr), "directory attributes"))
                c.expect(attr.type == PAL_TYPE_DIR, "type %d", attr.type);
            void* map = nullptr;
            c.expect_error(g_api->file_map(h, nullptr, kPageSize, 0, PAL_PROT_READ, 0, &map), PAL_E_BADHANDLE,
                           "file_map of a directory");
            g_api->stream_close(h);
        }
    }
    if (file)
        g_api->stream_close(file);
    if (data)
        g_api->stream_close(data);
}

// A host FIFO: a stream without offsets, waited on with wait_for_many, and broken pipes.
void check_fifo() {
    const char* fifo = "fifo";
    PalHandle* r = nullptr;
    PalHandle* w = nullptr;
    {
        Check c("stream-fifo");
        if (c.expect_ok(g_api->stream_open(root(), fifo, PAL_ACCESS_RDONLY | PAL_OPEN_NONBLOCK, 0, &r),
                        "open for reading") &&
            c.expect_ok(g_api->stream_open(root(), fifo, PAL_ACCESS_WRONLY | PAL_OPEN_NONBLOCK, 0, &w),
                        "open for writing")) {
            PalStreamAttr attr = {};
            if (c.expect_ok(g_api->stream_attributes(r, &attr), "attributes"))
                c.expect(attr.type == PAL_TYPE_FIFO, "type %d, expected FIFO", attr.type);
            PalHandle* both[2] = {r, w};
            const uint32_t want[2] = {PAL_WAIT_READ, PAL_WAIT_WRITE};
            uint32_t ready[2] = {};
            c.expect_error(g_api->wait_for_many(1, both, want, ready, 10 * kMsec), PAL_E_TIMEDOUT,
                           "an empty FIFO is not readable");
            if (c.expect_ok(g_api->wait_for_many(2, both, want, ready, kSec), "wait for writable"))
                c.expect(!(ready[0] & PAL_WAIT_READ) && (ready[1] & PAL_WAIT_WRITE), "ready %#x %#x", ready[0],
                         ready[1]);
            char buf[16] = {};
            size_t done = 0;
            c.expect_error(g_api->stream_read(r, PAL_NO_OFFSET, buf, sizeof(buf), &done), PAL_E_AGAIN,
                           "read from an empty FIFO");
            write_exact(c, w, PAL_NO_OFFSET, "ping", 4, "write");
            if (c.expect_ok(g_api->wait_for_many(1, both, want, ready, kSec), "wait for readable"))
                c.expect(ready[0] & PAL_WAIT_READ, "ready %#x lacks PAL_WAIT_READ", ready[0]);
            if (read_exact(c, r, PAL_NO_OFFSET, buf, 4, "read"))
                c.expect(memcmp(buf, "ping", 4) == 0, "read '%.4s'", buf);
            c.expect_error(g_api->stream_read(r, 0, buf, sizeof(buf), &done), PAL_E_SPIPE, "read at an offset");
        }
    }
    {
        // SIGPIPE is ignored by the PAL: the writer gets PAL_E_PIPE and lives on.
        Check c("stream-fifo-broken-pipe");
        if (c.expect(r && w, "no FIFO")) {
            g_api->stream_close(r);
            r = nullptr;
            size_t done = 0;
            c.expect_error(g_api->stream_write(w, PAL_NO_OFFSET, "x", 1, &done), PAL_E_PIPE, "write with no reader");
        }
    }
    g_api->stream_close(r);
    g_api->stream_close(w);
}

// fs_mkfifo makes a FIFO with exactly the mode asked (no host umask); a name already taken
// (a FIFO, a file, a symlink even dangling) is PAL_E_EXISTS, a missing directory PAL_E_NOENT.
void check_mkfifo() {
    Check c("fs-mkfifo");
    const char* made = "made-fifo";
    if (c.expect_ok(g_api->fs_mkfifo(root(), made, 0641), "fs_mkfifo")) {
        PalStreamAttr attr = {};
        if (c.expect_ok(g_api->stream_attributes_path(root(), made, &attr), "attributes"))
            c.expect(attr.type == PAL_TYPE_FIFO && attr.mode == 0641 && attr.size == 0,
                     "type %d mode %#o size %lu, expected a FIFO, 0641, 0", attr.type, attr.mode, attr.size);
        c.expect_error(g_api->fs_mkfifo(root(), made, 0600), PAL_E_EXISTS, "fs_mkfifo of an existing FIFO");
        c.expect_ok(g_api->stream_delete(root(), made, 0), "delete");
    }
    c.expect_error(g_api->fs_mkfifo(root(), "data.bin", 0600), PAL_E_EXISTS, "fs_mkfifo over a file");
    c.expect_error(g_api->fs_mkfifo(root(), "dangling", 0600), PAL_E_EXISTS, "fs_mkfifo over a dangling symlink");
    c.expect_error(g_api->fs_mkfifo(root(), "no-such-dir/fifo", 0600), PAL_E_NOENT,
                   "fs_mkfifo in a missing directory");
    // fs_mksock: the same rules, a socket node.
    const char* sock = "made-sock";
    if (c.expect_ok(g_api->fs_mksock(root(), sock, 0751), "fs_mksock")) {
        PalStreamAttr attr = {};
        if (c.expect_ok(g_api->stream_attributes_path(root(), sock, &attr), "attributes"))
            c.expect(attr.type == PAL_TYPE_SOCKET && attr.mode == 0751, "type %d mode %#o, expected a socket, 0751",
                     attr.type, attr.mode);
        c.expect_error(g_api->fs_mksock(root(), sock, 0600), PAL_E_EXISTS, "fs_mksock of an existing node");
        c.expect_ok(g_api->stream_delete(root(), sock, 0), "delete");
    }
    c.expect_error(g_api->fs_mksock(root(), "no-such-dir/sock", 0600), PAL_E_NOENT, "fs_mksock in a missing directory");
}

// Closing handles gives their host fds back.
void check_handles_closed() {
    Check c("stream-close-releases-fds");
    bool has_std = false;
    int before = host_fd_count(&has_std);
    c.expect(before >= 3, "cannot count host fds (%d)", before);
    const char* data = "data.bin";
    for (int i = 0; i < 300; i++) {
        PalHandle* file = nullptr;
        PalHandle* ev = nullptr;
        if (!c.expect_ok(g_api->stream_open(root(), data, PAL_ACCESS_RDONLY, 0, &file), "stream_open") ||
            !c.expect_ok(g_api->event_create(0, 0, &ev), "event_create")) {
            g_api->stream_close(file);
            break;
        }
        g_api->stream_close(file);
        g_api->stream_close(ev);
    }
    int after = host_fd_count(&has_std);
    c.expect(after == before, "%d host fds open before 300 open/close pairs, %d after", before, after);
    c.expect(has_std, "stdin, stdout or stderr got closed");
}

}  // namespace

void check_streams() {
    check_files();
    check_fifo();
    check_mkfifo();
    check_handles_closed();
}

void check_console() {
    {
        Check c("console-write");
        PalHandle* out = nullptr;
        static const char kLine1[] = "pal-test console: line 1 through PAL_CONSOLE_OUT\n";
        static const char kLine2[] = "pal-test console: line 2 after stream_close\n";
        if (c.expect_ok(g_api->console_open(PAL_CONSOLE_OUT, &out), "console_open")) {
            write_exact(c, out, PAL_NO_OFFSET, kLine1, sizeof(kLine1) - 1, "first line");
            // Closing a console handle must leave the host's stdout open.
            g_api->stream_close(out);
            if (c.expect_ok(g_api->console_open(PAL_CONSOLE_OUT, &out), "console_open again")) {
                write_exact(c, out, PAL_NO_OFFSET, kLine2, sizeof(kLine2) - 1, "second line");
                g_api->stream_close(out);
            }
        }
    }
    {
        Check c("console-read-eof");
        PalHandle* in = nullptr;
        if (c.expect_ok(g_api->console_open(PAL_CONSOLE_IN, &in), "console_open")) {
            char buf[16];
            size_t done = 1;
            c.expect_ok(g_api->stream_read(in, PAL_NO_OFFSET, buf, sizeof(buf), &done), "read");
            c.expect(done == 0, "read %zu bytes from an empty stdin", done);
            g_api->stream_close(in);
        }
    }
    {
        Check c("console-invalid");
        PalHandle* h = nullptr;
        c.expect_error(g_api->console_open(PalConsole(5), &h), PAL_E_INVAL, "console 5");
    }
}

}  // namespace pal_test
