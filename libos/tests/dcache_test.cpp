// Unit tests of the dentry cache structure (libos/src/fs/dcache.h): hits and misses, the
// parent rule, forgetting subtrees, generations, eviction, the limits and concurrent use.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "../src/fs/dcache.h"

#include <stdlib.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "host_heap.h"

using carbyne::libos::kfree;
using fs_kind = carbyne::libos::fs::DentryKind;
using carbyne::libos::fs::DentryCache;
using carbyne::libos::fs::DentryInsert;

namespace Catch {
template <>
struct StringMaker<DentryInsert> {
    static std::string convert(DentryInsert r) {
        switch (r) {
        case DentryInsert::Inserted: return "Inserted";
        case DentryInsert::Present: return "Present";
        case DentryInsert::Stale: return "Stale";
        case DentryInsert::NoParent: return "NoParent";
        case DentryInsert::NoRoom: return "NoRoom";
        }
        return "?";
    }
};
}  // namespace Catch

namespace {

// A cache for one test, destroyed (and checked for leaks) at scope end.
class Cache {
public:
    explicit Cache(uint32_t max_entries = DentryCache::kDefaultMaxEntries,
                   size_t max_bytes = DentryCache::kDefaultMaxBytes)
        : m_blocks_before(g_live_blocks) {
        auto made = DentryCache::create(max_entries, max_bytes);
        REQUIRE(made.ok());
        m_cache = made.value();
    }
    ~Cache() {
        m_cache->~DentryCache();
        kfree(m_cache);
        CHECK(g_live_blocks == m_blocks_before);
    }
    DentryCache* operator->() { return m_cache; }

    DentryInsert dir(const char* key) { return m_cache->insert(key, fs_kind::Dir, nullptr, 0, m_cache->generation()); }
    DentryInsert link(const char* key, const std::string& target) {
        return m_cache->insert(key, fs_kind::Symlink, target.data(), target.size(), m_cache->generation());
    }
    // "dir", "link:TARGET" or "miss".
    std::string get(const char* key) {
        fs_kind kind;
        char target[4096];
        size_t len = 0;
        if (!m_cache->lookup(key, &kind, target, sizeof(target), &len))
            return "miss";
        return kind == fs_kind::Dir ? "dir" : "link:" + std::string(target, len);
    }

private:
    DentryCache* m_cache;
    long m_blocks_before;
};

}  // namespace

TEST_CASE("a chain of directories and a symlink are found again") {
    Cache c;
    CHECK(c.get("") == "miss");
    CHECK(c.dir("") == DentryInsert::Inserted);
    CHECK(c.dir("usr") == DentryInsert::Inserted);
    CHECK(c.dir("usr/lib") == DentryInsert::Inserted);
    CHECK(c.link("usr/lib/libc.so", "libc-2.36.so") == DentryInsert::Inserted);
    CHECK(c.get("") == "dir");
    CHECK(c.get("usr") == "dir");
    CHECK(c.get("usr/lib") == "dir");
    CHECK(c.get("usr/lib/libc.so") == "link:libc-2.36.so");
    CHECK(c.get("usr/li") == "miss");
    CHECK(c.get("usr/lib/") == "miss");  // keys are clean paths: no trailing slash
    CHECK(c->count() == 4);
    CHECK(c.dir("usr") == DentryInsert::Present);
    CHECK(c->count() == 4);
}

TEST_CASE("a directory's mode and owners come back with it") {
    Cache c;
    using carbyne::libos::fs::Attrs;
    CHECK(c->insert("", fs_kind::Dir, nullptr, 0, c->generation(), Attrs{040755, 0, 0}) == DentryInsert::Inserted);
    CHECK(c->insert("home", fs_kind::Dir, nullptr, 0, c->generation(), Attrs{041770, 1000, 100}) ==
          DentryInsert::Inserted);
    fs_kind kind;
    size_t len = 0;
    Attrs got = {};
    REQUIRE(c->lookup("home", &kind, nullptr, 0, &len, &got));
    CHECK((kind == fs_kind::Dir && got.mode == 041770 && got.uid == 1000 && got.gid == 100));
    REQUIRE(c->lookup("", &kind, nullptr, 0, &len, &got));
    CHECK((got.mode == 040755 && got.uid == 0 && got.gid == 0));
    // A chmod forgets the path: the next walk learns the new mode.
    c->forget("home");
    CHECK(!c->lookup("home", &kind, nullptr, 0, &len, &got));
}

