// Mode "sandbox": the boot config asks for the sandbox and mounts <scratch>/sandbox/ro
// read-only and <scratch>/sandbox/rw read-write (run-pal-test). With interception on, this
// object plays a hostile application: it finds a `syscall; ret` in the PAL text and jumps
// there with openat(2), which the seccomp guard lets through (the instruction is the PAL's,
// and openat is a call the PAL makes).
// The host kernel must still refuse everything outside the mounts, and writing in the
// read-only one: Landlock, set up by the PAL before interception went on. The PAL's own
// path calls are held to the same bounds.
#include <asm/unistd.h>
#include <linux/fcntl.h>

#include "pal_test.h"

namespace pal_test {

namespace {

constexpr long kEacces = -13;

// The first `syscall; ret` (0f 05 c3) in the PAL image.
uint64_t find_pal_gadget() {
    const auto* p = reinterpret_cast<const uint8_t*>(g_info->pal_start);
    size_t size = g_info->pal_end - g_info->pal_start;
    for (size_t i = 0; i + 3 <= size; i++)
        if (p[i] == 0x0f && p[i + 1] == 0x05 && p[i + 2] == 0xc3)
            return g_info->pal_start + i;
    return 0;
}

// System call `nr` made from the PAL's instruction `gadget`.
long jump(uint64_t gadget, long nr, long a0, long a1, long a2) {
    static uint64_t pad[512];
    for (uint64_t& slot : pad)
        slot = uint64_t(pal_test_jump_landing);
    return pal_test_jump(gadget, nr, uint64_t(&pad[256]), a0, a1, a2);
}

// Interception on, as the LibOS has it when the application runs; the PAL's gadget, or 0
// after a FAIL line for `mode`.
uint64_t play_hostile(const char* mode) {
    if (g_api->enable_syscall_interception(pal_test_syscall_upcall) != PAL_OK) {
        log_line("FAIL %s: enable_syscall_interception", mode);
        return 0;
    }
    uint64_t gadget = find_pal_gadget();
    if (!gadget)
        log_line("FAIL %s: no `syscall; ret` in the PAL text", mode);
    return gadget;
}

// One open from the PAL's instruction and what it must give: a descriptor, or EACCES.
void expect_jump(uint64_t gadget, const char* name, const char* rel, long flags, bool allowed) {
    Check c(name);
    char path[512];
    scratch_path(path, sizeof(path), rel);
    // openat: a call the PAL makes, so the allow-list lets it through and Landlock decides.
    long r = jump(gadget, __NR_openat, AT_FDCWD, long(path), flags);
    if (allowed)
        c.expect(r >= 0, "open(%s, %#lx) from the PAL text: %ld, expected a descriptor", rel, flags, r);
    else
        c.expect(r == kEacces, "open(%s, %#lx) from the PAL text: %ld, expected EACCES (-13)", rel, flags, r);
    if (r >= 0)
        jump(gadget, __NR_close, r, 0, 0);
}

// stream_open beneath a root opened on a host directory of the scratch.
void expect_pal(const char* name, const char* dir, const char* file, uint32_t access, bool allowed) {
    Check c(name);
    char path[512];
    scratch_path(path, sizeof(path), dir);
    PalHandle* root = nullptr;
    if (!c.expect_ok(g_api->fs_root_open(path, &root), "fs_root_open (O_PATH: allowed anywhere)"))
        return;
    PalHandle* h = nullptr;
    PalError e = g_api->stream_open(root, file, access, 0644, &h);
    if (allowed)
        c.expect_ok(e, "stream_open");
    else
        c.expect_error(e, PAL_E_DENIED, "stream_open");
    if (h)
        g_api->stream_close(h);
    g_api->stream_close(root);
}

}  // namespace

// A TCP socket to 127.0.0.1:port, bound (bind) or connected (connect), from the PAL's
// instruction; the call's result.
long jump_tcp(uint64_t gadget, long nr, uint64_t port) {
    constexpr long kAfInet = 2, kSockStream = 1;
    long s = jump(gadget, __NR_socket, kAfInet, kSockStream, 0);
    if (s < 0)
        return s;
    struct {
        uint16_t family, port_be;
        uint8_t addr[4];
        uint8_t zero[8];
    } sa = {uint16_t(kAfInet), uint16_t((port >> 8) | ((port & 0xff) << 8)), {127, 0, 0, 1}, {}};
    long r = jump(gadget, nr, s, long(&sa), sizeof(sa));
    jump(gadget, __NR_close, s, 0, 0);
    return r;
}

void run_sandbox_checks(const char* const* args) {
    const char* outside_pid = args ? args[0] : nullptr;
    uint64_t gadget = play_hostile("sandbox");
    if (!gadget)
        return;
    expect_jump(gadget, "sandbox-jump-read-outside", "sandbox/outside/file", O_RDONLY, false);
    expect_jump(gadget, "sandbox-jump-create-outside", "sandbox/outside/made", O_WRONLY | O_CREAT, false);
    expect_jump(gadget, "sandbox-jump-read-ro", "sandbox/ro/file", O_RDONLY, true);
    expect_jump(gadget, "sandbox-jump-write-ro", "sandbox/ro/file", O_WRONLY, false);
    expect_jump(gadget, "sandbox-jump-create-ro", "sandbox/ro/made", O_WRONLY | O_CREAT, false);
    expect_jump(gadget, "sandbox-jump-read-rw", "sandbox/rw/file", O_RDONLY, true);
    expect_jump(gadget, "sandbox-jump-create-rw", "sandbox/rw/made", O_WRONLY | O_CREAT, true);
    {
        // A host directory outside the mounts, or in the read-only one, is never made.
        const char* dirs[] = {"sandbox/outside/made-dir", "sandbox/ro/made-dir"};
        const char* names[] = {"sandbox-jump-mkdir-outside", "sandbox-jump-mkdir-ro"};
        for (int i = 0; i < 2; i++) {
            Check c(names[i]);
            char path[512];
            scratch_path(path, sizeof(path), dirs[i]);
            long r = jump(gadget, __NR_mkdirat, AT_FDCWD, long(path), 0755);
            c.expect(r == kEacces, "mkdirat(%s) from the PAL text: %ld, expected EACCES (-13)", dirs[i], r);
        }
    }
    expect_pal("sandbox-pal-read-outside", "sandbox/outside", "file", PAL_ACCESS_RDONLY, false);
    expect_pal("sandbox-pal-read-ro", "sandbox/ro", "file", PAL_ACCESS_RDONLY, true);
    expect_pal("sandbox-pal-create-rw", "sandbox/rw", "made2", PAL_ACCESS_WRONLY | PAL_OPEN_CREATE, true);
    {
        // Landlock's signal scope (ABI 6): kill, a call the PAL makes, reaches no process
        // outside the sandbox. Signal 0 only asks whether it could.
        Check c("sandbox-jump-kill-outside");
        constexpr long kLandlockCreateRulesetVersion = 1;
        long abi = jump(gadget, __NR_landlock_create_ruleset, 0, 0, kLandlockCreateRulesetVersion);
        uint64_t pid = 0;
        if (!outside_pid || !carbyne::parse_u64(outside_pid, &pid) || pid == 0) {
            c.expect(false, "no outside pid in argv[3]");
        } else if (abi < 6) {
            c.skip("Landlock ABI %ld has no signal scope (ABI 6)", abi);
        } else {
            long r = jump(gadget, __NR_kill, long(pid), 0, 0);
            c.expect(r == -1 /* -EPERM */, "kill(%lu, 0) from the PAL text: %ld, expected EPERM (-1)", pid, r);
        }
        // Landlock's TCP rules (ABI 4) from net.allow: ports only.
        Check t("sandbox-jump-tcp-ports");
        uint64_t ports[4] = {};
        bool parsed = args != nullptr;
        for (int i = 0; parsed && i < 4; i++)
            parsed = carbyne::parse_u64(args[1 + i], &ports[i]) && ports[i] > 0 && ports[i] < 65536;
        if (!parsed) {
            t.expect(false, "no ports in argv[4..7]");
        } else if (abi < 4) {
            t.skip("Landlock ABI %ld has no TCP rules (ABI 4)", abi);
        } else {
            long r = jump_tcp(gadget, __NR_connect, ports[0]);
            t.expect(r == 0, "connect to allowed port %lu: %ld, expected 0", ports[0], r);
            r = jump_tcp(gadget, __NR_connect, ports[1]);
            t.expect(r == kEacces, "connect to port %lu: %ld, expected EACCES (-13)", ports[1], r);
            r = jump_tcp(gadget, __NR_bind, ports[2]);
            t.expect(r == 0, "bind to allowed port %lu: %ld, expected 0", ports[2], r);
            r = jump_tcp(gadget, __NR_bind, ports[3]);
            t.expect(r == kEacces, "bind to port %lu: %ld, expected EACCES (-13)", ports[3], r);
        }
    }
}

void run_sandbox_allow_list() {
    uint64_t gadget = play_hostile("sandbox-allow-list");
    if (!gadget)
        return;
    constexpr long kPtraceTraceme = 0;
    long r = jump(gadget, __NR_ptrace, kPtraceTraceme, 0, 0);
    log_line("FAIL sandbox-allow-list: ptrace from the PAL text reached the host (returned %ld)", r);
}

}  // namespace pal_test
