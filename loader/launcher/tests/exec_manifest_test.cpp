// `carbyne exec`'s default manifest, its --mount/--tmpfs options, the PATH search, and
// locating carbyne-pal and libos.so.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "exec_manifest.h"
#include "launch.h"
#include "test_util.h"

namespace carbyne::launcher {
namespace {

using testing::TempDir;

ExecRequest sample_request(const std::string& cwd) {
    ExecRequest r;
    r.cwd = cwd;
    r.env = {"HOME=/home/user", "PATH=/usr/bin:/bin"};
    r.entrypoint = "/usr/bin/env";
    r.argv = {"env", "-0"};
    return r;
}

TEST_CASE("default exec manifest: host root read-only, /tmp, cwd read-write", "[exec]") {
    absl::StatusOr<Manifest> m = default_exec_manifest(sample_request("/home/user/project"));
    REQUIRE(m.ok());
    CHECK(m->entrypoint == "/usr/bin/env");
    CHECK(m->argv == std::vector<std::string>{"env", "-0"});
    CHECK(m->env == std::vector<std::string>{"HOME=/home/user", "PATH=/usr/bin:/bin"});
    CHECK(m->start_dir == "/home/user/project");
    CHECK(m->log_level == boot::LogLevel::Error);
    CHECK_FALSE(m->log_file);
    CHECK(m->stack_size == kDefaultStackSize);
    CHECK(m->brk_max_size == kDefaultBrkMaxSize);
    REQUIRE(m->mounts.size() == 3);
    CHECK(m->mounts[0] == Mount{boot::MountType::Chroot, "/", "/", true});
    CHECK(m->mounts[1] == Mount{boot::MountType::Tmpfs, "/tmp", "", false});
    CHECK(m->mounts[2] == Mount{boot::MountType::Chroot, "/home/user/project", "/home/user/project", false});
}

TEST_CASE("default exec manifest: working directory at / or at /tmp", "[exec]") {
    absl::StatusOr<Manifest> at_root = default_exec_manifest(sample_request("/"));
    REQUIRE(at_root.ok());
    CHECK(at_root->start_dir == "/");
    REQUIRE(at_root->mounts.size() == 2);
    CHECK(at_root->mounts[0].readonly);

    absl::StatusOr<Manifest> at_tmp = default_exec_manifest(sample_request("/tmp"));
    REQUIRE(at_tmp.ok());
    REQUIRE(at_tmp->mounts.size() == 2);
    CHECK(at_tmp->mounts[1] == Mount{boot::MountType::Chroot, "/tmp", "/tmp", false});
}

TEST_CASE("default exec manifest: extra mounts replace defaults and sort parents first", "[exec]") {
    ExecRequest r = sample_request("/home/user/project");
    r.extra_mounts = {
        Mount{boot::MountType::Chroot, "/home/user/project/data/deep", "/srv/deep", true},
        Mount{boot::MountType::Chroot, "/", "/srv/rootfs", false},
        Mount{boot::MountType::Tmpfs, "/run", "", false},
    };
    r.log_level = boot::LogLevel::Debug;
    r.log_file = "/home/user/log";
    absl::StatusOr<Manifest> m = default_exec_manifest(r);
    REQUIRE(m.ok());
    CHECK(m->log_level == boot::LogLevel::Debug);
    CHECK(m->log_file == std::optional<std::string>("/home/user/log"));
    REQUIRE(m->mounts.size() == 5);
    CHECK(m->mounts[0] == Mount{boot::MountType::Chroot, "/", "/srv/rootfs", false});
    CHECK(m->mounts[1].path == "/tmp");
    CHECK(m->mounts[2].path == "/run");
    CHECK(m->mounts[3].path == "/home/user/project");
    CHECK(m->mounts[4].path == "/home/user/project/data/deep");

    r.extra_mounts.push_back(Mount{boot::MountType::Tmpfs, "/run", "", false});
    CHECK_FALSE(default_exec_manifest(r).ok());
}

TEST_CASE("--mount and --tmpfs options", "[exec]") {
    TempDir dir;
    dir.mkdir("data");
    dir.mkdir("odd:name");

    absl::StatusOr<Mount> rw = parse_mount_option("data:/data", dir.path());
    REQUIRE(rw.ok());
    CHECK(*rw == Mount{boot::MountType::Chroot, "/data", dir / "data", false});

    absl::StatusOr<Mount> ro = parse_mount_option(dir / "data" + ":/mnt/x/:ro", "/");
    REQUIRE(ro.ok());
    CHECK(*ro == Mount{boot::MountType::Chroot, "/mnt/x", dir / "data", true});

    absl::StatusOr<Mount> explicit_rw = parse_mount_option("./data:/d:rw", dir.path());
    REQUIRE(explicit_rw.ok());
    CHECK_FALSE(explicit_rw->readonly);

    absl::StatusOr<Mount> colon = parse_mount_option("odd:name:/odd", dir.path());
    REQUIRE(colon.ok());
    CHECK(colon->host_path == dir / "odd:name");

    CHECK_FALSE(parse_mount_option("data", dir.path()).ok());
    CHECK_FALSE(parse_mount_option("data:relative", dir.path()).ok());
    CHECK_FALSE(parse_mount_option(":/data", dir.path()).ok());
    CHECK_FALSE(parse_mount_option("missing:/data", dir.path()).ok());
    CHECK_FALSE(parse_mount_option("data:/a/../b", dir.path()).ok());

    absl::StatusOr<Mount> tmpfs = parse_tmpfs_option("/scratch/");
    REQUIRE(tmpfs.ok());
    CHECK(*tmpfs == Mount{boot::MountType::Tmpfs, "/scratch", "", false});
    CHECK_FALSE(parse_tmpfs_option("scratch").ok());
    CHECK_FALSE(parse_tmpfs_option("").ok());
}

TEST_CASE("PATH lookup works like execvp", "[exec][path]") {
    TempDir dir;
    dir.write("a/tool", "#!/bin/sh\n", 0755);
    dir.write("a/plain", "not executable\n", 0644);
    dir.write("b/plain", "#!/bin/sh\n", 0755);
    dir.write("b/tool", "#!/bin/sh\n", 0755);
    dir.mkdir("b/subdir");
    dir.write("here", "#!/bin/sh\n", 0755);
    std::string path = dir / "a" + ":" + dir / "b";

    CHECK(find_program("tool", path.c_str(), "/").value() == dir / "a/tool");
    // Not executable in a: the search goes on.
    CHECK(find_program("plain", path.c_str(), "/").value() == dir / "b/plain");
    // A directory is not a program.
    CHECK_FALSE(find_program("subdir", path.c_str(), "/").ok());
    CHECK_FALSE(find_program("missing", path.c_str(), "/").ok());
    CHECK(find_program("missing", path.c_str(), "/").status().message() == "missing: command not found");

    // Relative and empty PATH elements are relative to the working directory.
    CHECK(find_program("tool", "b", dir.path()).value() == dir / "b/tool");
    CHECK(find_program("here", "/nonexistent::", dir.path()).value() == dir / "here");

    // A name with a slash is not searched; it is made absolute.
    CHECK(find_program("./here", path.c_str(), dir.path()).value() == dir / "here");
    CHECK(find_program("a//tool", nullptr, dir.path()).value() == dir / "a/tool");
    CHECK(find_program("/usr/bin/../bin/x", nullptr, "/").value() == "/usr/bin/../bin/x");

    // Without PATH, the default is /bin:/usr/bin, where sh always is.
    absl::StatusOr<std::string> sh = find_program("sh", nullptr, "/");
    REQUIRE(sh.ok());
    CHECK((*sh == "/bin/sh" || *sh == "/usr/bin/sh"));

    CHECK_FALSE(find_program("", path.c_str(), "/").ok());
}

TEST_CASE("absolute_path", "[exec][path]") {
    CHECK(absolute_path("x", "/a") == "/a/x");
    CHECK(absolute_path("./x/./y//", "/a/") == "/a/x/y");
    CHECK(absolute_path("/x", "/a") == "/x");
    CHECK(absolute_path("../x", "/a") == "/a/../x");
    CHECK(absolute_path(".", "/") == "/");
}

TEST_CASE("locating carbyne-pal and libos.so", "[launch]") {
    TempDir dir;
    std::string tree_exe = dir.write("build/loader/launcher/carbyne", "", 0755);

    absl::StatusOr<Parts> none = locate_parts(tree_exe);
    REQUIRE_FALSE(none.ok());
    CHECK(none.status().message().find("carbyne-pal") != absl::string_view::npos);

    // Build tree layout.
    dir.write("build/pal/linux/carbyne-pal", "", 0755);
    CHECK_FALSE(locate_parts(tree_exe).ok());  // libos.so still missing
    dir.write("build/libos/libos.so", "", 0644);
    absl::StatusOr<Parts> tree = locate_parts(tree_exe);
    REQUIRE(tree.ok());
    CHECK(tree->pal_path == dir / "build/pal/linux/carbyne-pal");
    CHECK(tree->libos_path == dir / "build/libos/libos.so");

    // Installed layout, found through the relative path from bindir the build computed.
    std::string bindir = dir.mkdir("prefix/bin");
    std::string libexec = bindir + "/" + CARBYNE_INSTALL_LIBEXEC_REL;
    dir.write("prefix/bin/carbyne", "", 0755);
    std::filesystem::create_directories(libexec);
    std::string pal = libexec + "/carbyne-pal";
    std::ofstream(pal).close();
    chmod(pal.c_str(), 0755);
    std::ofstream(libexec + "/libos.so").close();
    absl::StatusOr<Parts> installed = locate_parts(bindir + "/carbyne");
    REQUIRE(installed.ok());
    CHECK(installed->pal_path == std::filesystem::canonical(pal).string());
    CHECK(installed->libos_path == std::filesystem::canonical(libexec + "/libos.so").string());

    // A PAL that is not executable does not count.
    chmod(pal.c_str(), 0644);
    CHECK_FALSE(locate_parts(bindir + "/carbyne").ok());
}

}  // namespace
}  // namespace carbyne::launcher
