// Manifest parsing and validation: the effective configuration, and each error naming its key and line.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "manifest.h"
#include "test_util.h"

namespace carbyne::launcher {
namespace {

using testing::TempDir;

const std::vector<std::string> kHostEnv = {"HOME=/home/user", "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "EMPTY="};
constexpr const char* kCwd = "/home/user/project";

// Manifest text in tests starts on the line after R"( so that line 1 is the first written line.
std::string text_of(const char* raw) { return raw[0] == '\n' ? std::string(raw + 1) : std::string(raw); }

ManifestResult parse(const TempDir& dir, const char* raw) {
    return parse_manifest(text_of(raw), "app.manifest.toml", dir.path(), kHostEnv, kCwd);
}

// Asserts that parsing fails with `key` on `line`, and that the message says so.
ManifestError expect_error(const char* raw, const std::string& key, uint32_t line) {
    TempDir dir;
    dir.mkdir("data");
    ManifestResult r = parse(dir, raw);
    INFO(raw);
    REQUIRE_FALSE(r.ok());
    INFO(r.error->to_string());
    CHECK(r.error->key == key);
    CHECK(r.error->line == line);
    std::string prefix = "app.manifest.toml:" + std::to_string(line) + ": " + key + ": ";
    CHECK(r.error->to_string().rfind(prefix, 0) == 0);
    return *r.error;
}

TEST_CASE("a complete manifest gives every setting", "[manifest]") {
    TempDir dir;
    dir.mkdir("lib");
    dir.write("data/file.txt", "x");
    ManifestResult r = parse(dir, R"(
libos.entrypoint = "/bin/app"

[loader]
argv = ["app", "--flag", "value with spaces"]
log_level = "debug"
log_file = "logs/carbyne.log"
env.GREETING = "hello"
env.HOME = { passthrough = true }
env.NOT_ON_HOST = { passthrough = true }
env.TABLE_VALUE = { value = "v" }

[fs]
root = { type = "chroot", uri = "file:/", readonly = true }
start_dir = "/data//sub/./"
mounts = [
  { type = "chroot", path = "/lib", uri = "file:lib" },
  { type = "tmpfs", path = "/tmp" },
  { path = "/data/file.txt", uri = "file:data/file.txt", readonly = true },
]

[sys]
stack.size = "2M"
brk.max_size = 1048576
)");
    INFO((r.error ? r.error->to_string() : ""));
    REQUIRE(r.ok());
    const Manifest& m = r.manifest;
    CHECK(m.entrypoint == "/bin/app");
    CHECK(m.argv == std::vector<std::string>{"app", "--flag", "value with spaces"});
    CHECK(m.log_level == boot::LogLevel::Debug);
    REQUIRE(m.log_file);
    CHECK(*m.log_file == std::string(kCwd) + "/logs/carbyne.log");
    // loader.env entries in key order; passthrough of an unset variable sets nothing.
    CHECK(m.env == std::vector<std::string>{"GREETING=hello", "HOME=/home/user", "TABLE_VALUE=v"});
    CHECK(m.start_dir == "/data/sub");
    CHECK(m.stack_size == 2u << 20);
    CHECK(m.brk_max_size == 1u << 20);
    REQUIRE(m.mounts.size() == 4);
    CHECK(m.mounts[0] == Mount{boot::MountType::Chroot, "/", "/", true});
    CHECK(m.mounts[1] == Mount{boot::MountType::Chroot, "/lib", dir / "lib", false});
    CHECK(m.mounts[2] == Mount{boot::MountType::Tmpfs, "/tmp", "", false});
    CHECK(m.mounts[3] == Mount{boot::MountType::Chroot, "/data/file.txt", dir / "data/file.txt", true});
}

TEST_CASE("defaults of a minimal manifest", "[manifest]") {
    TempDir dir;
    ManifestResult r = parse(dir, R"(
libos.entrypoint = "/bin/true"
)");
    REQUIRE(r.ok());
    const Manifest& m = r.manifest;
    CHECK(m.argv == std::vector<std::string>{"/bin/true"});
    CHECK(m.env.empty());
    CHECK(m.log_level == boot::LogLevel::Error);
    CHECK_FALSE(m.log_file);
    CHECK(m.start_dir == "/");
    CHECK(m.stack_size == 8u << 20);
    CHECK(m.brk_max_size == 256u << 20);
    CHECK_FALSE(m.net_allow);  // every address allowed
    CHECK(m.sandbox);          // on unless the manifest turns it off
    // As in Gramine, without fs.root the root is a chroot of the manifest's directory.
    REQUIRE(m.mounts.size() == 1);
    CHECK(m.mounts[0] == Mount{boot::MountType::Chroot, "/", dir.path(), false});
}

TEST_CASE("an fs.mounts entry at / is the root and comes first", "[manifest]") {
    TempDir dir;
    ManifestResult r = parse(dir, R"(
libos.entrypoint = "/bin/true"
[[fs.mounts]]
type = "tmpfs"
path = "/tmp"
[[fs.mounts]]
path = "/"
uri = "file:/"
)");
    REQUIRE(r.ok());
    REQUIRE(r.manifest.mounts.size() == 2);
    CHECK(r.manifest.mounts[0].path == "/");
    CHECK(r.manifest.mounts[0].host_path == "/");
    CHECK(r.manifest.mounts[1].path == "/tmp");
}

TEST_CASE("a relative entrypoint starts from fs.start_dir", "[manifest]") {
    TempDir dir;
    ManifestResult r = parse(dir, R"(
libos.entrypoint = "bin/app"
fs.start_dir = "/opt"
)");
    REQUIRE(r.ok());
    CHECK(r.manifest.entrypoint == "/opt/bin/app");
    CHECK(r.manifest.argv == std::vector<std::string>{"/opt/bin/app"});
}

TEST_CASE("insecure__use_host_env passes the host environment; loader.env overrides it", "[manifest]") {
    TempDir dir;
    ManifestResult r = parse(dir, R"(
libos.entrypoint = "/bin/env"
loader.insecure__use_host_env = true
loader.env.LANG = "C"
loader.env.EXTRA = "1"
)");
    REQUIRE(r.ok());
    CHECK(r.manifest.env ==
          std::vector<std::string>{"HOME=/home/user", "PATH=/usr/bin:/bin", "LANG=C", "EMPTY=", "EXTRA=1"});
}

TEST_CASE("error: unknown keys", "[manifest][errors]") {
    ManifestError e = expect_error(R"(
libos.entrypoint = "/bin/true"
colour = "blue"
)",
                                   "colour", 2);
    CHECK(e.message.find("unknown key") != std::string::npos);

    expect_error(R"(
libos.entrypoint = "/bin/true"

[loader]
argv = ["true"]
bogus = 1
)",
                 "loader.bogus", 5);

