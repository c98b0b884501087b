// The dentry tree (dentry.h).
#include "dentry.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>

#include "path.h"

namespace carbyne::libos::fs {

struct Dentry {
    Dentry* parent;    // holds a reference on it; nullptr for the root
    char* name;        // the last component; "" for the root
    uint32_t refs;     // holders, and one per child (in the tree or deleted)
    bool deleted;      // unlinked: out of its parent's list, its name kept for its path
    Dentry* children;  // the names in the tree below it
    Dentry* sibling;
};

namespace {

constinit Spinlock g_lock{LockRank::Dentries};
char g_root_name[1] = "";
constinit Dentry g_root = {nullptr, g_root_name, 1, false, nullptr, nullptr};
size_t g_count;

// The next component of a clean path at *p ("/a/b": "a", then "b"); false at the end.
bool next_component(const char** p, const char** name, size_t* len) {
    while (**p == '/')
        (*p)++;
    if (!**p)
        return false;
    *name = *p;
    while (**p && **p != '/')
        (*p)++;
    *len = size_t(*p - *name);
    return true;
}

Dentry* find_child_locked(Dentry* parent, const char* name, size_t len) {
    for (Dentry* c = parent->children; c; c = c->sibling)
        if (strlen(c->name) == len && !memcmp(c->name, name, len))
            return c;
    return nullptr;
}

void attach_locked(Dentry* parent, Dentry* d) {
    d->sibling = parent->children;
    parent->children = d;
}

void detach_locked(Dentry* d) {
    for (Dentry** link = &d->parent->children; *link; link = &(*link)->sibling) {
        if (*link == d) {
            *link = d->sibling;
            d->sibling = nullptr;
            return;
        }
    }
}

// Frees `d` and then each parent left with no reference.
void release_locked(Dentry* d) {
    while (d != &g_root && d->refs == 0) {
        Dentry* parent = d->parent;
        if (!d->deleted)
            detach_locked(d);
        kfree(d->name);
        kfree(d);
        g_count--;
        parent->refs--;
        d = parent;
    }
}

char* copy_name(const char* name, size_t len) {
    char* s = static_cast<char*>(kmalloc(len + 1));
    if (s) {
        memcpy(s, name, len);
        s[len] = '\0';
    }
    return s;
}

// The dentry of `path` (clean, absolute) if it is in the tree.
Dentry* lookup_locked(const char* path) {
    Dentry* cur = &g_root;
    const char *p = path, *name;
    size_t len;
    while (cur && next_component(&p, &name, &len))
        cur = find_child_locked(cur, name, len);
    return cur;
}

// The dentry of the first `size` bytes of `path`, made where missing, with one more
// reference; nullptr when out of memory (nothing is left made).
Dentry* get_locked(const char* path, size_t size) {
    Dentry* cur = &g_root;
    const char *p = path, *name;
    size_t len;
    while (size_t(p - path) < size && next_component(&p, &name, &len)) {
        Dentry* child = find_child_locked(cur, name, len);
        if (!child) {
            child = static_cast<Dentry*>(kzalloc(sizeof(Dentry)));
            char* copy = child ? copy_name(name, len) : nullptr;
            if (!copy) {
                kfree(child);
                release_locked(cur);
                return nullptr;
            }
            child->name = copy;
            child->parent = cur;
            cur->refs++;
            attach_locked(cur, child);
            g_count++;
        }
        cur = child;
    }
    cur->refs++;
    return cur;
}

void mark_deleted_locked(Dentry* d) {
    if (d == &g_root || d->deleted)
        return;
    detach_locked(d);
    d->deleted = true;
}

// Where a dentry goes: its new parent (with the reference it will hold) and name.
struct Place {
    Dentry* parent;
    char* name;
};

// Makes the place of `to`; false when out of memory.
bool make_place_locked(const char* to, Place* out) {
    const char* base = path_basename(to);
    out->name = copy_name(base, strlen(base));
    if (!out->name)
        return false;
    out->parent = get_locked(to, path_dirname_size(to));
    if (!out->parent) {
        kfree(out->name);
        return false;
    }
    return true;
}

// Moves `d` (out of its parent's list) to `place`.
void move_locked(Dentry* d, const Place& place) {
    Dentry* old = d->parent;
    d->parent = place.parent;
    kfree(d->name);
    d->name = place.name;
    attach_locked(place.parent, d);
    old->refs--;
    release_locked(old);
}

}  // namespace

Dentry* dentry_get(const char* clean_path) {
    SpinGuard g(g_lock);
    return get_locked(clean_path, strlen(clean_path));
}

Dentry* dentry_find(const char* clean_path) {
    SpinGuard g(g_lock);
    Dentry* d = lookup_locked(clean_path);
    if (d)
        d->refs++;
    return d;
}

Dentry* dentry_parent(Dentry* d) {
    SpinGuard g(g_lock);
    Dentry* p = d->parent;
    if (p)
        p->refs++;
    return p;
}

Dentry* dentry_ref(Dentry* d) {
    SpinGuard g(g_lock);
    d->refs++;
    return d;
}

void dentry_put(Dentry* d) {
    if (!d)
        return;
    SpinGuard g(g_lock);
    d->refs--;
    release_locked(d);
}

Result<size_t> dentry_path(const Dentry* d, char* buf, size_t size, bool* deleted) {
    SpinGuard g(g_lock);
    if (deleted)
        *deleted = d->deleted;
    if (d == &g_root) {
        if (size < 2)
            return Errno(ENAMETOOLONG);
        buf[0] = '/';
        buf[1] = '\0';
        return size_t(1);
    }
    size_t total = 0;
    for (const Dentry* p = d; p != &g_root; p = p->parent)
        total += 1 + strlen(p->name);
    if (total + 1 > size)
        return Errno(ENAMETOOLONG);
    size_t end = total;
    buf[end] = '\0';
    for (const Dentry* p = d; p != &g_root; p = p->parent) {
        size_t n = strlen(p->name);
        end -= n;
        memcpy(buf + end, p->name, n);
        buf[--end] = '/';
    }
    return total;
}

bool dentry_deleted(const Dentry* d) {
    SpinGuard g(g_lock);
    return d->deleted;
}

Result<void> dentry_renamed(const char* from, const char* to) {
    SpinGuard g(g_lock);
    Dentry* d = lookup_locked(from);
    Dentry* target = lookup_locked(to);
    if (d == target)
        return {};  // the same name, or two names of one file: nothing moves
    if (target)
        mark_deleted_locked(target);  // replaced: its holders keep the file, not the name
    if (!d)
        return {};
    detach_locked(d);
    Place place;
    if (!make_place_locked(to, &place)) {
        d->deleted = true;  // out of the tree, as a deleted one is
        return Errno(ENOMEM);
    }
    move_locked(d, place);
    return {};
}

Result<void> dentry_exchanged(const char* a, const char* b) {
    SpinGuard g(g_lock);
    Dentry* da = lookup_locked(a);
    Dentry* db = lookup_locked(b);
    if (da == db)
        return {};
    Place to_b = {}, to_a = {};
    bool ok = (!da || make_place_locked(b, &to_b)) && (!db || make_place_locked(a, &to_a));
    if (!ok) {
        // The places made are let go; both dentries leave the tree.
        Place* made[] = {&to_b, &to_a};
        for (Place* p : made) {
            if (p->parent) {
                kfree(p->name);
                p->parent->refs--;
                release_locked(p->parent);
            }
        }
        if (da)
            mark_deleted_locked(da);
        if (db)
            mark_deleted_locked(db);
        return Errno(ENOMEM);
    }
    if (da)
        detach_locked(da);
    if (db)
        detach_locked(db);
    if (da)
        move_locked(da, to_b);
    if (db)
        move_locked(db, to_a);
    return {};
}

void dentry_removed(const char* path) {
    SpinGuard g(g_lock);
    if (Dentry* d = lookup_locked(path))
        mark_deleted_locked(d);
}

size_t dentry_count() {
    SpinGuard g(g_lock);
    return g_count;
}

}  // namespace carbyne::libos::fs