TEST_CASE("an entry needs its parent directory") {
    Cache c;
    CHECK(c.dir("a") == DentryInsert::NoParent);
    CHECK(c.dir("") == DentryInsert::Inserted);
    CHECK(c.dir("a/b") == DentryInsert::NoParent);
    CHECK(c.dir("a") == DentryInsert::Inserted);
    CHECK(c.dir("a/b") == DentryInsert::Inserted);
    // Nothing lives below a symlink: keys are paths with the symlinks resolved.
    CHECK(c.link("l", "a") == DentryInsert::Inserted);
    CHECK(c.dir("l/x") == DentryInsert::NoParent);
    CHECK(c->count() == 4);
}

TEST_CASE("a symlink target too large for the buffer is a miss") {
    Cache c;
    c.dir("");
    c.link("l", "0123456789");
    fs_kind kind;
    char small[4];
    size_t len;
    CHECK_FALSE(c->lookup("l", &kind, small, sizeof(small), &len));
    CHECK_FALSE(c->lookup("l", &kind, nullptr, 0, &len));
    CHECK(c->lookup("", &kind, nullptr, 0, &len));
    CHECK(kind == fs_kind::Dir);
    CHECK(c.link("empty-target-is-kept", "") == DentryInsert::Inserted);
    CHECK(c.get("empty-target-is-kept") == "link:");
}

TEST_CASE("forget removes the path and everything below it, nothing else") {
    Cache c;
    for (const char* k : {"", "a", "a/b", "a/b/c", "a/x", "ab", "a2", "b"})
        REQUIRE(c.dir(k) == DentryInsert::Inserted);
    c.link("a/b/l", "../x");
    c->forget("a");
    for (const char* k : {"a", "a/b", "a/b/c", "a/x", "a/b/l"})
        CHECK(c.get(k) == "miss");
    for (const char* k : {"", "ab", "a2", "b"})
        CHECK(c.get(k) == "dir");
    CHECK(c->count() == 4);
    c->forget("b");
    CHECK(c.get("b") == "miss");
    CHECK(c->count() == 3);
    c->forget("not-cached");
    CHECK(c->count() == 3);
    c->forget("");
    CHECK(c->count() == 0);
    CHECK(c.get("") == "miss");
    // The tree is whole again after a refill.
    CHECK(c.dir("") == DentryInsert::Inserted);
    CHECK(c.dir("a") == DentryInsert::Inserted);
    CHECK(c.get("a") == "dir");
}

TEST_CASE("forgetting a leaf keeps its siblings linked") {
    Cache c;
    for (const char* k : {"", "d", "d/1", "d/2", "d/3"})
        c.dir(k);
    c->forget("d/2");  // the middle sibling
    c->forget("d/3");  // the first child (newest first)
    CHECK(c.get("d/1") == "dir");
    c->forget("d");
    CHECK(c.get("d/1") == "miss");
    CHECK(c->count() == 1);
}

TEST_CASE("an answer asked before a forget is refused") {
    Cache c;
    c.dir("");
    uint64_t gen = c->generation();
    c->forget("unrelated");  // any forget: the answer may predate a rename elsewhere
    CHECK(c->insert("a", fs_kind::Dir, nullptr, 0, gen) == DentryInsert::Stale);
    CHECK(c.get("a") == "miss");
    CHECK(c->insert("a", fs_kind::Dir, nullptr, 0, c->generation()) == DentryInsert::Inserted);
}

TEST_CASE("eviction takes the least recently used leaf, never a parent") {
    Cache c(5);
    c.dir("");
    c.dir("p");
    c.dir("p/old");
    c.dir("p/mid");
    c.dir("p/new");
    CHECK(c->count() == 5);
    CHECK(c.get("p/old") == "dir");  // now the most recently used
    CHECK(c.dir("p/newest") == DentryInsert::Inserted);
    CHECK(c->count() == 5);
    CHECK(c.get("p/mid") == "miss");  // the least recently used leaf
    CHECK(c.get("p/old") == "dir");
    CHECK(c.get("p/new") == "dir");
    CHECK(c.get("p") == "dir");
    CHECK(c.get("") == "dir");
}

TEST_CASE("a cache full of parents refuses rather than breaking the tree") {
    Cache c(3);
    c.dir("");
    c.dir("a");
    c.dir("a/b");
    // Room for a/b/c means evicting a leaf; the only leaf is its own parent.
    DentryInsert r = c.dir("a/b/c");
    CHECK(r == DentryInsert::NoParent);
    CHECK(c.get("a/b/c") == "miss");
    CHECK(c.get("a") == "dir");
    CHECK(c->count() == 2);
    CHECK(c.dir("a/b") == DentryInsert::Inserted);
}