    expect_error(R"(
libos.entrypoint = "/bin/true"
libos.extra = true
)",
                 "libos.extra", 2);

    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = [
  { type = "tmpfs", path = "/tmp" },
  { type = "tmpfs", path = "/run", size = "1M" },
]
)",
                 "fs.mounts[1].size", 4);

    expect_error(R"(
libos.entrypoint = "/bin/true"
sys.stack.max = "1M"
)",
                 "sys.stack.max", 2);

    ManifestError hint = expect_error(R"(
loader.entrypoint = "file:libsysdb.so"
libos.entrypoint = "/bin/true"
)",
                                      "loader.entrypoint", 1);
    CHECK(hint.message.find("libos.so") != std::string::npos);
}

TEST_CASE("error: wrong types name the key and the expected type", "[manifest][errors]") {
    ManifestError e = expect_error(R"(
# comment
libos.entrypoint = 42
)",
                                   "libos.entrypoint", 2);
    CHECK(e.message == "expected a string, got an integer");

    expect_error(R"(
libos.entrypoint = "/bin/echo"
loader.argv = ["echo",
  3]
)",
                 "loader.argv[1]", 3);

    expect_error(R"(
libos.entrypoint = "/bin/echo"
loader.argv = "echo hi"
)",
                 "loader.argv", 2);

    expect_error(R"(
libos.entrypoint = "/bin/true"
[[fs.mounts]]
type = "tmpfs"
path = "/tmp"
readonly = "yes"
)",
                 "fs.mounts[0].readonly", 5);

    expect_error(R"(
libos.entrypoint = "/bin/true"
loader.insecure__use_host_env = 1
)",
                 "loader.insecure__use_host_env", 2);

    expect_error(R"(
libos.entrypoint = "/bin/true"
[sys]
sandbox = "off"
)",
                 "sys.sandbox", 3);

    expect_error(R"(
libos.entrypoint = "/bin/true"
loader.env.FOO = 1
)",
                 "loader.env.FOO", 2);

    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = { path = "/tmp", type = "tmpfs" }
)",
                 "fs.mounts", 2);

    expect_error(R"(
libos.entrypoint = "/bin/true"
loader = "yes"
)",
                 "loader", 2);

    expect_error(R"(
libos.entrypoint = "/bin/true"
sys.stack.size = 1.5
)",
                 "sys.stack.size", 2);
}

