// Credentials of the process (credentials(7)): real, effective, saved set and file-system
// user and group ids, and the supplementary groups, with Linux's rules for changing them.
// They are the LibOS's own: the host process keeps its identity, and the host checks file
// access on chroot mounts with its own rights. Privilege is an effective uid of 0 (what
// CAP_SETUID, CAP_SETGID and CAP_SYS_RESOURCE follow when no capability is set by hand).
//
// The rules below are pure: they change a copy that process_change_creds() (process.h)
// commits under g_process.lock.
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos {

inline constexpr uint32_t kIdUnchanged = ~uint32_t{0};  // (uid_t)-1: "leave as it is"
inline constexpr int kNgroupsMax = 65536;                // NGROUPS_MAX

// One kind of id (user or group), as Linux keeps it.
struct IdSet {
    uint32_t real, effective, saved, fs;

    bool holds(uint32_t id) const { return id == real || id == effective || id == saved; }
};

// Capability numbers (capability.h) the LibOS checks by name.
inline constexpr int kCapSysModule = 16, kCapSysRawio = 17, kCapSysPacct = 20, kCapSysBoot = 22,
                     kCapSysTime = 25, kCapSysTtyConfig = 26, kCapMknod = 27, kCapWakeAlarm = 35;
inline constexpr int kCapLastCap = 40;  // CAP_CHECKPOINT_RESTORE, Linux 5.9+

// The capabilities the instance's root holds (its bounding set): all but those that
// administer the host itself (kernel modules, raw I/O ports, process accounting, reboot and
// kexec, the system clock, TTY configuration, device nodes, wake alarms), which no process
// of the instance may use, as in a container's bounding set. Any other uid holds none.
inline constexpr uint64_t kCapBounding =
    ((uint64_t(1) << (kCapLastCap + 1)) - 1) &
    ~((uint64_t(1) << kCapSysModule) | (uint64_t(1) << kCapSysRawio) | (uint64_t(1) << kCapSysPacct) |
      (uint64_t(1) << kCapSysBoot) | (uint64_t(1) << kCapSysTime) | (uint64_t(1) << kCapSysTtyConfig) |
      (uint64_t(1) << kCapMknod) | (uint64_t(1) << kCapWakeAlarm));

struct Credentials {
    IdSet uid, gid;

    bool privileged() const { return uid.effective == 0; }
    // The effective (and permitted) capability set.
    uint64_t capabilities() const { return privileged() ? kCapBounding : 0; }
    bool capable(int cap) const { return (capabilities() >> cap) & 1; }
};

// setuid(2), setgid(2): everything when privileged, else only the effective (and fs) id, to
// the real or saved one.
inline Result<void> ids_set(IdSet& ids, uint32_t id, bool privileged) {
    if (id == kIdUnchanged)
        return Errno(EINVAL);
    if (privileged)
        ids.real = ids.saved = id;
    else if (id != ids.real && id != ids.saved)
        return Errno(EPERM);
    ids.effective = ids.fs = id;
    return {};
}

// setreuid(2), setregid(2): the real id may become the real or effective one, the effective
// id any of the three; the saved id follows a changed real id or an effective id that is
// set apart from the real one.
inline Result<void> ids_set_re(IdSet& ids, uint32_t real, uint32_t effective, bool privileged) {
    IdSet old = ids;
    if (real != kIdUnchanged) {
        if (!privileged && real != old.real && real != old.effective)
            return Errno(EPERM);
        ids.real = real;
    }
    if (effective != kIdUnchanged) {
        if (!privileged && !old.holds(effective))
            return Errno(EPERM);
        ids.effective = effective;
    }
    if (real != kIdUnchanged || (effective != kIdUnchanged && effective != old.real))
        ids.saved = ids.effective;
    ids.fs = ids.effective;
    return {};
}

// setresuid(2), setresgid(2): unprivileged, each new id must be one of the current three.
// A call that changes nothing leaves even the fs id alone, as Linux's shortcut does.
inline Result<void> ids_set_res(IdSet& ids, uint32_t real, uint32_t effective, uint32_t saved,
                                bool privileged) {
    IdSet old = ids;
    if ((real == kIdUnchanged || real == old.real) &&
        (effective == kIdUnchanged || (effective == old.effective && effective == old.fs)) &&
        (saved == kIdUnchanged || saved == old.saved))
        return {};
    const uint32_t wanted[] = {real, effective, saved};
    for (uint32_t id : wanted) {
        if (id != kIdUnchanged && !privileged && !old.holds(id))
            return Errno(EPERM);
    }
    if (real != kIdUnchanged)
        ids.real = real;
    if (effective != kIdUnchanged)
        ids.effective = effective;
    if (saved != kIdUnchanged)
        ids.saved = saved;
    ids.fs = ids.effective;
    return {};
}

// setfsuid(2), setfsgid(2): never fails; the caller learns the previous fs id, and whether
// it changed only by asking again. -1 changes nothing (the usual way to ask).
inline uint32_t ids_set_fs(IdSet& ids, uint32_t fs, bool privileged) {
    uint32_t old = ids.fs;
    if (fs != kIdUnchanged && (privileged || ids.holds(fs) || fs == ids.fs))
        ids.fs = fs;
    return old;
}

// The supplementary groups, sorted as Linux keeps them. A list is never changed once
// published (setgroups replaces the whole list), so readers hold a counted reference and
// copy it to the application without the process lock.
class GroupList {
public:
    // A list of `count` ids for the caller to fill (and sort) before publishing it, with one
    // reference; nullptr when out of memory.
    static GroupList* create(uint32_t count);
    // A list that is never freed, over storage that outlives it (the start-up list).
    constexpr GroupList(uint32_t* gids, uint32_t count) : m_refs(0), m_count(count), m_gids(gids) {}

    void ref();
    void unref();
    void sort();
    uint32_t count() const { return m_count; }
    uint32_t* gids() { return m_gids; }
    const uint32_t* gids() const { return m_gids; }

private:
    uint32_t m_refs;  // 0: a static list, never freed
    uint32_t m_count;
    uint32_t* m_gids;
};

}  // namespace carbyne::libos
