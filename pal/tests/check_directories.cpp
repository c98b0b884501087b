// Directories: dir_read's PalDirent records, restart, and small buffers.
//
// run-pal-test makes <scratch>/listing with: alpha (file), the long file name below,
// gamma/ (directory) and delta -> alpha (symlink).
#include "pal_test.h"

namespace pal_test {

namespace {

struct Expected {
    const char* name;
    PalStreamType type;
};

constexpr Expected kEntries[] = {
    {".", PAL_TYPE_DIR},
    {"..", PAL_TYPE_DIR},
    {"alpha", PAL_TYPE_FILE},
    {"a-much-longer-entry-name-to-cross-the-8-byte-padding", PAL_TYPE_FILE},
    {"gamma", PAL_TYPE_DIR},
    {"delta", PAL_TYPE_SYMLINK},
};
constexpr size_t kEntryCount = sizeof(kEntries) / sizeof(kEntries[0]);

struct Seen {
    int count[kEntryCount];
    int unknown;
    uint64_t alpha_ino;
};

// Walks the records dir_read returned, checking each and counting the names.
void scan(Check& c, const uint8_t* buf, size_t done, Seen* seen) {
    size_t pos = 0;
    while (pos < done) {
        if (!c.expect(done - pos >= sizeof(PalDirent), "a record header crosses the end at %zu of %zu", pos, done))
            return;
        const auto* d = reinterpret_cast<const PalDirent*>(buf + pos);
        size_t max_name = d->size > offsetof(PalDirent, name) ? d->size - offsetof(PalDirent, name) : 0;
        size_t name_len = strnlen(d->name, max_name);
        bool sane = c.expect(d->size % 8 == 0, "record at %zu: size %u not 8-aligned", pos, d->size) &&
                    c.expect(d->size <= done - pos, "record at %zu: size %u overruns %zu", pos, d->size, done) &&
                    c.expect(name_len < max_name, "record at %zu: name not NUL-terminated in %u bytes", pos, d->size) &&
                    c.expect(name_len > 0, "record at %zu: empty name", pos);
        if (!sane)
            return;
        c.expect(d->ino != 0, "%s: ino 0", d->name);
        size_t i = 0;
        while (i < kEntryCount && !carbyne::str_equal(d->name, kEntries[i].name))
            i++;
        if (i == kEntryCount) {
            c.expect(false, "unexpected entry '%s'", d->name);
            seen->unknown++;
        } else {
            seen->count[i]++;
            c.expect(d->type == kEntries[i].type, "%s: type %u, expected %d", d->name, d->type, kEntries[i].type);
            if (carbyne::str_equal(d->name, "alpha"))
                seen->alpha_ino = d->ino;
        }
        pos += d->size;
    }
}

void expect_all_once(Check& c, const Seen& seen) {
    for (size_t i = 0; i < kEntryCount; i++)
        c.expect(seen.count[i] == 1, "'%s' listed %d times", kEntries[i].name, seen.count[i]);
}

}  // namespace

void check_directories() {
    PalHandle* dir = nullptr;
    alignas(8) uint8_t buf[4096];
    {
        Check c("dir-read-entries");
        if (c.expect_ok(g_api->stream_open(scratch_root(), "listing", PAL_ACCESS_RDONLY | PAL_OPEN_DIRECTORY, 0, &dir),
                        "stream_open")) {
            Seen seen = {};
            size_t done = 0;
            for (int call = 0; call < 8; call++) {
                if (!c.expect_ok(g_api->dir_read(dir, 0, buf, sizeof(buf), &done), "dir_read") || done == 0)
                    break;
                c.expect(done <= sizeof(buf), "done %zu exceeds the buffer", done);
                scan(c, buf, done, &seen);
            }
            c.expect(done == 0, "dir_read never reported the end");
            expect_all_once(c, seen);
            PalStreamAttr attr = {};
            if (c.expect_ok(g_api->stream_attributes_path(scratch_root(), "listing/alpha", &attr),
                            "attributes of alpha"))
                c.expect(seen.alpha_ino == attr.ino, "alpha: dirent ino %lu, stat ino %lu", seen.alpha_ino, attr.ino);
        } else {
            dir = nullptr;
        }
    }
    {
        Check c("dir-read-restart");
        if (c.expect(dir != nullptr, "no directory")) {
            Seen seen = {};
            size_t done = 0;
            if (c.expect_ok(g_api->dir_read(dir, 1, buf, sizeof(buf), &done), "dir_read with restart")) {
                c.expect(done > 0, "nothing after restart");
                scan(c, buf, done, &seen);
                while (done && g_api->dir_read(dir, 0, buf, sizeof(buf), &done) == PAL_OK)
                    scan(c, buf, done, &seen);
            }
            expect_all_once(c, seen);
        }
    }
    {
        // A buffer that holds one or two records: the listing comes in many calls, none lost.
        Check c("dir-read-small-buffer");
        if (c.expect(dir != nullptr, "no directory")) {
            Seen seen = {};
            size_t done = 0;
            int calls = 0;
            PalError err = g_api->dir_read(dir, 1, buf, 80, &done);
            while (err == PAL_OK && done > 0 && calls < 32) {
                c.expect(done <= 80, "done %zu exceeds the 80-byte buffer", done);
                scan(c, buf, done, &seen);
                calls++;
                err = g_api->dir_read(dir, 0, buf, 80, &done);
            }
            c.expect_ok(err, "dir_read");
            c.expect(calls >= 3, "an 80-byte buffer took only %d calls", calls);
            expect_all_once(c, seen);
        }
    }
    {
        Check c("dir-read-not-dir");
        PalHandle* file = nullptr;
        size_t done = 0;
        if (c.expect_ok(g_api->stream_open(scratch_root(), "listing/alpha", PAL_ACCESS_RDONLY, 0, &file),
                        "open a file")) {
            c.expect_error(g_api->dir_read(file, 0, buf, sizeof(buf), &done), PAL_E_NOTDIR, "dir_read of a file");
            g_api->stream_close(file);
        }
    }
    if (dir)
        g_api->stream_close(dir);
}

}  // namespace pal_test