TEST_CASE("error: missing entrypoint", "[manifest][errors]") {
    expect_error(R"(
loader.argv = ["x"]
)",
                 "libos.entrypoint", 1);

    // Inside an existing [libos] table the line is the table's.
    expect_error(R"(
loader.argv = ["x"]

[libos]
)",
                 "libos.entrypoint", 3);
}

TEST_CASE("error: bad entrypoint values", "[manifest][errors]") {
    expect_error(R"(
libos.entrypoint = "file:/bin/ls"
)",
                 "libos.entrypoint", 1);
    expect_error(R"(
libos.entrypoint = ""
)",
                 "libos.entrypoint", 1);
    expect_error(R"(
libos.entrypoint = "/bin/../bin/ls"
)",
                 "libos.entrypoint", 1);
}

TEST_CASE("error: bad log level", "[manifest][errors]") {
    ManifestError e = expect_error(R"(
libos.entrypoint = "/bin/true"
loader.log_level = "verbose"
)",
                                   "loader.log_level", 2);
    CHECK(e.message.find("verbose") != std::string::npos);
    expect_error(R"(
libos.entrypoint = "/bin/true"
loader.log_file = ""
)",
                 "loader.log_file", 2);
}

TEST_CASE("error: bad sizes", "[manifest][errors]") {
    ManifestError e = expect_error(R"(
libos.entrypoint = "/bin/true"

sys.stack.size = "8X"
)",
                                   "sys.stack.size", 3);
    CHECK(e.message.find("8X") != std::string::npos);
    expect_error(R"(
libos.entrypoint = "/bin/true"
sys.brk.max_size = -4096
)",
                 "sys.brk.max_size", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
sys.stack.size = 0
)",
                 "sys.stack.size", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
sys.stack.size = "99999999999999999999G"
)",
                 "sys.stack.size", 2);
}

TEST_CASE("error: duplicate mount paths", "[manifest][errors]") {
    ManifestError e = expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = [
  { type = "tmpfs", path = "/scratch" },
  { type = "tmpfs", path = "/scratch/" },
]
)",
                                   "fs.mounts[1].path", 4);
    CHECK(e.message.find("fs.mounts[0]") != std::string::npos);

    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.root = { uri = "file:/" }
[[fs.mounts]]
path = "/"
uri = "file:/"
)",
                 "fs.mounts[0].path", 4);
}

TEST_CASE("error: paths inside must be absolute", "[manifest][errors]") {
    ManifestError e = expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = [
  { type = "tmpfs", path = "tmp" },
]
)",
                                   "fs.mounts[0].path", 3);
    CHECK(e.message.find("absolute") != std::string::npos);
    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = [ { type = "tmpfs", path = "" } ]
)",
                 "fs.mounts[0].path", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.start_dir = "home"
)",
                 "fs.start_dir", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = [ { type = "tmpfs", path = "/a/../b" } ]
)",
                 "fs.mounts[0].path", 2);
}

TEST_CASE("error: mount uris", "[manifest][errors]") {
    ManifestError e = expect_error(R"(
libos.entrypoint = "/bin/true"
[[fs.mounts]]
type = "tmpfs"
path = "/tmp"
uri = "file:/tmp"
)",
                                   "fs.mounts[0].uri", 5);
    CHECK(e.message.find("tmpfs") != std::string::npos);

    expect_error(R"(
libos.entrypoint = "/bin/true"
[[fs.mounts]]
type = "chroot"
path = "/lib"
)",
                 "fs.mounts[0].uri", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = [ { path = "/lib", uri = "/lib" } ]
)",
                 "fs.mounts[0].uri", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = [ { path = "/lib", uri = "file:does-not-exist" } ]
)",
                 "fs.mounts[0].uri", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = [ { path = "/null", uri = "file:/dev/null" } ]
)",
                 "fs.mounts[0].uri", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.root = { type = "chroot", path = "/", uri = "file:/" }
)",
                 "fs.root.path", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
fs.mounts = [ { type = "overlay", path = "/x" } ]
)",
                 "fs.mounts[0].type", 2);
}

