// Dentries: the LibOS's names for the objects it holds by name. Each open file reached by a
// path, each directory that is a working directory, a root or the program's executable
// holds a reference to the dentry of its path; a dentry holds its parent, so the tree has
// exactly the names held and the directories above them. The namespace operations tell the
// tree what they changed: a rename moves a dentry (and with it every name below), an
// unlink or rmdir marks it deleted and takes it out of the tree, so that a new file of the
// same name gets a dentry of its own. A holder asks its dentry for its path when it needs
// one, and always gets the current one.
//
// FIXME: the walk itself still goes by path strings (vfs.cpp) and the file systems' own
// objects (tmpfs nodes, the chroot dentry cache) are looked up by path from a dentry's;
// a walk over dentries that carry their inodes is the next step.
//
// Lock order: one lock for the tree (LockRank::Dentries), a leaf but for the heap.
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos::fs {

struct Dentry;

// The dentry of a clean absolute LibOS path, made with its parents where missing, with one
// reference for the caller; nullptr when out of memory.
Dentry* dentry_get(const char* clean_path);
Dentry* dentry_ref(Dentry* d);
void dentry_put(Dentry* d);
// The dentry of `clean_path` if the tree has it (someone holds it or a name below it), with
// a reference; nullptr otherwise. Makes nothing.
Dentry* dentry_find(const char* clean_path);
// The directory `d` is in (a removed one keeps the one it was removed from), with a
// reference; nullptr for the root.
Dentry* dentry_parent(Dentry* d);

// The dentry's current path into buf (NUL-terminated); ENAMETOOLONG when it does not fit.
// *deleted: the name was unlinked (a directory removed), as Linux's " (deleted)".
Result<size_t> dentry_path(const Dentry* d, char* buf, size_t size, bool* deleted);
bool dentry_deleted(const Dentry* d);

// What the namespace operations changed (clean absolute paths, after the file system did
// it). A rename replaces `to` (deleted) and moves `from` there; an exchange swaps them.
// ENOMEM when the new place cannot be made: the dentry is then marked deleted.
Result<void> dentry_renamed(const char* from, const char* to);
Result<void> dentry_exchanged(const char* a, const char* b);
void dentry_removed(const char* path);

// For tests: dentries alive (the root is not counted).
size_t dentry_count();

}  // namespace carbyne::libos::fs
