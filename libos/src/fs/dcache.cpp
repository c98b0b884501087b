// The dentry cache structure (see dcache.h): a hash table of paths, an LRU list and a tree
// of parent and child links. Pure code, unit-tested on the host.
#include "dcache.h"

#include <carbyne/string.h>
#include <libos/heap.h>

namespace carbyne::libos::fs {

struct DentryCache::Entry {
    Entry* hash_next;
    Entry* lru_prev;
    Entry* lru_next;
    Entry* parent;
    Entry* first_child;
    Entry* sibling_prev;
    Entry* sibling_next;
    uint64_t hash;
    size_t size;  // bytes allocated, for the byte limit
    uint32_t key_len;
    uint32_t target_len;
    DentryKind kind;
    Attrs attrs;
    char data[];  // the key, NUL, then a symlink's target

    const char* target() const { return data + key_len + 1; }
};

namespace {

// Evicting looks at this many least recently used entries for a leaf before giving up.
constexpr unsigned kEvictScan = 64;

uint64_t key_hash(const char* key, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
    for (size_t i = 0; i < len; i++)
        h = (h ^ uint8_t(key[i])) * 0x100000001b3ull;
    return h;
}

// The length of the parent's key: "" for a top-level name ("a"), "a" for "a/b".
size_t parent_len(const char* key, size_t len) {
    while (len > 0 && key[len - 1] != '/')
        len--;
    return len > 0 ? len - 1 : 0;
}

}  // namespace

Result<DentryCache*> DentryCache::create(uint32_t max_entries, size_t max_bytes) {
    uint32_t buckets = 16;
    while (buckets < max_entries && buckets < (1u << 20))
        buckets *= 2;
    auto** table = static_cast<Entry**>(kzalloc(buckets * sizeof(Entry*)));
    if (!table)
        return Errno(ENOMEM);
    void* mem = kmalloc(sizeof(DentryCache));
    if (!mem) {
        kfree(table);
        return Errno(ENOMEM);
    }
    return new (mem) DentryCache(table, buckets, max_entries, max_bytes);
}

DentryCache::DentryCache(Entry** buckets, uint32_t bucket_count, uint32_t max_entries, size_t max_bytes)
    : m_buckets(buckets), m_bucket_count(bucket_count), m_max_entries(max_entries), m_max_bytes(max_bytes) {}

DentryCache::~DentryCache() {
    Entry* e = m_lru_head;
    while (e) {
        Entry* next = e->lru_next;
        kfree(e);
        e = next;
    }
    kfree(m_buckets);
}

DentryCache::Entry* DentryCache::find_locked(const char* key, size_t len, uint64_t hash) {
    for (Entry* e = m_buckets[hash & (m_bucket_count - 1)]; e; e = e->hash_next)
        if (e->hash == hash && e->key_len == len && memcmp(e->data, key, len) == 0)
            return e;
    return nullptr;
}

void DentryCache::touch_locked(Entry* e) {
    if (e == m_lru_head)
        return;
    // Unlink (it is not the head, so it has a predecessor), then put it first.
    e->lru_prev->lru_next = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        m_lru_tail = e->lru_prev;
    e->lru_prev = nullptr;
    e->lru_next = m_lru_head;
    m_lru_head->lru_prev = e;
    m_lru_head = e;
}

bool DentryCache::lookup(const char* key, DentryKind* kind, char* target, size_t target_size, size_t* target_len,
                         Attrs* attrs) {
    size_t len = strlen(key);
    uint64_t hash = key_hash(key, len);
    SpinGuard g(m_lock);
    Entry* e = find_locked(key, len, hash);
    if (!e)
        return false;
    if (e->kind == DentryKind::Symlink) {
        if (!target || e->target_len > target_size)
            return false;
        memcpy(target, e->target(), e->target_len);
        *target_len = e->target_len;
    }
    *kind = e->kind;
    if (attrs)
        *attrs = e->attrs;
    touch_locked(e);
    return true;
}

void DentryCache::remove_leaf_locked(Entry* e, Entry** freed) {
    Entry** p = &m_buckets[e->hash & (m_bucket_count - 1)];
    while (*p != e)
        p = &(*p)->hash_next;
    *p = e->hash_next;

    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        m_lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        m_lru_tail = e->lru_prev;

    if (e->sibling_prev)
        e->sibling_prev->sibling_next = e->sibling_next;
    else if (e->parent)
        e->parent->first_child = e->sibling_next;
    if (e->sibling_next)
        e->sibling_next->sibling_prev = e->sibling_prev;

    m_count--;
    m_bytes -= e->size;
    e->hash_next = *freed;
    *freed = e;
}

void DentryCache::remove_subtree_locked(Entry* top, Entry** freed) {
    // Depth first, removing each entry once its children are gone: no recursion, no stack.
    Entry* e = top;
    for (;;) {
        while (e->first_child)
            e = e->first_child;
        Entry* parent = e->parent;
        bool last = e == top;
        remove_leaf_locked(e, freed);
        if (last)
            return;
        e = parent;
    }
}

bool DentryCache::make_room_locked(size_t size, Entry** freed) {
    while (m_count + 1 > m_max_entries || m_bytes + size > m_max_bytes) {
        Entry* victim = m_lru_tail;
        unsigned scanned = 0;
        while (victim && victim->first_child && ++scanned < kEvictScan)
            victim = victim->lru_prev;
        if (!victim || victim->first_child)
            return false;
        remove_leaf_locked(victim, freed);
    }
    return true;
}

void DentryCache::free_entries(Entry* freed) {
    while (freed) {
        Entry* next = freed->hash_next;
        kfree(freed);
        freed = next;
    }
}

DentryInsert DentryCache::insert(const char* key, DentryKind kind, const char* target, size_t target_len,
                                 uint64_t gen, const Attrs& attrs) {
    size_t len = strlen(key);
    if (kind != DentryKind::Symlink)
        target_len = 0;
    if (len > UINT32_MAX / 2 || target_len > UINT32_MAX / 2)
        return DentryInsert::NoRoom;
    size_t size = sizeof(Entry) + len + 1 + target_len + 1;
    if (size > m_max_bytes)
        return DentryInsert::NoRoom;
    // Allocated before the lock is taken, freed after it is dropped when unused.
    auto* e = static_cast<Entry*>(kzalloc(size));
    if (!e)
        return DentryInsert::NoRoom;
    e->hash = key_hash(key, len);
    e->size = size;
    e->key_len = uint32_t(len);
    e->target_len = uint32_t(target_len);
    e->kind = kind;
    e->attrs = attrs;
    memcpy(e->data, key, len);
    e->data[len] = '\0';
    if (target_len)
        memcpy(e->data + len + 1, target, target_len);
    e->data[len + 1 + target_len] = '\0';
    size_t plen = parent_len(key, len);
    uint64_t phash = key_hash(key, plen);

    Entry* freed = nullptr;
    DentryInsert result = [&] {
        SpinGuard g(m_lock);
        if (m_generation != gen)
            return DentryInsert::Stale;
        if (find_locked(key, len, e->hash))
            return DentryInsert::Present;
        if (!make_room_locked(size, &freed))
            return DentryInsert::NoRoom;
        // After making room: eviction may have taken the parent (then it is missing).
        Entry* parent = nullptr;
        if (len > 0) {
            parent = find_locked(key, plen, phash);
            if (!parent || parent->kind != DentryKind::Dir)
                return DentryInsert::NoParent;
        }
        Entry** bucket = &m_buckets[e->hash & (m_bucket_count - 1)];
        e->hash_next = *bucket;
        *bucket = e;
        e->lru_next = m_lru_head;
        if (m_lru_head)
            m_lru_head->lru_prev = e;
        else
            m_lru_tail = e;
        m_lru_head = e;
        e->parent = parent;
        if (parent) {
            e->sibling_next = parent->first_child;
            if (parent->first_child)
                parent->first_child->sibling_prev = e;
            parent->first_child = e;
        }
        m_count++;
        m_bytes += size;
        return DentryInsert::Inserted;
    }();
    if (result != DentryInsert::Inserted)
        kfree(e);
    free_entries(freed);
    return result;
}

void DentryCache::forget(const char* key) {
    size_t len = strlen(key);
    uint64_t hash = key_hash(key, len);
    Entry* freed = nullptr;
    {
        SpinGuard g(m_lock);
        __atomic_store_n(&m_generation, m_generation + 1, __ATOMIC_RELEASE);
        if (Entry* e = find_locked(key, len, hash))
            remove_subtree_locked(e, &freed);
    }
    free_entries(freed);
}

uint32_t DentryCache::count() {
    SpinGuard g(m_lock);
    return m_count;
}

}  // namespace carbyne::libos::fs
