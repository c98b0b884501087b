// inotify (inotify(7)): watches on files and directories, held by their dentries (so a
// watch follows its object through renames), and the events the LibOS's own operations
// make on them, on every mount: what the instance does is what it sees. Changes made to a
// chroot mount's host directory by host processes outside the instance are not seen.
//
// The VFS and the system calls report what they did through the notify_* calls below; each
// costs one atomic load while no watch exists anywhere.
//
// Lock order: one lock for every instance's watches and queue (LockRank::Inotify), taken
// after the dentry lookups and before the dentry lock (a watch removed drops its dentry).
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

#include "file.h"

namespace carbyne::libos::fs {

struct Dentry;

// The limits (/proc/sys/fs/inotify shows them).
inline constexpr size_t kInotifyMaxQueuedEvents = 16384;  // max_queued_events
inline constexpr int kInotifyMaxWatches = 65536;          // max_user_watches
inline constexpr int kInotifyMaxInstances = 128;          // max_user_instances

// inotify_init1(2): flags are IN_NONBLOCK and IN_CLOEXEC (the caller handles the latter).
Result<File*> inotify_create(uint32_t flags);
// inotify_add_watch(2) on the object of `d`; returns the wd.
// EINVAL when `f` is not an inotify file or the mask has no event, EEXIST (IN_MASK_CREATE
// on a watched object), ENOSPC past the watch limit.
Result<int> inotify_add_watch(File* f, Dentry* d, uint32_t mask);
// inotify_rm_watch(2): EINVAL for a wd this instance does not have.
Result<void> inotify_rm_watch(File* f, int wd);

// What happened, for the watches: `mask` is one IN_* event; `is_dir` adds IN_ISDIR.
// On the object named by a clean absolute path (its parent's watches see `name`).
void notify_path(const char* path, uint32_t mask, bool is_dir, uint32_t cookie = 0);
// On an open file (nothing for a file opened with O_PATH or without a name).
void notify_file(File* f, uint32_t mask);
// A rename: IN_MOVED_FROM and IN_MOVED_TO with one cookie, IN_MOVE_SELF on the object.
// Called before the dentries move (`from` still names the object).
void notify_rename(const char* from, const char* to, bool is_dir);
// An unlink or rmdir: IN_DELETE to the parent's watches, IN_DELETE_SELF and IN_IGNORED to
// the object's (whose watches end). Called before the dentry is marked removed.
void notify_removed(const char* path, bool is_dir);

}  // namespace carbyne::libos::fs
