// Unit tests of the VFS's lexical path arithmetic (libos/src/fs/path.h).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "../src/fs/path.h"

#include <string>

using carbyne::libos::Errno;
using carbyne::libos::Result;
namespace fs = carbyne::libos::fs;

namespace Catch {
template <>
struct StringMaker<Errno> {
    static std::string convert(Errno e) {
        switch (e.code) {
        case 0: return "Errno(0)";
        case ENOENT: return "ENOENT";
        case ENAMETOOLONG: return "ENAMETOOLONG";
        default: return "Errno(" + std::to_string(e.code) + ")";
        }
    }
};
}  // namespace Catch

namespace {

// The normalized path, or "error <code>" when path_normalize fails.
std::string normalize(const std::string& cwd, const std::string& path) {
    char out[fs::kPathMax];
    Result<void> r = fs::path_normalize(cwd.c_str(), path.c_str(), out);
    if (!r.ok())
        return "error " + std::to_string(r.error().code);
    return out;
}

Errno normalize_error(const std::string& cwd, const std::string& path) {
    char out[fs::kPathMax];
    Result<void> r = fs::path_normalize(cwd.c_str(), path.c_str(), out);
    return r.ok() ? Errno(0) : r.error();
}

// A long path shown by its length and ends, so that a failure stays readable.
std::string brief(const std::string& p) {
    if (p.size() <= 80)
        return p;
    return p.substr(0, 20) + "...(" + std::to_string(p.size()) + " bytes)..." + p.substr(p.size() - 20);
}

// "" when `got` is `want`, else both in brief and where they part.
std::string mismatch(const std::string& got, const std::string& want) {
    if (got == want)
        return "";
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i])
        i++;
    return "got " + brief(got) + ", want " + brief(want) + ", differing from byte " + std::to_string(i);
}

// "/" followed by `count` components of `size` letters each.
std::string long_path(int count, size_t size) {
    std::string p;
    for (int i = 0; i < count; i++)
        p += "/" + std::string(size, char('a' + i % 26));
    return p;
}

}  // namespace

TEST_CASE("path_normalize keeps a clean absolute path", "[path]") {
    CHECK(normalize("/x", "/") == "/");
    CHECK(normalize("/x", "/a") == "/a");
    CHECK(normalize("/x", "/a/b/c") == "/a/b/c");
    CHECK(normalize("/x", "/...") == "/...");
    CHECK(normalize("/x", "/.a/..b/a.") == "/.a/..b/a.");
}

TEST_CASE("path_normalize removes empty components and trailing slashes", "[path]") {
    CHECK(normalize("/x", "//") == "/");
    CHECK(normalize("/x", "//a//b/") == "/a/b");
    CHECK(normalize("/x", "///a///") == "/a");
    CHECK(normalize("/x", "a//") == "/x/a");
}

TEST_CASE("path_normalize removes '.' components", "[path]") {
    CHECK(normalize("/x", "a/./b") == "/x/a/b");
    CHECK(normalize("/x", "/a/.") == "/a");
    CHECK(normalize("/x", "/a/b/.") == "/a/b");
    CHECK(normalize("/x", ".") == "/x");
    CHECK(normalize("/x", "./") == "/x");
    CHECK(normalize("/x", "/.") == "/");
    CHECK(normalize("/x", "/./././") == "/");
}

TEST_CASE("path_normalize joins a relative path to the working directory", "[path]") {
    CHECK(normalize("/", "a") == "/a");
    CHECK(normalize("/", "a/b") == "/a/b");
    CHECK(normalize("/x", "a") == "/x/a");
    CHECK(normalize("/x/y", "a/b") == "/x/y/a/b");
    // An absolute path ignores the working directory.
    CHECK(normalize("/x/y", "/a") == "/a");
}

TEST_CASE("path_normalize pops one component for '..', never above the root", "[path]") {
    CHECK(normalize("/x/y", "..") == "/x");
    CHECK(normalize("/x", "..") == "/");
    CHECK(normalize("/", "..") == "/");
    CHECK(normalize("/x", "/..") == "/");
    CHECK(normalize("/x", "/../..") == "/");
    CHECK(normalize("/x", "/../../a") == "/a");
    CHECK(normalize("/x", "a/../../b") == "/b");
    CHECK(normalize("/x/y", "a/../../b") == "/x/b");
    CHECK(normalize("/x", "/a/b/../c") == "/a/c");
    CHECK(normalize("/x", "/a/b/..") == "/a");
    CHECK(normalize("/x", "/a/b/../") == "/a");
    CHECK(normalize("/x", "/a/b/../..") == "/");
    CHECK(normalize("/long-name", "..") == "/");
    CHECK(normalize("/x", "/ab/../a") == "/a");
}

