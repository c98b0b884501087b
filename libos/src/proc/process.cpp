// The process object: working directory, credentials and resource limits.
#include "process.h"
#include "../ipc/checkpoint.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <linux/resource.h>

#include "../fs/dentry.h"

namespace carbyne::libos {

constinit Process g_process{};

Result<bool> process_get_cwd(char* out) {
    bool deleted = false;
    SpinGuard g(g_process.lock);
    if (!g_process.cwd) {
        strlcpy(out, "/", fs::kPathMax);  // before start-up set it
        return false;
    }
    TRY(fs::dentry_path(g_process.cwd, out, fs::kPathMax, &deleted));
    return deleted;
}

Result<void> process_set_exe(const char* path, const char* started_as) {
    fs::Dentry* d = fs::dentry_get(path);
    if (!d)
        return Errno(ENOMEM);
    fs::Dentry* old;
    {
        SpinGuard g(g_process.lock);
        old = g_process.exe;
        g_process.exe = d;
        strlcpy(g_process.comm, fs::path_basename(started_as), sizeof(g_process.comm));
    }
    fs::dentry_put(old);
    return {};
}

Result<bool> process_exe_path(char* out) {
    bool deleted = false;
    SpinGuard g(g_process.lock);
    if (!g_process.exe)
        return Errno(ENOENT);
    TRY(fs::dentry_path(g_process.exe, out, fs::kPathMax, &deleted));
    return deleted;
}

Result<void> process_set_cwd(const char* path) {
    fs::Dentry* d = fs::dentry_get(path);
    if (!d)
        return Errno(ENOMEM);
    process_set_cwd_dentry(d);
    return {};
}

void process_set_cwd_dentry(fs::Dentry* d) {
    fs::Dentry* old;
    {
        SpinGuard g(g_process.lock);
        old = g_process.cwd;
        g_process.cwd = d;
    }
    fs::dentry_put(old);
}

namespace {

// The supplementary groups until the first setgroups: the start gid alone.
uint32_t g_start_gid;
constinit GroupList g_start_groups(&g_start_gid, 1);

// The limits the LibOS starts with: its real ones (the manifest's stack and brk sizes),
// Linux's for descriptors, RLIMIT_CORE 0 (it writes no core dumps), Linux's default
// RLIMIT_NICE and RLIMIT_RTPRIO of 0, which setpriority and sched_setscheduler follow
// (sys/sched.cpp), and RLIM_INFINITY where it has no limit.
ResourceLimit start_limit(int resource) {
    constexpr uint64_t kInf = kRlimitInfinity;
    switch (resource) {
    case RLIMIT_NOFILE: return {uint64_t(kNofileSoft), uint64_t(kNofileHard)};
    case RLIMIT_STACK: return {g_process.stack_size, kInf};
    case RLIMIT_DATA: return {g_process.brk_max_size, g_process.brk_max_size};
    case RLIMIT_CORE:
    case RLIMIT_NICE:
    case RLIMIT_RTPRIO: return {0, 0};
    default: return {kInf, kInf};
    }
}

// Gives the credentials and limits their start values on first use, from the ids and sizes
// libos_init (entry/init.cpp) set before the first application instruction; the caller
// holds g_process.lock.
void identity_ready_locked() {
    Process& p = g_process;
    if (p.identity_ready)
        return;
    p.creds.uid = IdSet{p.uid, p.uid, p.uid, p.uid};
    p.creds.gid = IdSet{p.gid, p.gid, p.gid, p.gid};
    g_start_gid = p.gid;
    p.groups = &g_start_groups;
    for (int r = 0; r < kNumResourceLimits; r++)
        p.limits[r] = start_limit(r);
    p.identity_ready = true;
}

}  // namespace

GroupList* GroupList::create(uint32_t count) {
    void* block = kmalloc(sizeof(GroupList) + size_t{count} * sizeof(uint32_t));
    if (!block)
        return nullptr;
    auto* gids = reinterpret_cast<uint32_t*>(static_cast<GroupList*>(block) + 1);
    auto* list = new (block) GroupList(gids, count);
    list->m_refs = 1;
    return list;
}

void GroupList::ref() {
    if (m_refs)
        __atomic_add_fetch(&m_refs, 1, __ATOMIC_RELAXED);
}

void GroupList::unref() {
    if (m_refs && __atomic_sub_fetch(&m_refs, 1, __ATOMIC_ACQ_REL) == 0)
        kfree(this);
}

// Heapsort: setgroups may hand over 65536 ids, too many for a quadratic sort.
void GroupList::sort() {
    uint32_t* a = m_gids;
    auto sift_down = [a](uint32_t root, uint32_t end) {
        while (2 * root + 1 < end) {
            uint32_t child = 2 * root + 1;
            if (child + 1 < end && a[child] < a[child + 1])
                child++;
            if (a[root] >= a[child])
                return;
            uint32_t t = a[root];
            a[root] = a[child];
            a[child] = t;
            root = child;
        }
    };
    for (uint32_t i = m_count / 2; i-- > 0;)
        sift_down(i, m_count);
    for (uint32_t end = m_count; end > 1; end--) {
        uint32_t t = a[0];
        a[0] = a[end - 1];
        a[end - 1] = t;
        sift_down(0, end - 1);
    }
}

Credentials process_creds() {
    SpinGuard g(g_process.lock);
    return process_creds_locked();
}

Credentials& process_creds_locked() {
    identity_ready_locked();
    return g_process.creds;
}

void process_set_creds_locked(const Credentials& creds) {
    identity_ready_locked();
    g_process.creds = creds;
    __atomic_store_n(&g_process.uid, creds.uid.effective, __ATOMIC_RELAXED);
    __atomic_store_n(&g_process.gid, creds.gid.effective, __ATOMIC_RELAXED);
}

GroupList* process_groups() {
    SpinGuard g(g_process.lock);
    identity_ready_locked();
    g_process.groups->ref();
    return g_process.groups;
}

Result<void> process_set_groups(GroupList* groups) {
    bool privileged;
    {
        SpinGuard g(g_process.lock);
        identity_ready_locked();
        privileged = g_process.creds.privileged();  // CAP_SETGID
        if (privileged) {
            GroupList* old = g_process.groups;
            g_process.groups = groups;
            groups = old;
        }
    }
    groups->unref();  // the replaced list, or the refused one
    if (!privileged)
        return Errno(EPERM);
    return {};
}

ResourceLimit process_rlimit(int resource) {
    SpinGuard g(g_process.lock);
    identity_ready_locked();
    return g_process.limits[resource];
}

Result<ResourceLimit> process_set_rlimit(int resource, const ResourceLimit& want) {
    if (want.cur > want.max)
        return Errno(EINVAL);
    if (resource == RLIMIT_NOFILE && want.max > uint64_t(kNrOpen))
        return Errno(EPERM);  // fs.nr_open
    SpinGuard g(g_process.lock);
    identity_ready_locked();
    ResourceLimit& limit = g_process.limits[resource];
    if (want.max > limit.max && !g_process.creds.privileged())  // CAP_SYS_RESOURCE
        return Errno(EPERM);
    ResourceLimit old = limit;
    limit = want;
    if (resource == RLIMIT_NOFILE)
        g_process.fds.set_limit(int(want.cur));
    return old;
}

void process_identity_save(ckpt::Encoder& out) {
    Credentials creds;
    ResourceLimit limits[kNumResourceLimits];
    GroupList* groups;
    {
        SpinGuard g(g_process.lock);
        identity_ready_locked();
        creds = g_process.creds;
        memcpy(limits, g_process.limits, sizeof(limits));
        groups = g_process.groups;
        groups->ref();
    }
    out.put(&creds, sizeof(creds));
    out.put(limits, sizeof(limits));
    out.bytes(groups->gids(), groups->count() * sizeof(uint32_t));
    groups->unref();
}

Result<void> process_identity_restore(ckpt::Decoder& in) {
    Credentials creds;
    ResourceLimit limits[kNumResourceLimits];
    const uint8_t* gids;
    size_t size;
    if (!in.get(&creds, sizeof(creds)) || !in.get(limits, sizeof(limits)) ||
        !in.bytes(&gids, &size, 65536 * sizeof(uint32_t)) || size % sizeof(uint32_t))
        return Errno(EINVAL);
    GroupList* groups = GroupList::create(uint32_t(size / sizeof(uint32_t)));
    if (!groups)
        return Errno(ENOMEM);
    memcpy(groups->gids(), gids, size);
    GroupList* old;
    {
        SpinGuard g(g_process.lock);
        identity_ready_locked();
        process_set_creds_locked(creds);
        memcpy(g_process.limits, limits, sizeof(limits));
        old = g_process.groups;
        g_process.groups = groups;
    }
    old->unref();
    g_process.fds.set_limit(int(limits[RLIMIT_NOFILE].cur > uint64_t(kNrOpen) ? kNrOpen : limits[RLIMIT_NOFILE].cur));
    return {};
}

}  // namespace carbyne::libos
