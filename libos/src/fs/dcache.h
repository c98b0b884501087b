// The dentry cache of one mount: what the path walk learnt about the directories and
// symlinks it passed through, so that walking through them again costs no host call.
//
// An entry says "this clean path (relative to the mount root, "" for the root) is a
// directory with this mode, owner and group" (what a walk's search permission check needs)
// or "... is a symlink to TARGET", nothing else: a walk still asks the file system for the
// attributes of the last component, so stat sees the current size and times.
// Entries form a tree: one is kept only while its parent directory's is, so that forgetting
// a path forgets everything below it by following child links, never by scanning, and a
// path that is not cached has nothing cached below it. Only leaves are evicted
// (least recently used first), and the cache is bounded in entries and bytes.
//
// The VFS keeps it right (vfs.cpp, dcache_forget): every namespace change made through the
// LibOS (rename, unlink, rmdir, chmod, chown...) forgets the paths it touched. What other
// host processes change in a chroot mount's host directory while the application runs is
// not seen until the entry is evicted (a documented limitation, as with Gramine).
//
// Races: a walker takes generation() before it asks the file system, and insert() refuses
// an answer when anything was forgotten since, so an answer read before a concurrent rename
// never lands after the rename has cleaned up.
//
// State: a cache is only an accelerator; any entry may be dropped at any time. A fork
// (multi-process work) does not checkpoint it: the child starts with empty caches.
//
// Lock order: DentryCache::m_lock is a leaf. Nothing is allocated, freed or asked of the PAL
// while it is held.
#pragma once

#include <libos/result.h>
#include <libos/lock.h>
#include <stddef.h>
#include <stdint.h>

#include "permission.h"

namespace carbyne::libos::fs {

enum class DentryKind : uint8_t { Dir, Symlink };

// What insert() did with an answer.
enum class DentryInsert : uint8_t {
    Inserted,
    Present,   // the key was cached already (by a concurrent walker)
    Stale,     // something was forgotten since `gen`: the answer may predate it
    NoParent,  // the parent directory is not cached (the caller may fill it in first)
    NoRoom,    // full of directories that have cached children, or out of memory
};

class DentryCache {
public:
    static constexpr uint32_t kDefaultMaxEntries = 2048;
    static constexpr size_t kDefaultMaxBytes = 512 * 1024;

    // ENOMEM when the hash table cannot be allocated.
    static Result<DentryCache*> create(uint32_t max_entries = kDefaultMaxEntries,
                                       size_t max_bytes = kDefaultMaxBytes);
    ~DentryCache();
    DentryCache(const DentryCache&) = delete;
    DentryCache& operator=(const DentryCache&) = delete;

    // The value to give insert() for an answer about to be asked of the file system.
    uint64_t generation() const { return __atomic_load_n(&m_generation, __ATOMIC_ACQUIRE); }

    // Looks up `key`. On a hit, sets *kind, *attrs when given (what insert was told), and,
    // for a symlink, copies its target (not NUL-terminated) into target[0..*target_len); a
    // target larger than target_size is a miss. `target` may be null when the caller only
    // wants directories (a symlink misses).
    bool lookup(const char* key, DentryKind* kind, char* target, size_t target_size, size_t* target_len,
                Attrs* attrs = nullptr);

    // Remembers `key` (with target[0..target_len) for a symlink, and a directory's mode,
    // owner and group in `attrs`), learnt by asking the file system after generation()
    // returned `gen`.
    DentryInsert insert(const char* key, DentryKind kind, const char* target, size_t target_len, uint64_t gen,
                        const Attrs& attrs = {});

    // Forgets `key` and everything below it ("" forgets everything), and makes every insert
    // of an answer asked before this call fail. Cheap when `key` is not cached.
    void forget(const char* key);

    uint32_t count();

private:
    struct Entry;

    DentryCache(Entry** buckets, uint32_t bucket_count, uint32_t max_entries, size_t max_bytes);

    Entry* find_locked(const char* key, size_t len, uint64_t hash);
    void touch_locked(Entry* e);
    // Takes a leaf out of every list and adds it to *freed (chained by hash_next).
    void remove_leaf_locked(Entry* e, Entry** freed);
    void remove_subtree_locked(Entry* top, Entry** freed);
    // Evicts leaves until `size` more bytes and one more entry fit; false when it cannot.
    bool make_room_locked(size_t size, Entry** freed);
    static void free_entries(Entry* freed);

    Spinlock m_lock{LockRank::Dcache};
    // Guarded by m_lock (m_generation is also read without it, atomically).
    Entry** const m_buckets;
    const uint32_t m_bucket_count;  // a power of two
    Entry* m_lru_head = nullptr;    // most recently used
    Entry* m_lru_tail = nullptr;
    uint32_t m_count = 0;
    size_t m_bytes = 0;
    uint64_t m_generation = 0;
    const uint32_t m_max_entries;
    const size_t m_max_bytes;
};

}  // namespace carbyne::libos::fs
