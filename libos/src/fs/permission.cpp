// File permission checks against the LibOS's credentials (see permission.h).
#include "permission.h"

#include <linux/stat.h>

#include "../proc/process.h"
#include "file.h"

namespace carbyne::libos::fs {

Attrs attrs_of(const Stat& st) { return Attrs{st.mode, st.uid, st.gid}; }

namespace {

// Set only by the leader's service thread, which has no LibOS thread of its own: the other
// threads never see it.
bool g_creator_set;
uint32_t g_creator_uid, g_creator_gid;

}  // namespace

void creator_override_set(uint32_t uid, uint32_t gid) {
    g_creator_uid = uid;
    g_creator_gid = gid;
    g_creator_set = true;
}

void creator_override_clear() { g_creator_set = false; }

void creator_ids(uint32_t* uid, uint32_t* gid) {
    if (g_creator_set && !current_thread()) {
        *uid = g_creator_uid;
        *gid = g_creator_gid;
        return;
    }
    Credentials c = process_creds();
    *uid = c.uid.fs;
    *gid = c.gid.fs;
}

FsIds::FsIds(uint32_t uid, uint32_t gid, GroupList* list)
    : m_uid(uid), m_gid(gid), m_groups(nullptr), m_group_count(0), m_list(list) {
    if (list) {
        m_groups = list->gids();
        m_group_count = list->count();
    }
}

FsIds FsIds::current() {
    Credentials c = process_creds();
    // An id of 0 never asks about groups: no reference taken on the common path.
    return FsIds(c.uid.fs, c.gid.fs, c.uid.fs == 0 ? nullptr : process_groups());
}

FsIds FsIds::real() {
    Credentials c = process_creds();
    return FsIds(c.uid.real, c.gid.real, c.uid.real == 0 ? nullptr : process_groups());
}

FsIds::FsIds(FsIds&& other)
    : m_uid(other.m_uid), m_gid(other.m_gid), m_groups(other.m_groups), m_group_count(other.m_group_count),
      m_list(other.m_list) {
    other.m_list = nullptr;
}

FsIds::~FsIds() {
    if (m_list)
        m_list->unref();
}

bool FsIds::in_group(uint32_t gid) const {
    if (gid == m_gid)
        return true;
    // The list is sorted (GroupList::sort): a binary search.
    uint32_t lo = 0, hi = m_group_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m_groups[mid] == gid)
            return true;
        if (m_groups[mid] < gid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

Result<void> check_permission(const FsIds& who, const Attrs& a, uint32_t mask) {
    mask &= kMayRead | kMayWrite | kMayExec;
    if (who.privileged()) {
        // CAP_DAC_OVERRIDE: everything, except executing a file without any x bit.
        bool dir = (a.mode & S_IFMT) == S_IFDIR;
        if ((mask & kMayExec) && !dir && !(a.mode & 0111))
            return Errno(EACCES);
        return {};
    }
    // Only the first class that matches counts: an owner without a bit is refused it
    // even when the group or others have it.
    uint32_t granted = a.mode & 7;
    if (who.uid() == a.uid)
        granted = (a.mode >> 6) & 7;
    else if (who.in_group(a.gid))
        granted = (a.mode >> 3) & 7;
    if ((mask & granted) != mask)
        return Errno(EACCES);
    return {};
}

bool owner_or_privileged(const FsIds& who, const Attrs& a) { return who.privileged() || who.uid() == a.uid; }

Result<void> check_create_in(const FsIds& who, const Attrs& dir) {
    return check_permission(who, dir, kMayWrite | kMayExec);
}

Result<void> check_delete_from(const FsIds& who, const Attrs& dir, const Attrs& victim) {
    TRY(check_permission(who, dir, kMayWrite | kMayExec));
    if ((dir.mode & S_ISVTX) && who.uid() != dir.uid && !owner_or_privileged(who, victim))
        return Errno(EPERM);
    return {};
}

uint32_t chmod_mode(const FsIds& who, const Attrs& a, uint32_t mode) {
    if ((mode & S_ISGID) && !who.privileged() && !who.in_group(a.gid))
        mode &= ~uint32_t(S_ISGID);
    return mode;
}

Result<void> check_chown(const FsIds& who, const Attrs& a, uint32_t uid, uint32_t gid) {
    if (who.privileged())
        return {};
    bool owner = who.uid() == a.uid;
    if (uid != ~0u && !(owner && uid == a.uid))
        return Errno(EPERM);
    if (gid != ~0u && !(owner && (gid == a.gid || who.in_group(gid))))
        return Errno(EPERM);
    return {};
}

Result<void> check_utimes(const FsIds& who, const Attrs& a, bool to_now) {
    if (owner_or_privileged(who, a))
        return {};
    if (!to_now)
        return Errno(EPERM);
    return check_permission(who, a, kMayWrite);
}

}  // namespace carbyne::libos::fs
