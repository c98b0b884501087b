// getuid, geteuid, getgid, getegid, setuid, setgid, setreuid, setregid, setresuid,
// setresgid, getresuid, getresgid, setfsuid, setfsgid, getgroups, setgroups
#include <libos/user.h>

#include "../proc/creds.h"
#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

// The set*id calls differ in the ids they change (user or group) and the rule.
template <typename F>
Result<long> change_uids(F&& rule) {
    TRY(process_change_creds([&](Credentials& c) { return rule(c.uid, c.privileged()); }));
    return 0;
}

template <typename F>
Result<long> change_gids(F&& rule) {
    TRY(process_change_creds([&](Credentials& c) { return rule(c.gid, c.privileged()); }));
    return 0;
}

Result<long> put_ids(const SyscallArgs& a, uint32_t real, uint32_t effective, uint32_t saved) {
    TRY(UserPtr<uint32_t>(a.u64(0)).write(real));
    TRY(UserPtr<uint32_t>(a.u64(1)).write(effective));
    TRY(UserPtr<uint32_t>(a.u64(2)).write(saved));
    return 0;
}

// Drops a reference to a group list when the scope ends.
class GroupListRef {
public:
    explicit GroupListRef(GroupList* list) : m_list(list) {}
    ~GroupListRef() {
        if (m_list)
            m_list->unref();
    }
    GroupListRef(const GroupListRef&) = delete;
    GroupListRef& operator=(const GroupListRef&) = delete;
    GroupList* get() const { return m_list; }
    GroupList* release() {
        GroupList* list = m_list;
        m_list = nullptr;
        return list;
    }

private:
    GroupList* m_list;
};

}  // namespace

Result<long> sys_getuid(const SyscallArgs&) { return long(process_creds().uid.real); }
Result<long> sys_geteuid(const SyscallArgs&) { return long(process_creds().uid.effective); }
Result<long> sys_getgid(const SyscallArgs&) { return long(process_creds().gid.real); }
Result<long> sys_getegid(const SyscallArgs&) { return long(process_creds().gid.effective); }

Result<long> sys_setuid(const SyscallArgs& a) {
    return change_uids([&](IdSet& ids, bool priv) { return ids_set(ids, a.u32(0), priv); });
}

Result<long> sys_setgid(const SyscallArgs& a) {
    return change_gids([&](IdSet& ids, bool priv) { return ids_set(ids, a.u32(0), priv); });
}

Result<long> sys_setreuid(const SyscallArgs& a) {
    return change_uids([&](IdSet& ids, bool priv) { return ids_set_re(ids, a.u32(0), a.u32(1), priv); });
}

Result<long> sys_setregid(const SyscallArgs& a) {
    return change_gids([&](IdSet& ids, bool priv) { return ids_set_re(ids, a.u32(0), a.u32(1), priv); });
}

Result<long> sys_setresuid(const SyscallArgs& a) {
    return change_uids(
        [&](IdSet& ids, bool priv) { return ids_set_res(ids, a.u32(0), a.u32(1), a.u32(2), priv); });
}

Result<long> sys_setresgid(const SyscallArgs& a) {
    return change_gids(
        [&](IdSet& ids, bool priv) { return ids_set_res(ids, a.u32(0), a.u32(1), a.u32(2), priv); });
}

Result<long> sys_getresuid(const SyscallArgs& a) {
    Credentials c = process_creds();
    return put_ids(a, c.uid.real, c.uid.effective, c.uid.saved);
}

Result<long> sys_getresgid(const SyscallArgs& a) {
    Credentials c = process_creds();
    return put_ids(a, c.gid.real, c.gid.effective, c.gid.saved);
}

Result<long> sys_setfsuid(const SyscallArgs& a) {
    uint32_t old = 0;
    (void)process_change_creds([&](Credentials& c) -> Result<void> {
        old = ids_set_fs(c.uid, a.u32(0), c.privileged());
        return {};
    });
    return long(old);
}

Result<long> sys_setfsgid(const SyscallArgs& a) {
    uint32_t old = 0;
    (void)process_change_creds([&](Credentials& c) -> Result<void> {
        old = ids_set_fs(c.gid, a.u32(0), c.privileged());
        return {};
    });
    return long(old);
}

