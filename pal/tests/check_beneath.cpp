// Host paths beneath a root handle: no path call leaves its root, whatever the path holds.
//
// run-pal-test makes, in the scratch directory:
//   beneath/            the root of these checks: file ("inside\n"), sub/inner ("inner\n"),
//                       to-slash -> /, to-outside -> ../outside, to-outside-abs -> the
//                       outside's absolute path, to-sub -> sub, to-secret -> ../outside/secret
//   outside/            secret ("secret\n", mode 0640), victim ("victim\n"), victim-dir/
// Every path call is tried with paths that lead to outside/ through a symlink in the middle
// (PAL_E_LOOP), a ".." above the root or an absolute path (PAL_E_XDEV); afterwards outside/
// and the scratch directory must hold what they held before.
#include "pal_test.h"

namespace pal_test {

namespace {

constexpr uint32_t kRw = PAL_ACCESS_RDWR;

// The names a call that escaped would have made; none may exist anywhere afterwards.
const char* const kMadeNames[] = {"new-file", "new-dir", "moved", "stolen", "linked", "new-link", "new-fifo",
                                  "new-sock"};

struct Escape {
    char prefix[512];  // a path beneath the root that leads to outside/
    PalError want;
};

// "<prefix>/<leaf>" into a rotating buffer (one call may take two).
const char* at(const Escape& e, const char* leaf) {
    static char paths[4][640];
    static int next;
    char* p = paths[next++ % 4];
    carbyne::format(p, sizeof(paths[0]), "%s/%s", e.prefix, leaf);
    return p;
}

PalHandle* open_root(Check& c, const char* name) {
    char path[512];
    PalHandle* root = nullptr;
    if (!c.expect_ok(g_api->fs_root_open(scratch_path(path, sizeof(path), name), &root), "fs_root_open"))
        return nullptr;
    return root;
}

// Every path call with every escaping path: each must fail with the escape's error.
void check_escapes(PalHandle* root) {
    Check c("beneath-escapes-refused");
    if (!root) {
        c.expect(false, "no root");
        return;
    }
    Escape escapes[6];
    size_t count = 0;
    carbyne::format(escapes[count].prefix, sizeof(escapes[0].prefix), "to-slash/%s/outside", g_scratch + 1);
    escapes[count++].want = PAL_E_LOOP;
    carbyne::format(escapes[count].prefix, sizeof(escapes[0].prefix), "to-outside");
    escapes[count++].want = PAL_E_LOOP;
    carbyne::format(escapes[count].prefix, sizeof(escapes[0].prefix), "to-outside-abs");
    escapes[count++].want = PAL_E_LOOP;
    carbyne::format(escapes[count].prefix, sizeof(escapes[0].prefix), "../outside");
    escapes[count++].want = PAL_E_XDEV;
    carbyne::format(escapes[count].prefix, sizeof(escapes[0].prefix), "sub/../../outside");
    escapes[count++].want = PAL_E_XDEV;
    carbyne::format(escapes[count].prefix, sizeof(escapes[0].prefix), "%s/outside", g_scratch);
    escapes[count++].want = PAL_E_XDEV;

    for (size_t i = 0; i < count; i++) {
        const Escape& e = escapes[i];
        char what[640];
        auto expect = [&](PalError got, const char* call, const char* path) {
            carbyne::format(what, sizeof(what), "%s %s", call, path);
            c.expect_error(got, e.want, what);
        };
        PalHandle* h = nullptr;
        PalStreamAttr attr = {};
        PalFsInfo info = {};
        char buf[64];
        size_t len = 0;
        expect(g_api->stream_open(root, at(e, "secret"), PAL_ACCESS_RDONLY, 0, &h), "stream_open", at(e, "secret"));
        expect(g_api->stream_open(root, at(e, "secret"), PAL_ACCESS_WRONLY | PAL_OPEN_TRUNCATE, 0, &h),
               "stream_open TRUNCATE", at(e, "secret"));
        expect(g_api->stream_open(root, at(e, "new-file"), kRw | PAL_OPEN_CREATE, 0644, &h), "stream_open CREATE",
               at(e, "new-file"));
        expect(g_api->stream_open(root, at(e, "victim-dir"), PAL_ACCESS_RDONLY | PAL_OPEN_DIRECTORY, 0, &h),
               "stream_open DIRECTORY", at(e, "victim-dir"));
        expect(g_api->stream_attributes_path(root, at(e, "secret"), &attr), "stream_attributes_path",
               at(e, "secret"));
        expect(g_api->stream_readlink(root, at(e, "secret"), buf, sizeof(buf), &len), "stream_readlink",
               at(e, "secret"));
        expect(g_api->stream_delete(root, at(e, "victim"), 0), "stream_delete", at(e, "victim"));
        expect(g_api->stream_delete(root, at(e, "victim-dir"), 1), "stream_delete dir", at(e, "victim-dir"));
        expect(g_api->fs_mkdir(root, at(e, "new-dir"), 0755), "fs_mkdir", at(e, "new-dir"));
        expect(g_api->fs_rename(root, "file", at(e, "moved"), 0), "fs_rename to", at(e, "moved"));
        expect(g_api->fs_rename(root, at(e, "secret"), "stolen", 0), "fs_rename from", at(e, "secret"));
        expect(g_api->fs_rename(root, at(e, "secret"), "file", PAL_RENAME_EXCHANGE), "fs_rename EXCHANGE",
               at(e, "secret"));
        expect(g_api->fs_link(root, at(e, "secret"), "linked"), "fs_link from", at(e, "secret"));
        expect(g_api->fs_link(root, "file", at(e, "linked")), "fs_link to", at(e, "linked"));
        expect(g_api->fs_symlink(root, "target", at(e, "new-link")), "fs_symlink", at(e, "new-link"));
        expect(g_api->fs_chmod(root, at(e, "secret"), 0666), "fs_chmod", at(e, "secret"));
        expect(g_api->fs_chown(root, at(e, "secret"), g_info->host_uid, g_info->host_gid), "fs_chown",
               at(e, "secret"));
        expect(g_api->fs_truncate(root, at(e, "secret"), 0), "fs_truncate", at(e, "secret"));
        expect(g_api->fs_utimens(root, at(e, "secret"), 0, 0), "fs_utimens", at(e, "secret"));
        expect(g_api->fs_statfs(root, at(e, "secret"), &info), "fs_statfs", at(e, "secret"));
        expect(g_api->fs_mkfifo(root, at(e, "new-fifo"), 0644), "fs_mkfifo", at(e, "new-fifo"));
        expect(g_api->fs_mksock(root, at(e, "new-sock"), 0644), "fs_mksock", at(e, "new-sock"));
    }
}

// ".." as the whole path names the root's parent: every call refuses it.
void check_dotdot(PalHandle* root) {
    Check c("beneath-dotdot-at-root");
    if (!root) {
        c.expect(false, "no root");
        return;
    }
    PalHandle* h = nullptr;
    PalStreamAttr attr = {};
    PalFsInfo info = {};
    char buf[64];
    size_t len = 0;
    c.expect_error(g_api->stream_open(root, "..", PAL_ACCESS_RDONLY | PAL_OPEN_DIRECTORY, 0, &h), PAL_E_XDEV,
                   "stream_open ..");
    c.expect_error(g_api->stream_open(root, "..", PAL_ACCESS_RDONLY | PAL_OPEN_PATH, 0, &h), PAL_E_XDEV,
                   "stream_open PATH ..");
    c.expect_error(g_api->stream_attributes_path(root, "..", &attr), PAL_E_XDEV, "stream_attributes_path ..");
    c.expect_error(g_api->stream_attributes_path(root, "sub/../..", &attr), PAL_E_XDEV,
                   "stream_attributes_path sub/../..");
    c.expect_error(g_api->stream_readlink(root, "..", buf, sizeof(buf), &len), PAL_E_XDEV, "stream_readlink ..");
    c.expect_error(g_api->stream_delete(root, "..", 1), PAL_E_XDEV, "stream_delete ..");
    c.expect_error(g_api->fs_mkdir(root, "..", 0755), PAL_E_XDEV, "fs_mkdir ..");
    c.expect_error(g_api->fs_rename(root, "..", "moved", 0), PAL_E_XDEV, "fs_rename ..");
    c.expect_error(g_api->fs_link(root, "..", "linked"), PAL_E_XDEV, "fs_link ..");
    c.expect_error(g_api->fs_chmod(root, "..", 0777), PAL_E_XDEV, "fs_chmod ..");
    c.expect_error(g_api->fs_chown(root, "..", g_info->host_uid, g_info->host_gid), PAL_E_XDEV, "fs_chown ..");
    c.expect_error(g_api->fs_utimens(root, "..", 0, 0), PAL_E_XDEV, "fs_utimens ..");
    c.expect_error(g_api->fs_truncate(root, "..", 0), PAL_E_XDEV, "fs_truncate ..");
    c.expect_error(g_api->fs_statfs(root, "..", &info), PAL_E_XDEV, "fs_statfs ..");
    // A ".." that stays beneath the root is a path like any other.
    if (c.expect_ok(g_api->stream_attributes_path(root, "sub/..", &attr), "stream_attributes_path sub/.."))
        c.expect(attr.type == PAL_TYPE_DIR, "sub/..: type %d", attr.type);
    if (c.expect_ok(g_api->stream_open(root, "sub/../file", PAL_ACCESS_RDONLY, 0, &h), "stream_open sub/../file"))
        g_api->stream_close(h);
}

// A symlink as the last component is acted on itself, never followed: even one that stays
// inside the root (to-sub), since the LibOS follows every symlink itself.
void check_final_symlinks(PalHandle* root) {
    Check c("beneath-final-symlink");
    if (!root) {
        c.expect(false, "no root");
        return;
    }
    PalHandle* h = nullptr;
    PalStreamAttr attr = {};
    c.expect_error(g_api->stream_open(root, "to-secret", PAL_ACCESS_RDONLY, 0, &h), PAL_E_LOOP, "stream_open");
    // As open(2) with O_NOFOLLOW | O_DIRECTORY: the symlink itself is no directory.
    c.expect_error(g_api->stream_open(root, "to-outside", PAL_ACCESS_RDONLY | PAL_OPEN_DIRECTORY, 0, &h),
                   PAL_E_NOTDIR, "stream_open DIRECTORY");
    c.expect_error(g_api->stream_open(root, "to-sub", PAL_ACCESS_RDONLY | PAL_OPEN_DIRECTORY, 0, &h), PAL_E_NOTDIR,
                   "stream_open DIRECTORY of a symlink inside");
    c.expect_error(g_api->stream_open(root, "to-sub/inner", PAL_ACCESS_RDONLY, 0, &h), PAL_E_LOOP,
                   "stream_open through a symlink inside");
    c.expect_error(g_api->stream_open(root, "to-secret", kRw | PAL_OPEN_CREATE, 0644, &h), PAL_E_LOOP,
                   "stream_open CREATE");
    if (c.expect_ok(g_api->stream_open(root, "to-slash", PAL_ACCESS_RDONLY | PAL_OPEN_PATH, 0, &h), "PATH")) {
        if (c.expect_ok(g_api->stream_attributes(h, &attr), "attributes of the PATH handle"))
            c.expect(attr.type == PAL_TYPE_SYMLINK, "a PATH handle of to-slash: type %d", attr.type);
        g_api->stream_close(h);
    }
    if (c.expect_ok(g_api->stream_attributes_path(root, "to-outside", &attr), "stream_attributes_path"))
        c.expect(attr.type == PAL_TYPE_SYMLINK, "to-outside: type %d", attr.type);
    if (c.expect_ok(g_api->stream_attributes_path(root, "sub/../to-secret", &attr), "stream_attributes_path"))
        c.expect(attr.type == PAL_TYPE_SYMLINK, "sub/../to-secret: type %d", attr.type);
    char buf[64];
    size_t len = 0;
    if (c.expect_ok(g_api->stream_readlink(root, "to-outside", buf, sizeof(buf), &len), "stream_readlink"))
        c.expect(len == 10 && memcmp(buf, "../outside", 10) == 0, "target '%.*s'", int(len), buf);
    c.expect_error(g_api->fs_chmod(root, "to-secret", 0666), PAL_E_NOTSUP, "fs_chmod of a symlink");
    c.expect_error(g_api->fs_truncate(root, "to-secret", 0), PAL_E_LOOP, "fs_truncate");
    c.expect_ok(g_api->fs_utimens(root, "to-secret", PAL_TIME_NOW, PAL_TIME_NOW), "fs_utimens of the symlink");
    c.expect_ok(g_api->fs_chown(root, "to-outside", g_info->host_uid, g_info->host_gid), "fs_chown of the symlink");
    c.expect_error(g_api->fs_mkdir(root, "to-outside/", 0755), PAL_E_EXISTS, "fs_mkdir over a symlink");
    c.expect_error(g_api->fs_link(root, "to-outside/", "linked"), PAL_E_LOOP, "fs_link of to-outside/");
    c.expect_error(g_api->fs_mkfifo(root, "to-outside", 0644), PAL_E_EXISTS, "fs_mkfifo over a symlink");
    // Renaming and linking a symlink move and link the symlink itself.
    if (c.expect_ok(g_api->fs_link(root, "to-secret", "sub/to-secret-link"), "fs_link of a symlink")) {
        if (c.expect_ok(g_api->stream_attributes_path(root, "sub/to-secret-link", &attr), "attributes"))
            c.expect(attr.type == PAL_TYPE_SYMLINK, "the link of a symlink: type %d", attr.type);
        c.expect_ok(g_api->fs_rename(root, "sub/to-secret-link", "sub/renamed-link", 0), "fs_rename");
        c.expect_ok(g_api->stream_delete(root, "sub/renamed-link", 0), "stream_delete of a symlink");
    }
}

// "" is the root itself, whether a directory or a file.
void check_root_itself(PalHandle* root) {
    Check c("beneath-root-itself");
    if (!root) {
        c.expect(false, "no root");
        return;
    }
    PalStreamAttr attr = {};
    PalHandle* h = nullptr;
    if (c.expect_ok(g_api->stream_attributes(root, &attr), "stream_attributes of the root handle"))
        c.expect(attr.type == PAL_TYPE_DIR, "root handle: type %d", attr.type);
    if (c.expect_ok(g_api->stream_attributes_path(root, "", &attr), "stream_attributes_path \"\""))
        c.expect(attr.type == PAL_TYPE_DIR, "\"\": type %d", attr.type);
    if (c.expect_ok(g_api->stream_open(root, "", PAL_ACCESS_RDONLY | PAL_OPEN_DIRECTORY, 0, &h), "stream_open \"\"")) {
        alignas(8) uint8_t buf[1024];
        size_t done = 0;
        bool seen = false;
        while (g_api->dir_read(h, 0, buf, sizeof(buf), &done) == PAL_OK && done)
            for (size_t pos = 0; pos < done;) {
                const auto* d = reinterpret_cast<const PalDirent*>(buf + pos);
                seen |= carbyne::str_equal(d->name, "file");
                pos += d->size;
            }
        c.expect(seen, "the root's listing lacks 'file'");
        g_api->stream_close(h);
    }
    char buf[16];
    size_t len = 0;
    c.expect_error(g_api->stream_readlink(root, "", buf, sizeof(buf), &len), PAL_E_INVAL, "stream_readlink \"\"");
    c.expect_error(g_api->fs_mkdir(root, "", 0755), PAL_E_EXISTS, "fs_mkdir \"\"");
    c.expect(g_api->stream_delete(root, "", 1) != PAL_OK, "stream_delete \"\" succeeded");
    c.expect_ok(g_api->stream_attributes_path(root, "", &attr), "the root after stream_delete");
    c.expect_error(g_api->stream_open(root, "/", PAL_ACCESS_RDONLY, 0, &h), PAL_E_XDEV, "stream_open \"/\"");
    PalFsInfo info = {};
    c.expect_ok(g_api->fs_statfs(root, "", &info), "fs_statfs \"\"");

    // A file as the root: "" opens it, nothing is below it.
    PalHandle* file_root = open_root(c, "beneath/file");
    if (file_root) {
        if (c.expect_ok(g_api->stream_attributes_path(file_root, "", &attr), "attributes of a file root"))
            c.expect(attr.type == PAL_TYPE_FILE && attr.size == 7, "file root: type %d size %lu", attr.type,
                     attr.size);
        if (c.expect_ok(g_api->stream_open(file_root, "", PAL_ACCESS_RDONLY, 0, &h), "stream_open of a file root")) {
            char data[16] = {};
            size_t done = 0;
            c.expect_ok(g_api->stream_read(h, 0, data, sizeof(data), &done), "read");
            c.expect(done == 7 && memcmp(data, "inside\n", 7) == 0, "read %zu bytes '%.7s'", done, data);
            g_api->stream_close(h);
        }
        c.expect_error(g_api->stream_open(file_root, "x", PAL_ACCESS_RDONLY, 0, &h), PAL_E_NOTDIR,
                       "a path below a file root");
        c.expect_error(g_api->stream_open(file_root, "", kRw | PAL_OPEN_CREATE | PAL_OPEN_EXCL, 0644, &h),
                       PAL_E_EXISTS, "CREATE|EXCL of a file root");
        size_t done = 0;
        c.expect_error(g_api->stream_read(file_root, 0, buf, sizeof(buf), &done), PAL_E_BADHANDLE,
                       "stream_read of a root handle");
        g_api->stream_close(file_root);
    }
    PalHandle* other = nullptr;
    c.expect_error(g_api->fs_root_open("/dev/null", &other), PAL_E_INVAL, "fs_root_open of a device");
    char missing[512];
    c.expect_error(g_api->fs_root_open(scratch_path(missing, sizeof(missing), "no-such-root"), &other), PAL_E_NOENT,
                   "fs_root_open of a missing path");
    c.expect_error(g_api->stream_attributes_path(nullptr, "file", &attr), PAL_E_BADHANDLE, "a null root");
}

// What the escapes aimed at is as it was, and no name they would have made exists.
void check_untouched(const PalStreamAttr& secret_before, const PalStreamAttr& outside_before) {
    Check c("beneath-outside-untouched");
    PalHandle* scratch = scratch_root();
    PalStreamAttr attr = {};
    if (c.expect_ok(g_api->stream_attributes_path(scratch, "outside/secret", &attr), "outside/secret")) {
        c.expect(attr.size == 7 && attr.mode == 0640 && attr.mtime_ns == secret_before.mtime_ns &&
                     attr.uid == secret_before.uid && attr.nlink == 1,
                 "outside/secret: size %lu mode %#o nlink %lu, mtime %s", attr.size, attr.mode, attr.nlink,
                 attr.mtime_ns == secret_before.mtime_ns ? "kept" : "changed");
        PalHandle* h = nullptr;
        if (c.expect_ok(g_api->stream_open(scratch, "outside/secret", PAL_ACCESS_RDONLY, 0, &h), "open")) {
            char data[16] = {};
            size_t done = 0;
            g_api->stream_read(h, 0, data, sizeof(data), &done);
            c.expect(done == 7 && memcmp(data, "secret\n", 7) == 0, "outside/secret holds '%.*s'", int(done), data);
            g_api->stream_close(h);
        }
    }
    if (c.expect_ok(g_api->stream_attributes_path(scratch, "outside", &attr), "outside"))
        c.expect(attr.mtime_ns == outside_before.mtime_ns && attr.mode == outside_before.mode,
                 "the outside directory changed (mode %#o)", attr.mode);
    c.expect_ok(g_api->stream_attributes_path(scratch, "outside/victim", &attr), "outside/victim");
    c.expect_ok(g_api->stream_attributes_path(scratch, "outside/victim-dir", &attr), "outside/victim-dir");
    const char* const dirs[] = {"outside", "", "beneath"};
    for (const char* dir : dirs)
        for (const char* name : kMadeNames) {
            char path[128];
            carbyne::format(path, sizeof(path), "%s%s%s", dir, dir[0] ? "/" : "", name);
            c.expect_error(g_api->stream_attributes_path(scratch, path, &attr), PAL_E_NOENT, path);
        }
    if (c.expect_ok(g_api->stream_attributes_path(scratch, "beneath/file", &attr), "beneath/file"))
        c.expect(attr.size == 7, "beneath/file: size %lu", attr.size);
}

}  // namespace

void check_beneath() {
    PalStreamAttr secret_before = {}, outside_before = {};
    {
        Check c("beneath-setup");
        c.expect_ok(g_api->stream_attributes_path(scratch_root(), "outside/secret", &secret_before), "outside/secret");
        c.expect_ok(g_api->stream_attributes_path(scratch_root(), "outside", &outside_before), "outside");
    }
    PalHandle* root = nullptr;
    {
        Check c("beneath-root-open");
        root = open_root(c, "beneath");
    }
    check_escapes(root);
    check_dotdot(root);
    check_final_symlinks(root);
    check_root_itself(root);
    check_untouched(secret_before, outside_before);
    g_api->stream_close(root);
}

}  // namespace pal_test
