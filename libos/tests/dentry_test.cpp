// Unit tests of the dentry tree (libos/src/fs/dentry.h): paths that follow renames and
// exchanges, deleted names, and that the tree keeps exactly what is held.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "../src/fs/dentry.h"

#include <string>

#include "host_heap.h"

namespace fs = carbyne::libos::fs;

namespace {

std::string path_of(const fs::Dentry* d, bool* deleted = nullptr) {
    char buf[256];
    auto r = fs::dentry_path(d, buf, sizeof(buf), deleted);
    REQUIRE(r.ok());
    CHECK(r.value() == std::string(buf).size());
    return buf;
}

}  // namespace

TEST_CASE("a dentry's path is the one it was made with, and the root is /") {
    fs::Dentry* root = fs::dentry_get("/");
    fs::Dentry* d = fs::dentry_get("/tmp/a/b");
    CHECK(path_of(root) == "/");
    bool deleted = true;
    CHECK(path_of(d, &deleted) == "/tmp/a/b");
    CHECK_FALSE(deleted);
    CHECK(fs::dentry_count() == 3);
    CHECK(fs::dentry_get("/tmp/a/b") == d);  // one dentry per name
    fs::dentry_put(d);
    fs::dentry_put(d);
    fs::dentry_put(root);
    CHECK(fs::dentry_count() == 0);
    CHECK(g_live_blocks == 0);
}

TEST_CASE("a rename of a directory moves every name below it") {
    fs::Dentry* cwd = fs::dentry_get("/tmp/x/y");
    fs::Dentry* file = fs::dentry_get("/tmp/x/y/f");
    fs::Dentry* x = fs::dentry_get("/tmp/x");
    REQUIRE(fs::dentry_renamed("/tmp/x", "/srv/z").ok());
    CHECK(path_of(x) == "/srv/z");
    CHECK(path_of(cwd) == "/srv/z/y");
    CHECK(path_of(file) == "/srv/z/y/f");
    // A new name where the old one was is a dentry of its own.
    fs::Dentry* fresh = fs::dentry_get("/tmp/x");
    CHECK(fresh != x);
    REQUIRE(fs::dentry_renamed("/srv/z/y/f", "/f2").ok());
    CHECK(path_of(file) == "/f2");
    for (fs::Dentry* d : {cwd, file, x, fresh})
        fs::dentry_put(d);
    CHECK(fs::dentry_count() == 0);
    CHECK(g_live_blocks == 0);
}

TEST_CASE("a rename over a held name marks that one deleted") {
    fs::Dentry* a = fs::dentry_get("/d/a");
    fs::Dentry* b = fs::dentry_get("/d/b");
    REQUIRE(fs::dentry_renamed("/d/a", "/d/b").ok());
    bool deleted = false;
    CHECK(path_of(a, &deleted) == "/d/b");
    CHECK_FALSE(deleted);
    CHECK(path_of(b, &deleted) == "/d/b");
    CHECK(deleted);
    CHECK(fs::dentry_get("/d/b") == a);
    fs::dentry_put(a);
    // Renaming a name nobody holds onto a held one still deletes the held one.
    REQUIRE(fs::dentry_renamed("/d/nobody", "/d/b").ok());
    CHECK(fs::dentry_deleted(a));
    for (fs::Dentry* d : {a, b})
        fs::dentry_put(d);
    CHECK(fs::dentry_count() == 0);
    CHECK(g_live_blocks == 0);
}

TEST_CASE("an exchange swaps two names, also when only one is held") {
    fs::Dentry* a = fs::dentry_get("/p/a");
    fs::Dentry* b = fs::dentry_get("/q/b/c");
    fs::Dentry* qb = fs::dentry_get("/q/b");
    REQUIRE(fs::dentry_exchanged("/p/a", "/q/b").ok());
    CHECK(path_of(a) == "/q/b");
    CHECK(path_of(qb) == "/p/a");
    CHECK(path_of(b) == "/p/a/c");
    REQUIRE(fs::dentry_exchanged("/p/a", "/r/none").ok());
    CHECK(path_of(b) == "/r/none/c");
    CHECK(path_of(a) == "/q/b");
    for (fs::Dentry* d : {a, b, qb})
        fs::dentry_put(d);
    CHECK(fs::dentry_count() == 0);
    CHECK(g_live_blocks == 0);
}

TEST_CASE("a removed name stays the holder's, deleted, until the last put") {
    fs::Dentry* dir = fs::dentry_get("/t/dir");
    fs::Dentry* ref = fs::dentry_ref(dir);
    fs::dentry_removed("/t/dir");
    bool deleted = false;
    CHECK(path_of(dir, &deleted) == "/t/dir");
    CHECK(deleted);
    fs::Dentry* again = fs::dentry_get("/t/dir");
    CHECK(again != dir);
    CHECK_FALSE(fs::dentry_deleted(again));
    // Its parent moves on; the deleted one's path follows it.
    REQUIRE(fs::dentry_renamed("/t", "/u").ok());
    CHECK(path_of(dir) == "/u/dir");
    fs::dentry_put(again);
    fs::dentry_put(ref);
    fs::dentry_put(dir);
    fs::dentry_removed("/never/held");
    CHECK(fs::dentry_count() == 0);
    CHECK(g_live_blocks == 0);
}

TEST_CASE("a path that does not fit is ENAMETOOLONG") {
    fs::Dentry* d = fs::dentry_get("/a/bcdef");
    char buf[8];
    auto r = fs::dentry_path(d, buf, sizeof(buf), nullptr);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ENAMETOOLONG);
    char fits[9];
    CHECK(fs::dentry_path(d, fits, sizeof(fits), nullptr).value() == 8);
    fs::dentry_put(d);
    CHECK(g_live_blocks == 0);
}
