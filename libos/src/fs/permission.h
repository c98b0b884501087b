// File permission checks: Linux's generic_permission and the rules built on it (may_open,
// may_lookup, may_create, may_delete with the sticky bit, inode_owner_or_capable), decided
// by the LibOS's own credentials. The host process keeps its identity (often root), so the
// host's checks on a chroot mount are no guard: the VFS asks these first.
//
// Who asks is the file-system uid and gid with the supplementary groups (the real ids for
// access(2)). An id of 0 holds the file capabilities Linux gives it (CAP_DAC_OVERRIDE,
// CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_CHOWN, CAP_FSETID): it may read and write anything,
// search any directory, and execute a file that has at least one x bit.
//
// The decisions are pure functions of an FsIds and the Attrs of the files involved. The
// VFS asks them in Linux's order among its other checks (vfs.cpp); the path walk asks
// search permission of every directory it looks a name up in, cached ones too (dcache.h
// keeps a directory's mode and owners).
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos {
class GroupList;
}

namespace carbyne::libos::fs {

struct Stat;

// What is asked of a file (MAY_EXEC, MAY_WRITE, MAY_READ): also access(2)'s X_OK, W_OK, R_OK.
enum : uint32_t { kMayExec = 1, kMayWrite = 2, kMayRead = 4 };

// What a decision needs of a file: its type and mode bits, its owner and group.
struct Attrs {
    uint32_t mode, uid, gid;
};
Attrs attrs_of(const Stat& st);

// The ids one system call checks with.
class FsIds {
public:
    // The file-system uid and gid, as every file operation uses them.
    static FsIds current();
    // The real uid and gid: access(2) and faccessat(2) without AT_EACCESS.
    static FsIds real();
    ~FsIds();
    FsIds(FsIds&& other);
    FsIds(const FsIds&) = delete;
    FsIds& operator=(const FsIds&) = delete;
    FsIds& operator=(FsIds&&) = delete;

    uint32_t uid() const { return m_uid; }
    uint32_t gid() const { return m_gid; }
    // An id of 0: the file capabilities (see above).
    bool privileged() const { return m_uid == 0; }
    // in_group_p: the fs gid or one of the supplementary groups.
    bool in_group(uint32_t gid) const;

private:
    // Takes the reference to `list` (the supplementary groups, sorted); nullptr for an id
    // of 0, which never asks about groups.
    FsIds(uint32_t uid, uint32_t gid, GroupList* list);

    uint32_t m_uid, m_gid;
    const uint32_t* m_groups;
    uint32_t m_group_count;
    GroupList* m_list;
};

// The owner a new file gets: the caller's file-system ids; on the leader's service thread
// making a file for another process (fs/remote.h), that process's, as set around the call.
void creator_ids(uint32_t* uid, uint32_t* gid);
void creator_override_set(uint32_t uid, uint32_t gid);
void creator_override_clear();

// generic_permission: EACCES unless `who` may do all that `mask` (kMay*) asks of `a`.
Result<void> check_permission(const FsIds& who, const Attrs& a, uint32_t mask);

// inode_owner_or_capable: the owner, or an id with CAP_FOWNER.
bool owner_or_privileged(const FsIds& who, const Attrs& a);

// may_create's permission part: write and search permission on the directory.
Result<void> check_create_in(const FsIds& who, const Attrs& dir);

// may_delete's permission part, for removing (or renaming away, or over) `victim` from
// `dir`: EACCES without write and search permission on the directory, then EPERM when the
// directory is sticky and `who` owns neither it nor the victim (check_sticky).
Result<void> check_delete_from(const FsIds& who, const Attrs& dir, const Attrs& victim);

// The mode chmod(2) sets: S_ISGID goes when the file's group is not one of the caller's
// (and the caller lacks CAP_FSETID), as in Linux's setattr_should_drop_sgid.
uint32_t chmod_mode(const FsIds& who, const Attrs& a, uint32_t mode);

// chown(2)'s rule (chown_ok / chgrp_ok): EPERM unless privileged, or the owner leaving the
// owner as it is and setting the group to one of its own. ~0u is "unchanged".
Result<void> check_chown(const FsIds& who, const Attrs& a, uint32_t uid, uint32_t gid);

// utimensat(2)'s rule: setting both times to now needs ownership or write permission
// (EACCES), any other change ownership (EPERM). `to_now` is true for the first case.
Result<void> check_utimes(const FsIds& who, const Attrs& a, bool to_now);

}  // namespace carbyne::libos::fs
