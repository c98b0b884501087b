// The sandbox's Landlock part: it confines the PAL's host process to the manifest's chroot
// mounts, and its TCP sockets to the ports net.allow names, before the first application
// instruction (sys.sandbox, on by default). An application that finds a `syscall` instruction in the PAL text and jumps to
// it passes the seccomp guard (seccomp.cpp: the instruction is the PAL's), but the host
// kernel still lets it open nothing outside the mounts, and nothing for writing in a
// read-only one. Descriptors opened before (the console, the log file, the boot config) are
// not affected; O_PATH opens never are, so mount roots may still be opened later.
#include <asm/stat.h>
#include <asm/unistd.h>
#include <linux/fcntl.h>
#include <linux/prctl.h>
#include <linux/stat.h>

#include <carbyne/boot_config.h>

#include "pal_internal.h"

namespace carbyne::pal {

namespace {

// <linux/landlock.h> of Debian 12 stops at ABI 2; the rest are the kernel's values.
constexpr uint64_t kExecute = 1ull << 0, kWriteFile = 1ull << 1, kReadFile = 1ull << 2, kReadDir = 1ull << 3,
                   kRemoveDir = 1ull << 4, kRemoveFile = 1ull << 5, kMakeChar = 1ull << 6, kMakeDir = 1ull << 7,
                   kMakeReg = 1ull << 8, kMakeSock = 1ull << 9, kMakeFifo = 1ull << 10, kMakeBlock = 1ull << 11,
                   kMakeSym = 1ull << 12, kRefer = 1ull << 13, kTruncate = 1ull << 14, kIoctlDev = 1ull << 15;
constexpr uint64_t kScopeAbstractUnix = 1ull << 0, kScopeSignal = 1ull << 1;
constexpr uint64_t kNetBindTcp = 1ull << 0, kNetConnectTcp = 1ull << 1;  // ABI 4
constexpr long kCreateRulesetVersion = 1;
constexpr long kRulePathBeneath = 1, kRuleNetPort = 2;

struct RulesetAttr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;  // ABI 6
};

struct __attribute__((packed)) PathBeneathAttr {
    uint64_t allowed_access;
    int32_t parent_fd;
};

struct NetPortAttr {
    uint64_t allowed_access;
    uint64_t port;
};

// The TCP ports net.allow lets sockets bind to and connect to (Landlock knows ports, not
// addresses: the LibOS checks those). `limited` is false when every port is allowed: that
// access is then left unhandled.
struct PortSet {
    uint64_t bits[65536 / 64];
    bool limited;

    void add(uint32_t lo, uint32_t hi) {
        for (uint32_t p = lo; p <= hi; p++)
            bits[p / 64] |= 1ull << (p % 64);
    }
    bool has(uint32_t p) const { return (bits[p / 64] >> (p % 64)) & 1; }
    bool all() const {
        for (uint64_t w : bits)
            if (w != ~0ull)
                return false;
        return true;
    }
};
constinit PortSet g_bind_ports = {}, g_connect_ports = {};

// net.allow's TCP ports; false when the manifest has no net.allow (every port allowed).
bool read_net_allow() {
    boot::Reader reader(g_pal.boot_config, g_pal.boot_config_size);
    boot::Record r;
    bool present = false;
    while (reader.next(&r)) {
        boot::NetAllowRule rule;
        if (r.tag == boot::Tag::NetAllow)
            present = true;
        if (r.tag != boot::Tag::NetAllowRule || !boot::decode_net_allow_rule(r, &rule) ||
            rule.proto == boot::NetProto::Udp)
            continue;
        (rule.op == boot::NetOp::Bind ? g_bind_ports : g_connect_ports).add(rule.port_min, rule.port_max);
    }
    g_bind_ports.limited = present && !g_bind_ports.all();
    g_connect_ports.limited = present && !g_connect_ports.all();
    return present;
}

void allow_ports(int ruleset, const PortSet& ports, uint64_t access) {
    if (!ports.limited)
        return;
    for (uint32_t p = 0; p < 65536; p++) {
        if (!ports.has(p))
            continue;
        NetPortAttr rule = {access, p};
        long ret = host_syscall4(__NR_landlock_add_rule, ruleset, kRuleNetPort, long(&rule), 0);
        if (host_failed(ret))
            pal_die("sandbox: Landlock refused the rule for TCP port %u (error %ld)", p, -ret);
    }
}

// The file-system rights Landlock knows at `abi`: all of them are handled, so that what no
// rule grants is denied.
uint64_t handled_rights(long abi) {
    uint64_t rights = kExecute | kWriteFile | kReadFile | kReadDir | kRemoveDir | kRemoveFile | kMakeChar |
                      kMakeDir | kMakeReg | kMakeSock | kMakeFifo | kMakeBlock | kMakeSym;
    if (abi >= 2)
        rights |= kRefer;
    if (abi >= 3)
        rights |= kTruncate;
    if (abi >= 5)
        rights |= kIoctlDev;
    return rights;
}

// The rights that apply to a file rather than a directory (a mount of one file).
constexpr uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
constexpr uint64_t kReadOnlyRights = kExecute | kReadFile | kReadDir;

// Grants `rights` beneath the host path of one chroot mount.
void allow_beneath(int ruleset, const char* host_path, uint64_t rights) {
    long fd = host_syscall4(__NR_openat, AT_FDCWD, long(host_path), O_PATH | O_CLOEXEC, 0);
    if (host_failed(fd))
        pal_die("sandbox: cannot open the mount %s (error %ld)", host_path, -fd);
    struct stat st;
    if (host_failed(host_syscall2(__NR_fstat, fd, long(&st))))
        pal_die("sandbox: cannot stat the mount %s", host_path);
    if ((st.st_mode & S_IFMT) != S_IFDIR)
        rights &= kFileRights;
    PathBeneathAttr rule = {rights, int32_t(fd)};
    long ret = host_syscall4(__NR_landlock_add_rule, ruleset, kRulePathBeneath, long(&rule), 0);
    host_syscall1(__NR_close, fd);
    if (host_failed(ret))
        pal_die("sandbox: Landlock refused the rule for %s (error %ld)", host_path, -ret);
}

}  // namespace