TEST_CASE("path_normalize: an empty path is ENOENT", "[path]") {
    CHECK(normalize_error("/x", "") == Errno(ENOENT));
    CHECK(normalize_error("/", "") == Errno(ENOENT));
}

TEST_CASE("path_normalize: a component above NAME_MAX is ENAMETOOLONG", "[path]") {
    CHECK(normalize_error("/x", "/" + std::string(256, 'n')) == Errno(ENAMETOOLONG));
    CHECK(normalize_error("/x", std::string(256, 'n')) == Errno(ENAMETOOLONG));
    CHECK(normalize_error("/x", "/a/" + std::string(256, 'n') + "/b") == Errno(ENAMETOOLONG));
    // Even when a later '..' would remove it: Linux looks up every component.
    CHECK(normalize_error("/x", "/" + std::string(256, 'n') + "/..") == Errno(ENAMETOOLONG));
    // 255 bytes is still a name.
    CHECK(mismatch(normalize("/x", "/" + std::string(255, 'n')), "/" + std::string(255, 'n')) == "");
}

TEST_CASE("path_normalize: a result of PATH_MAX bytes or more is ENAMETOOLONG", "[path]") {
    // 15 components of 1 + 255 bytes: 3840 bytes.
    const std::string prefix = long_path(15, 255);
    REQUIRE(prefix.size() == 3840);
    SECTION("4095 bytes (with the NUL: 4096) fit") {
        std::string p = prefix + "/" + std::string(254, 'z');
        REQUIRE(p.size() == fs::kPathMax - 1);
        CHECK(mismatch(normalize("/x", p), p) == "");
    }
    SECTION("4096 bytes do not") {
        std::string p = prefix + "/" + std::string(255, 'z');
        REQUIRE(p.size() == fs::kPathMax);
        CHECK(normalize_error("/x", p) == Errno(ENAMETOOLONG));
    }
    SECTION("the working directory counts") {
        std::string cwd = prefix;
        const std::string full = cwd + "/" + std::string(254, 'z');
        CHECK(mismatch(normalize("/", full.substr(1)), full) == "");
        CHECK(mismatch(normalize(cwd, std::string(254, 'z')), full) == "");
        CHECK(normalize_error(cwd, std::string(255, 'z')) == Errno(ENAMETOOLONG));
    }
    SECTION("far longer results") {
        CHECK(normalize_error("/x", long_path(40, 200)) == Errno(ENAMETOOLONG));
    }
    SECTION("only the result counts, not a longer intermediate path") {
        // cwd + "/zzz..." would be 4096 bytes, but ".." removes it again: the result,
        // cwd + "/end", is well below PATH_MAX (and Linux resolves such a path).
        std::string p = std::string(255, 'z') + "/../end";
        CHECK(mismatch(normalize(prefix, p), prefix + "/end") == "");
    }
}

TEST_CASE("path_is_within", "[path]") {
    CHECK(fs::path_is_within("/a", "/a"));
    CHECK(fs::path_is_within("/a/b", "/a"));
    CHECK(fs::path_is_within("/a/b/c", "/a/b"));
    CHECK(fs::path_is_within("/", "/"));
    CHECK(fs::path_is_within("/a", "/"));
    CHECK(fs::path_is_within("/a/b", "/"));
    CHECK_FALSE(fs::path_is_within("/ab", "/a"));
    CHECK_FALSE(fs::path_is_within("/a", "/a/b"));
    CHECK_FALSE(fs::path_is_within("/b", "/a"));
    CHECK_FALSE(fs::path_is_within("/", "/a"));
    CHECK_FALSE(fs::path_is_within("/a/bc", "/a/b"));
}

TEST_CASE("path_below", "[path]") {
    CHECK(std::string(fs::path_below("/a/b", "/a")) == "b");
    CHECK(std::string(fs::path_below("/a/b/c", "/a")) == "b/c");
    CHECK(std::string(fs::path_below("/a", "/a")) == "");
    CHECK(std::string(fs::path_below("/a/b", "/a/b")) == "");
    CHECK(std::string(fs::path_below("/a/b", "/")) == "a/b");
    CHECK(std::string(fs::path_below("/", "/")) == "");
}

TEST_CASE("path_basename", "[path]") {
    CHECK(std::string(fs::path_basename("/")) == "");
    CHECK(std::string(fs::path_basename("/a")) == "a");
    CHECK(std::string(fs::path_basename("/a/b")) == "b");
    CHECK(std::string(fs::path_basename("/a/bc.txt")) == "bc.txt");
}

TEST_CASE("path_dirname_size", "[path]") {
    CHECK(fs::path_dirname_size("/") == 0);
    CHECK(fs::path_dirname_size("/a") == 0);
    CHECK(fs::path_dirname_size("/a/b") == 2);
    CHECK(fs::path_dirname_size("/ab/cd/e") == 6);
}