TEST_CASE("error: keys of the design that are not supported yet", "[manifest][errors]") {
    struct Case {
        const char* text;
        const char* key;
    };
    const Case cases[] = {
        {"libos.entrypoint = \"/bin/true\"\nsys.enable_sigterm_injection = true\n", "sys.enable_sigterm_injection"},
        {"libos.entrypoint = \"/bin/true\"\ntrusted_files = [ { uri = \"file:/bin/true\" } ]\n", "trusted_files"},
        {"libos.entrypoint = \"/bin/true\"\nallowed_files = [ \"file:/etc\" ]\n", "allowed_files"},
        {"libos.entrypoint = \"/bin/true\"\nfs.insecure__keys.default = \"00112233\"\n", "fs.insecure__keys"},
        {"libos.entrypoint = \"/bin/true\"\nfs.mounts = [ { type = \"encrypted\", path = \"/e\" } ]\n",
         "fs.mounts[0].type"},
    };
    for (const Case& c : cases) {
        ManifestError e = expect_error(c.text, c.key, 2);
        CHECK(e.message.find("not supported yet") != std::string::npos);
    }
}

TEST_CASE("error: environment entries", "[manifest][errors]") {
    expect_error(R"(
libos.entrypoint = "/bin/true"
loader.env.A = { value = "x", passthrough = true }
)",
                 "loader.env.A", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
loader.env.A = { passthrough = false }
)",
                 "loader.env.A", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
loader.env.A = { }
)",
                 "loader.env.A", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
loader.env."A=B" = "x"
)",
                 "loader.env.A=B", 2);
    expect_error(R"(
libos.entrypoint = "/bin/true"
loader.env.A = "nul\u0000inside"
)",
                 "loader.env.A", 2);
}

TEST_CASE("the first error in source order is reported", "[manifest][errors]") {
    // Table iteration is alphabetical ("fs" before "loader"); the report follows the file.
    expect_error(R"(
libos.entrypoint = "/bin/true"
loader.log_level = "loud"
fs.start_dir = "relative"
)",
                 "loader.log_level", 2);
}

TEST_CASE("TOML syntax errors give the parser's line and column", "[manifest][errors]") {
    TempDir dir;
    ManifestResult r = parse(dir, R"(
libos.entrypoint = "/bin/true"
loader.argv = ["a",
)");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error->key.empty());
    CHECK(r.error->line >= 2);
    CHECK(r.error->column >= 1);
    CHECK(r.error->to_string().rfind("app.manifest.toml:" + std::to_string(r.error->line) + ":", 0) == 0);

    r = parse(dir, "libos.entrypoint = \"/bin/true\"\nlibos.entrypoint = \"/bin/false\"\n");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error->line == 2);
}

// Found by fuzz-manifest, in toml++ 3.3.0: built with its assertions on, it aborts on table
// headers that start with no key; and a non-ASCII character where whitespace may stand
// reaches an unreachable point of its Unicode table. The library the launcher links (a g++
// build without assertions) reports a syntax error for each.
TEST_CASE("malformed TOML that trips tomlplusplus 3.3.0 is a syntax error, not a crash", "[manifest][errors]") {
    TempDir dir;
    for (const char* text : {"[(", "[[[a]]]", "[[=", "libos.entrypoint = \"/bin/true\"\n[ .x]\n", "\xcc\xaa",
                             "libos.e\xd0\x85valuent = \"/bin/true\"", "a\xc2\xa7 = 1"}) {
        INFO(text);
        ManifestResult r = parse(dir, text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error->key.empty());
        CHECK(r.error->column >= 1);
    }
}

TEST_CASE("load_manifest_file resolves relative uris against the manifest's directory", "[manifest]") {
    TempDir dir;
    dir.mkdir("app/lib");
    std::string file = dir.write("app/app.manifest.toml", "libos.entrypoint = \"/bin/true\"\n"
                                                          "fs.mounts = [ { path = \"/lib\", uri = \"file:lib\" } ]\n");
    ManifestResult r = load_manifest_file(file, kHostEnv);
    REQUIRE(r.ok());
    REQUIRE(r.manifest.mounts.size() == 2);
    CHECK(r.manifest.mounts[0].host_path == dir / "app");
    CHECK(r.manifest.mounts[1].host_path == dir / "app/lib");

    ManifestResult missing = load_manifest_file(dir / "nope.toml", kHostEnv);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error->to_string().find("nope.toml: cannot open") != std::string::npos);

    ManifestResult directory = load_manifest_file(dir / "app", kHostEnv);
    REQUIRE_FALSE(directory.ok());
}