Result<long> sys_getgroups(const SyscallArgs& a) {
    int size = a.i32(0);
    if (size < 0)
        return Errno(EINVAL);
    GroupListRef groups(process_groups());
    uint32_t count = groups.get()->count();
    if (size > 0 && count > 0) {
        if (count > uint32_t(size))
            return Errno(EINVAL);
        TRY(copy_to_user(a.u64(1), groups.get()->gids(), count * sizeof(uint32_t)));
    }
    return long(count);
}

Result<long> sys_setgroups(const SyscallArgs& a) {
    // Linux's order: privilege, then size, then the list itself.
    if (!process_creds().privileged())
        return Errno(EPERM);
    uint32_t count = a.u32(0);
    if (count > uint32_t(kNgroupsMax))
        return Errno(EINVAL);
    GroupListRef groups(GroupList::create(count));
    if (!groups.get())
        return Errno(ENOMEM);
    if (count)
        TRY(copy_from_user(groups.get()->gids(), a.u64(1), count * sizeof(uint32_t)));
    for (uint32_t i = 0; i < count; i++) {
        if (groups.get()->gids()[i] == kIdUnchanged)
            return Errno(EINVAL);  // (gid_t)-1 is no group
    }
    groups.get()->sort();
    TRY(process_set_groups(groups.release()));
    return 0;
}

namespace {

constexpr uint32_t kCapVersion1 = 0x19980330, kCapVersion2 = 0x20071026, kCapVersion3 = 0x20080522;

struct CapHeader {
    uint32_t version;
    int32_t pid;
};
struct CapData {
    uint32_t effective, permitted, inheritable;
};

// The capability sets of the credentials (creds.h: the bounding set for an id of 0, none
// for any other), as a process without file capabilities sees them.
void caps_of(const Credentials& c, CapData out[2]) {
    uint64_t caps = c.capabilities();
    out[0] = {uint32_t(caps), uint32_t(caps), 0};
    out[1] = {uint32_t(caps >> 32), uint32_t(caps >> 32), 0};
}

// The header's version: the number of data structs it takes, or EINVAL after writing the
// preferred version back (how libcap probes).
Result<int> cap_header(uint64_t user_header, int32_t* pid) {
    CapHeader h;
    TRY(copy_from_user(&h, user_header, sizeof(h)));
    if (h.version != kCapVersion1 && h.version != kCapVersion2 && h.version != kCapVersion3) {
        h.version = kCapVersion3;
        TRY(copy_to_user(user_header, &h, sizeof(h)));
        return Errno(EINVAL);
    }
    if (h.pid < 0)
        return Errno(EINVAL);
    if (h.pid != 0 && h.pid != g_process.pid)
        return Errno(ESRCH);  // one process for now
    *pid = h.pid;
    return h.version == kCapVersion1 ? 1 : 2;
}

}  // namespace

Result<long> sys_capget(const SyscallArgs& a) {
    int32_t pid;
    int count = TRY(cap_header(a.u64(0), &pid));
    if (!a.u64(1))
        return 0;  // a version probe
    CapData data[2];
    caps_of(process_creds(), data);
    TRY(copy_to_user(a.u64(1), data, sizeof(CapData) * size_t(count)));
    return 0;
}

// capset: the sets a process holds follow from its uid here, so a change to them is
// refused (EPERM), while asking for the sets it already holds succeeds.
Result<long> sys_capset(const SyscallArgs& a) {
    int32_t pid;
    int count = TRY(cap_header(a.u64(0), &pid));
    if (pid != 0 && pid != g_process.pid)
        return Errno(EPERM);
    CapData want[2] = {}, have[2];
    TRY(copy_from_user(want, a.u64(1), sizeof(CapData) * size_t(count)));
    caps_of(process_creds(), have);
    for (int i = 0; i < count; i++)
        if (want[i].effective != have[i].effective || want[i].permitted != have[i].permitted ||
            want[i].inheritable != have[i].inheritable)
            return Errno(EPERM);
    return 0;
}

Result<long> sys_personality(const SyscallArgs& a) {
    uint32_t persona = a.u32(0);
    if (persona == 0xffffffffu)
        return long(__atomic_load_n(&g_process.persona, __ATOMIC_RELAXED));
    return long(__atomic_exchange_n(&g_process.persona, persona, __ATOMIC_RELAXED));
}

}  // namespace carbyne::libos
