// set_mempolicy, get_mempolicy, mbind, set_mempolicy_home_node, migrate_pages, move_pages:
// NUMA memory policies on a machine of one node (node 0), as Linux keeps them there. The
// policies are recorded and reported (per thread, per range); with one node every page is
// where any policy would put it.
#include <libos/user.h>

#include "../mm/mm.h"
#include "../proc/process.h"
#include "../proc/thread.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

enum : int { kDefault = 0, kPreferred = 1, kBind = 2, kInterleave = 3, kLocal = 4, kPreferredMany = 5,
             kWeightedInterleave = 6, kModeMax = 7 };
constexpr uint32_t kFlagStatic = 1u << 15, kFlagRelative = 1u << 14, kFlagBalancing = 1u << 13;
constexpr uint32_t kModeFlags = kFlagStatic | kFlagRelative | kFlagBalancing;
constexpr uint32_t kGetNode = 1, kGetAddr = 2, kGetMemsAllowed = 4;  // MPOL_F_*
constexpr uint32_t kMfStrict = 1, kMfMove = 2, kMfMoveAll = 4;       // MPOL_MF_*
constexpr uint64_t kMaxNumnodes = 1024;  // CONFIG_NODES_SHIFT 10
constexpr uint64_t kPageBits = 4096 * 8;

// A policy as stored: the mode, its flags, and whether the nodes given held node 0.
constexpr uint32_t kSet = 1u << 31, kNode0 = 1u << 16;
uint32_t encode(int mode, uint32_t flags, bool node0) {
    return kSet | uint32_t(mode) | ((flags & kModeFlags) >> 5) | (node0 ? kNode0 : 0);
}
int mode_of(uint32_t p) { return p ? int(p & 0xff) : kDefault; }
uint32_t flags_of(uint32_t p) { return (p << 5) & kModeFlags; }

// get_nodes: the node mask argument (maxnode - 1 bits, as Linux reads it). Only node 0
// exists; a bit past the mask Linux knows must be clear.
Result<bool> read_nodes(uint64_t user, uint64_t maxnode, bool* any) {
    *any = false;
    if (maxnode)
        maxnode--;
    if (!maxnode || !user)
        return false;
    if (maxnode > kPageBits)
        return Errno(EINVAL);
    uint64_t words = (maxnode + 63) / 64;
    bool node0 = false;
    for (uint64_t w = 0; w < words; w++) {
        uint64_t bits = TRY(UserPtr<uint64_t>(user + w * 8).read());
        uint64_t valid = w * 64 + 64 <= maxnode ? ~uint64_t(0) : (uint64_t(1) << (maxnode % 64)) - 1;
        bits &= valid;
        if (w * 64 >= kMaxNumnodes && bits)
            return Errno(EINVAL);
        if (w == 0)
            node0 = bits & 1;
        *any |= bits != 0;
    }
    return node0;
}

// sanitize_mpol_flags and mpol_new with mpol_set_nodemask, for one node: the policy to
// store (0 for MPOL_DEFAULT), or EINVAL.
Result<uint32_t> new_policy(uint32_t arg, uint64_t nodes, uint64_t maxnode) {
    uint32_t flags = arg & kModeFlags;
    int mode = int(arg & ~kModeFlags);
    if (uint32_t(mode) >= kModeMax)
        return Errno(EINVAL);
    if ((flags & kFlagStatic) && (flags & kFlagRelative))
        return Errno(EINVAL);
    if ((flags & kFlagBalancing) && mode != kBind && mode != kPreferredMany)
        return Errno(EINVAL);
    bool any;
    bool node0 = TRY(read_nodes(nodes, maxnode, &any));
    if (mode == kDefault) {
        if (any)
            return Errno(EINVAL);
        return uint32_t(0);
    }
    if (mode == kPreferred && !any) {
        if (flags & (kFlagStatic | kFlagRelative))
            return Errno(EINVAL);
        mode = kLocal;
    } else if (mode == kLocal) {
        if (any || (flags & (kFlagStatic | kFlagRelative)))
            return Errno(EINVAL);
    } else if (!any) {
        return Errno(EINVAL);
    }
    // The nodes that exist among those given: node 0, or (relative) the first one.
    if (mode != kLocal && !node0 && !(flags & kFlagRelative))
        return Errno(EINVAL);
    return encode(mode, flags, node0 || (flags & kFlagRelative));
}

// copy_nodes_to_user: node 0's bit, the rest of the caller's mask cleared.
Result<void> write_nodes(uint64_t user, uint64_t maxnode, bool node0) {
    uint64_t bytes = ((maxnode - 1 + 63) / 64) * 8;
    if (bytes > 4096)
        return Errno(EINVAL);
    if (bytes > 8)
        TRY(clear_user(user + 8, bytes - 8));
    uint64_t first = node0 ? 1 : 0;
    return copy_to_user(user, &first, bytes < 8 ? bytes : 8);
}

// The nodes a policy reports: none for the default and local ones.
bool policy_nodes(uint32_t p) {
    int mode = mode_of(p);
    if (mode == kDefault || mode == kLocal)
        return false;
    return (flags_of(p) & (kFlagStatic | kFlagRelative)) ? (p & kNode0) != 0 : true;
}

Thread* self() { return current_thread(); }

// The range of mbind and set_mempolicy_home_node: a page-aligned start (EINVAL), the length
// rounded up to pages, no wrap (EINVAL). Its length, 0 for nothing to do.
Result<uint64_t> page_range(uint64_t start, uint64_t len) {
    if (start & 4095)
        return Errno(EINVAL);
    len = (len + 4095) & ~uint64_t(4095);
    if (start + len < start)
        return Errno(EINVAL);
    return len;
}

}  // namespace