TEST_CASE("size strings", "[manifest][size]") {
    CHECK(parse_size("0").value() == 0);
    CHECK(parse_size("4096").value() == 4096);
    CHECK(parse_size("256K").value() == 256u << 10);
    CHECK(parse_size("256k").value() == 256u << 10);
    CHECK(parse_size("8M").value() == 8u << 20);
    CHECK(parse_size("1G").value() == 1u << 30);
    CHECK(parse_size("16g").value() == uint64_t{16} << 30);
    CHECK(parse_size("18446744073709551615").value() == UINT64_MAX);
    CHECK_FALSE(parse_size("18446744073709551616").ok());
    CHECK_FALSE(parse_size("17179869184G").ok());
    for (const char* bad : {"", "M", "8MB", "8 M", "-1", "+1", "1.5M", "0x10", " 8M", "8T"}) {
        INFO(bad);
        CHECK_FALSE(parse_size(bad).ok());
    }
    CHECK(format_size(8u << 20) == "8M");
    CHECK(format_size(256u << 10) == "256K");
    CHECK(format_size(uint64_t{3} << 30) == "3G");
    CHECK(format_size(1000) == "1000");
    CHECK(format_size(0) == "0");
}

TEST_CASE("log level names", "[manifest]") {
    for (const char* name : {"none", "error", "warning", "debug", "trace"}) {
        std::optional<boot::LogLevel> level = parse_log_level(name);
        REQUIRE(level);
        CHECK(std::string(log_level_name(*level)) == name);
    }
    CHECK_FALSE(parse_log_level("all"));
    CHECK_FALSE(parse_log_level("Error"));
}

TEST_CASE("paths inside the LibOS are normalized", "[manifest]") {
    CHECK(normalize_inside_path("/").value() == "/");
    CHECK(normalize_inside_path("//").value() == "/");
    CHECK(normalize_inside_path("/a//b/./c/").value() == "/a/b/c");
    CHECK(normalize_inside_path("/a/.hidden").value() == "/a/.hidden");
    CHECK_FALSE(normalize_inside_path("").ok());
    CHECK_FALSE(normalize_inside_path("a/b").ok());
    CHECK_FALSE(normalize_inside_path("/a/../b").ok());
    CHECK_FALSE(normalize_inside_path(std::string_view("/a\0b", 4)).ok());
}

TEST_CASE("format_manifest prints one setting per line", "[manifest]") {
    Manifest m;
    m.entrypoint = "/bin/ls";
    m.argv = {"ls", "-l", "a \"quoted\" arg"};
    m.env = {"HOME=/root", "WEIRD.NAME=x=y"};
    m.log_level = boot::LogLevel::Warning;
    m.mounts = {Mount{boot::MountType::Chroot, "/", "/", true}, Mount{boot::MountType::Tmpfs, "/tmp", "", false}};
    std::string out = format_manifest(m);
    CHECK(out.find("libos.entrypoint = \"/bin/ls\"\n") != std::string::npos);
    CHECK(out.find("loader.argv = [\"ls\", \"-l\", \"a \\\"quoted\\\" arg\"]\n") != std::string::npos);
    CHECK(out.find("loader.env.HOME = \"/root\"\n") != std::string::npos);
    CHECK(out.find("loader.env.\"WEIRD.NAME\" = \"x=y\"\n") != std::string::npos);
    CHECK(out.find("loader.log_level = \"warning\"\n") != std::string::npos);
    CHECK(out.find("fs.start_dir = \"/\"\n") != std::string::npos);
    CHECK(out.find("fs.mounts[0] = { type = \"chroot\", path = \"/\", uri = \"file:/\", readonly = true }\n") !=
          std::string::npos);
    CHECK(out.find("fs.mounts[1] = { type = \"tmpfs\", path = \"/tmp\", readonly = false }\n") != std::string::npos);
    CHECK(out.find("sys.stack.size = \"8M\"  # 8388608 bytes\n") != std::string::npos);
    CHECK(out.find("sys.brk.max_size = \"256M\"  # 268435456 bytes\n") != std::string::npos);
}

TEST_CASE("sys.sandbox = false turns the sandbox off", "[manifest]") {
    TempDir dir;
    ManifestResult r = parse(dir, R"(
libos.entrypoint = "/bin/true"
sys.sandbox = false
)");
    INFO((r.error ? r.error->to_string() : ""));
    REQUIRE(r.ok());
    CHECK_FALSE(r.manifest.sandbox);
}

}  // namespace
}  // namespace carbyne::launcher