TEST_CASE("the byte limit evicts too") {
    const size_t limit = 4096;
    Cache c(1000, limit);
    c.dir("");
    std::string target(1000, 't');
    int inserted = 0;
    for (int i = 0; i < 20; i++) {
        std::string key = "l" + std::to_string(i);
        if (c.link(key.c_str(), target) == DentryInsert::Inserted)
            inserted++;
    }
    CHECK(inserted == 20);
    CHECK(c->count() < 5);
    CHECK(c.get("l19") == "link:" + target);
    CHECK(c.get("l0") == "miss");
    CHECK(c.link("huge", std::string(limit, 'x')) == DentryInsert::NoRoom);
}

TEST_CASE("random operations keep the cache a subset of the truth and a tree") {
    // The truth: a fixed set of names, each a directory, a symlink or nothing. The cache
    // is told about changes only through forget(), as the VFS does.
    const std::vector<std::string> names = {"", "a", "a/b", "a/b/c", "a/d", "e", "e/f", "e/f/g", "h", "a/b/c/i"};
    std::map<std::string, std::string> truth;  // "dir" or "link:..."
    for (auto& n : names)
        truth[n] = "dir";
    Cache c(6);
    std::mt19937 rng(12345);
    // A cache that never answered would keep every rule below: it must answer too.
    int inserted = 0, hits = 0, lookups = 0;
    for (int step = 0; step < 20000; step++) {
        const std::string& key = names[rng() % names.size()];
        switch (rng() % 4) {
        case 0: {  // a walker inserts what it finds (and, like the VFS, only on a real path)
            auto it = truth.find(key);
            if (it == truth.end())
                break;
            bool reachable = true;
            for (std::string p = key; !p.empty();) {
                size_t slash = p.rfind('/');
                p = slash == std::string::npos ? "" : p.substr(0, slash);
                if (truth.count(p) == 0 || truth[p] != "dir")
                    reachable = false;
            }
            if (!reachable)
                break;
            DentryInsert done = it->second == "dir" ? c.dir(key.c_str()) : c.link(key.c_str(), it->second.substr(5));
            // Nothing was forgotten in between: what was just inserted (or found there) is
            // the most recently used entry, and the next lookup finds it.
            if (done == DentryInsert::Inserted || done == DentryInsert::Present) {
                inserted++;
                REQUIRE(c.get(key.c_str()) == it->second);
            } else {
                REQUIRE(done == DentryInsert::NoParent);  // the truth's parents, not cached
            }
            break;
        }
        case 1: {  // a namespace change: replace with a symlink, remove, or make a directory
            std::string before = truth.count(key) ? truth[key] : "none";
            int what = rng() % 3;
            if (what == 0)
                truth[key] = "link:t" + std::to_string(step);
            else if (what == 1)
                truth.erase(key);
            else
                truth[key] = "dir";
            c->forget(key.c_str());
            break;
        }
        default: {  // lookups: a hit must tell the truth, and its parent must be cached
            std::string got = c.get(key.c_str());
            lookups++;
            if (got == "miss")
                break;
            hits++;
            REQUIRE(truth.count(key) == 1);
            REQUIRE(truth[key] == got);
            if (!key.empty()) {
                size_t slash = key.rfind('/');
                std::string parent = slash == std::string::npos ? "" : key.substr(0, slash);
                REQUIRE(c.get(parent.c_str()) == "dir");
            }
            break;
        }
        }
        REQUIRE(c->count() <= 6);
    }
    // With this seed (mt19937 is the same everywhere) about 500 inserts succeed and about
    // 440 of the 9900 lookups hit (the namespace changes often); a cache that kept little or
    // nothing fails here.
    CHECK(inserted > 250);
    CHECK(hits > 200);
    CHECK(lookups > 9000);
}

TEST_CASE("threads inserting, looking up and forgetting at once leave a sound cache") {
    const char* keys[] = {"", "a", "a/b", "a/b/c", "d", "d/e", "d/e/f", "g"};
    Cache c(5);
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0}, hits{0};
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(t);
            for (int i = 0; i < 50000; i++) {
                const char* key = keys[rng() % 8];
                switch (rng() % 3) {
                case 0: c.dir(key); break;
                case 1: c->forget(key); break;
                default: {
                    std::string got = c.get(key);
                    if (got != "miss" && got != "dir")
                        wrong++;
                    hits += got == "dir";
                }
                }
            }
        });
    }
    for (auto& th : threads)
        th.join();
    CHECK(wrong == 0);
    CHECK(hits > 0);  // the threads did find what they inserted
    CHECK(c->count() <= 5);
    // Whatever is left is a tree: each entry's parent is there.
    for (const char* key : keys) {
        std::string k = key;
        if (k.empty() || c.get(key) == "miss")
            continue;
        size_t slash = k.rfind('/');
        std::string parent = slash == std::string::npos ? "" : k.substr(0, slash);
        CHECK(c.get(parent.c_str()) == "dir");
    }
}