Result<long> sys_set_mempolicy(const SyscallArgs& a) {
    uint32_t p = TRY(new_policy(a.u32(0), a.u64(1), a.u64(2)));
    SpinGuard g(g_process.lock);
    self()->attrs.mempolicy = p;
    return 0;
}

Result<long> sys_get_mempolicy(const SyscallArgs& a) {
    uint64_t user_mode = a.u64(0), nmask = a.u64(1), maxnode = a.u64(2), addr = a.u64(3);
    uint32_t flags = a.u32(4);
    if (nmask && maxnode < 1)
        return Errno(EINVAL);  // fewer bits than nodes (nr_node_ids: 1)
    if (flags & ~(kGetNode | kGetAddr | kGetMemsAllowed))
        return Errno(EINVAL);
    int mode = 0;
    bool node0 = false;
    if (flags & kGetMemsAllowed) {
        if (flags & (kGetNode | kGetAddr))
            return Errno(EINVAL);
        node0 = true;
    } else {
        uint32_t p;
        if (flags & kGetAddr) {
            p = TRY(mm::policy_at(addr));
        } else {
            if (addr)
                return Errno(EINVAL);
            SpinGuard g(g_process.lock);
            p = self()->attrs.mempolicy;
        }
        if (flags & kGetNode) {
            if (!(flags & kGetAddr) && mode_of(p) != kInterleave)
                return Errno(EINVAL);
            mode = 0;  // the node of the page, or the next interleave node: node 0
        } else {
            mode = mode_of(p) | int(flags_of(p));
        }
        node0 = policy_nodes(p);
    }
    if (user_mode)
        TRY(UserPtr<int>(user_mode).write(mode));
    if (nmask)
        TRY(write_nodes(nmask, maxnode, node0));
    return 0;
}

Result<long> sys_mbind(const SyscallArgs& a) {
    uint64_t start = a.u64(0), len = a.u64(1);
    uint32_t flags = a.u32(5);
    uint32_t arg = a.u32(2);
    // sanitize_mpol_flags and get_nodes come before do_mbind's checks.
    if (uint32_t(arg & ~kModeFlags) >= kModeMax || ((arg & kFlagStatic) && (arg & kFlagRelative)))
        return Errno(EINVAL);
    bool any;
    TRY(read_nodes(a.u64(3), a.u64(4), &any));
    if (flags & ~(kMfStrict | kMfMove | kMfMoveAll))
        return Errno(EINVAL);
    if ((flags & kMfMoveAll) && !process_creds().privileged())
        return Errno(EPERM);
    len = TRY(page_range(start, len));
    if (!len)
        return 0;
    uint32_t p = TRY(new_policy(arg, a.u64(3), a.u64(4)));
    TRY(mm::set_policy(start, len, p));
    return 0;
}

Result<long> sys_set_mempolicy_home_node(const SyscallArgs& a) {
    uint64_t start = a.u64(0), len = a.u64(1), home = a.u64(2);
    if (home >= kMaxNumnodes || home != 0)
        return Errno(EINVAL);  // node 0 is the only one online
    if (a.u64(3))
        return Errno(EINVAL);
    len = TRY(page_range(start, len));
    if (!len)
        return 0;
    // Only MPOL_BIND and MPOL_PREFERRED_MANY take a home node; one node is home already.
    TRY(mm::check_policies(start, len, [](uint32_t p) { return mode_of(p) == kBind || mode_of(p) == kPreferredMany; }));
    return 0;
}

// migrate_pages: every page is on node 0, the only one; nothing moves.
Result<long> sys_migrate_pages(const SyscallArgs& a) {
    int pid = a.i32(0);
    bool any;
    bool old0 = TRY(read_nodes(a.u64(2), a.u64(1), &any));
    bool new0 = TRY(read_nodes(a.u64(3), a.u64(1), &any));
    (void)old0;
    if (pid < 0 || (pid && pid != g_process.pid))
        return Errno(ESRCH);
    if (any && !new0)
        return Errno(EINVAL);  // a node that has no memory
    return 0;
}

// move_pages: each page's node (0), -EFAULT where nothing is mapped, -ENOENT where the page
// is not present; a move to node 0 is where it is, to any other node -ENODEV.
Result<long> sys_move_pages(const SyscallArgs& a) {
    int pid = a.i32(0);
    uint64_t count = a.u64(1), pages = a.u64(2), nodes = a.u64(3), status = a.u64(4);
    uint32_t flags = a.u32(5);
    if (flags & ~(kMfMove | kMfMoveAll))
        return Errno(EINVAL);
    if ((flags & kMfMoveAll) && !process_creds().privileged())
        return Errno(EPERM);
    if (pid < 0 || (pid && pid != g_process.pid))
        return Errno(ESRCH);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t page = TRY(UserPtr<uint64_t>(pages + i * 8).read()) & ~uint64_t(4095);
        if (nodes) {
            int node = TRY(UserPtr<int>(nodes + i * 4).read());
            if (node < 0 || uint64_t(node) >= kMaxNumnodes)
                return Errno(EINVAL);
            if (node != 0)
                return Errno(ENODEV);
        }
        int result = 0;
        uint8_t present = 0;
        if (!mm::policy_at(page).ok())
            result = -EFAULT;
        else if (!mm::residency(page, 4096, &present).ok() || !(present & 1))
            result = -ENOENT;
        TRY(UserPtr<int>(status + i * 4).write(result));
    }
    return 0;
}

}  // namespace carbyne::libos