void confine_to_mounts() {
    long abi = host_syscall3(__NR_landlock_create_ruleset, 0, 0, kCreateRulesetVersion);
    if (host_failed(abi) || abi < 1)
        pal_die("sandbox: the host kernel has no Landlock (error %ld), which the sandbox needs; "
                "set sys.sandbox = false in the manifest to run without it",
                host_failed(abi) ? -abi : 0);
    uint64_t handled = handled_rights(abi);
    // TCP ports from ABI 4 on; with an older kernel the LibOS's net.allow checks alone hold.
    uint64_t net = 0;
    if (abi >= 4 && read_net_allow())
        net = (g_bind_ports.limited ? kNetBindTcp : 0) | (g_connect_ports.limited ? kNetConnectTcp : 0);
    RulesetAttr attr = {handled, net, abi >= 6 ? kScopeAbstractUnix | kScopeSignal : 0};
    long ruleset = host_syscall3(__NR_landlock_create_ruleset, long(&attr), sizeof(attr), 0);
    if (host_failed(ruleset))
        pal_die("sandbox: cannot create a Landlock ruleset (error %ld)", -ruleset);

    boot::Reader reader(g_pal.boot_config, g_pal.boot_config_size);
    boot::Record r;
    while (reader.next(&r)) {
        boot::MountView m;
        if (r.tag != boot::Tag::Mount || !boot::decode_mount(r, &m) || m.type != boot::MountType::Chroot)
            continue;
        allow_beneath(int(ruleset), m.uri, (m.flags & boot::kMountReadOnly) ? kReadOnlyRights : handled);
    }
    // New processes of the instance: carbyne-pal is executed, libos.so read (process.cpp).
    if (g_pal.self_path)
        allow_beneath(int(ruleset), g_pal.self_path, kExecute | kReadFile);
    if (g_pal.libos_path)
        allow_beneath(int(ruleset), g_pal.libos_path, kReadFile);
    if (net & kNetBindTcp)
        allow_ports(int(ruleset), g_bind_ports, kNetBindTcp);
    if (net & kNetConnectTcp)
        allow_ports(int(ruleset), g_connect_ports, kNetConnectTcp);
    // Landlock needs no_new_privs without privileges; the PAL never gains any by exec.
    long ret = host_syscall5(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (!host_failed(ret))
        ret = host_syscall2(__NR_landlock_restrict_self, ruleset, 0);
    host_syscall1(__NR_close, ruleset);
    if (host_failed(ret))
        pal_die("sandbox: cannot confine the process with Landlock (error %ld)", -ret);
}

}  // namespace carbyne::pal
