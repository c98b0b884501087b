// A stand-in for libos.so that exercises the PAL alone: carbyne-pal loads it like libos.so
// and calls libos_init, which runs named checks and exits with 1 when any failed.
//
// Boot config argv: [0] a name, [1] a scratch host directory prepared by run-pal-test,
// [2] the mode: "all" (the checks), "exit-code-7", "exit-code-7-thread", "kill-self-11",
// "process"... (run-pal-test lists them). A child of process_create runs run_process_child.
#include <asm/unistd.h>
#include <carbyne/boot_config.h>
#include <stdarg.h>

#include "pal_test.h"

extern "C" void libos_init(const PalApi* api, const PalBootInfo* info) __attribute__((visibility("default")));

namespace pal_test {

const PalApi* g_api = nullptr;
const PalBootInfo* g_info = nullptr;
const char* g_scratch = nullptr;

namespace {

constexpr size_t kMainStackSize = 1 << 20;
constexpr int kMaxArgs = 8;

int g_checks = 0;
int g_failed_checks = 0;
const char* g_argv[kMaxArgs] = {};
int g_argc = 0;

const char* const kErrorNames[] = {
    "PAL_OK", "PAL_E_NOMEM", "PAL_E_NOENT", "PAL_E_DENIED", "PAL_E_PERM", "PAL_E_EXISTS", "PAL_E_NOTDIR",
    "PAL_E_ISDIR", "PAL_E_INVAL", "PAL_E_AGAIN", "PAL_E_INTR", "PAL_E_BADHANDLE", "PAL_E_NOTEMPTY",
    "PAL_E_ROFS", "PAL_E_NOSPC", "PAL_E_NAMETOOLONG", "PAL_E_LOOP", "PAL_E_XDEV", "PAL_E_NOTSUP", "PAL_E_IO",
    "PAL_E_PIPE", "PAL_E_TIMEDOUT", "PAL_E_BUSY", "PAL_E_TOOMANY", "PAL_E_OVERFLOW", "PAL_E_FBIG",
    "PAL_E_SPIPE", "PAL_E_NOTTY", "PAL_E_TXTBSY", "PAL_E_MLINK", "PAL_E_RANGE", "PAL_E_FAULT", "PAL_E_UNKNOWN",
    "PAL_E_CONNREFUSED", "PAL_E_CONNRESET", "PAL_E_CONNABORTED", "PAL_E_ADDRINUSE", "PAL_E_ADDRNOTAVAIL",
    "PAL_E_NOTCONN", "PAL_E_ISCONN", "PAL_E_INPROGRESS", "PAL_E_ALREADY", "PAL_E_NETUNREACH", "PAL_E_HOSTUNREACH",
    "PAL_E_AFNOSUPPORT", "PAL_E_MSGSIZE", "PAL_E_NOPROTOOPT", "PAL_E_DESTADDRREQ", "PAL_E_NODATA", "PAL_E_2BIG",
};
static_assert(sizeof(kErrorNames) / sizeof(kErrorNames[0]) == PAL_E_2BIG + 1, "a PalError without a name");

void vlog_line(const char* fmt, va_list args) {
    char line[512];
    size_t n = carbyne::vformat(line, sizeof(line) - 1, fmt, args);
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    g_api->debug_log(line, n);
}

}  // namespace

Check::~Check() {
    g_checks++;
    if (m_failures) {
        g_failed_checks++;
        if (m_failures > 1)
            log_line("FAIL %s: %s (and %d more)", m_name, m_detail, m_failures - 1);
        else
            log_line("FAIL %s: %s", m_name, m_detail);
    } else if (m_skipped) {
        log_line("skip %s: %s", m_name, m_detail);
    } else {
        log_line("ok %s", m_name);
    }
}

void Check::skip(const char* fmt, ...) {
    if (m_failures || m_skipped)
        return;
    m_skipped = true;
    va_list ap;
    va_start(ap, fmt);
    carbyne::vformat(m_detail, sizeof(m_detail), fmt, ap);
    va_end(ap);
}

bool Check::expect(bool cond, const char* fmt, ...) {
    if (cond)
        return true;
    if (m_failures++ == 0) {
        va_list args;
        va_start(args, fmt);
        carbyne::vformat(m_detail, sizeof(m_detail), fmt, args);
        va_end(args);
    }
    return false;
}

bool Check::expect_ok(PalError err, const char* what) {
    return expect(err == PAL_OK, "%s: %s", what, error_name(err));
}

bool Check::expect_error(PalError err, PalError want, const char* what) {
    return expect(err == want, "%s: %s, expected %s", what, error_name(err), error_name(want));
}

void log_line(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vlog_line(fmt, args);
    va_end(args);
}

const char* error_name(PalError err) {
    size_t i = size_t(err);
    return i < sizeof(kErrorNames) / sizeof(kErrorNames[0]) ? kErrorNames[i] : "(not a PalError)";
}

const char* scratch_path(char* buf, size_t size, const char* name) {
    carbyne::format(buf, size, "%s/%s", g_scratch, name);
    return buf;
}

uint64_t monotonic_ns() {
    uint64_t ns = 0;
    g_api->time_get(PAL_CLOCK_MONOTONIC, &ns);
    return ns;
}

bool wait_for_word(const volatile int32_t* word, int32_t want) {
    uint64_t deadline = monotonic_ns() + kWaitLimitNs;
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != want) {
        if (monotonic_ns() > deadline)
            return false;
        g_api->thread_yield();
        g_api->sleep(kMsec, nullptr);
    }
    return true;
}

PalHandle* scratch_root() {
    static PalHandle* root;
    if (!root && g_api->fs_root_open(g_scratch, &root) != PAL_OK)
        root = nullptr;
    return root;
}

int host_fd_count(bool* has_std) {
    PalHandle* proc_fd = nullptr;
    PalHandle* dir = nullptr;
    if (g_api->fs_root_open("/proc/self/fd", &proc_fd) != PAL_OK)
        return -1;
    PalError opened = g_api->stream_open(proc_fd, "", PAL_ACCESS_RDONLY | PAL_OPEN_DIRECTORY, 0, &dir);
    g_api->stream_close(proc_fd);
    if (opened != PAL_OK)
        return -1;
    alignas(8) uint8_t buf[2048];
    int count = 0, std_fds = 0;
    size_t done = 0;
    while (g_api->dir_read(dir, 0, buf, sizeof(buf), &done) == PAL_OK && done > 0) {
        for (size_t pos = 0; pos < done;) {
            const auto* d = reinterpret_cast<const PalDirent*>(buf + pos);
            if (d->size == 0)
                break;
            if (d->name[0] != '.') {
                count++;
                std_fds += carbyne::str_equal(d->name, "0") || carbyne::str_equal(d->name, "1") ||
                           carbyne::str_equal(d->name, "2");
            }
            pos += d->size;
        }
    }
    g_api->stream_close(dir);
    *has_std = std_fds == 3;
    return count - 1;
}

void* alloc_pages(size_t size) {
    void* p = nullptr;
    if (g_api->memory_alloc(nullptr, size, PAL_PROT_READ | PAL_PROT_WRITE, 0, &p) != PAL_OK)
        return nullptr;
    return p;
}

void check_boot_info() {
    {
        Check c("boot-info");
        c.expect(g_api->version == PAL_API_VERSION, "PalApi version %u", g_api->version);
        c.expect(g_info->version == PAL_API_VERSION, "PalBootInfo version %u", g_info->version);
        auto self = uint64_t(&libos_init);
        c.expect(g_info->libos_start < g_info->libos_end && self >= g_info->libos_start && self < g_info->libos_end,
                 "libos_init %#lx outside libos range %#lx-%#lx", self, g_info->libos_start, g_info->libos_end);
        c.expect(g_info->libos_start % kPageSize == 0, "libos_start %#lx not page-aligned", g_info->libos_start);
        auto api = uint64_t(g_api);
        c.expect(g_info->pal_start < g_info->pal_end && api >= g_info->pal_start && api < g_info->pal_end,
                 "PalApi table %#lx outside the PAL %#lx-%#lx", api, g_info->pal_start, g_info->pal_end);
        c.expect(g_info->libos_end <= g_info->pal_start || g_info->libos_start >= g_info->pal_end,
                 "libos range overlaps the PAL");
        // The PAL's own memory holds this thread's TCB (and the block around it).
        uint64_t tcb;
        asm volatile("mov %%gs:0, %0" : "=r"(tcb));
        c.expect(g_info->pal_memory_start < g_info->pal_memory_end && tcb >= g_info->pal_memory_start &&
                     tcb < g_info->pal_memory_end,
                 "TCB %#lx outside the PAL's memory %#lx-%#lx", tcb, g_info->pal_memory_start, g_info->pal_memory_end);
        long uid = pal_test_raw_syscall3(__NR_getuid, 0, 0, 0);
        long gid = pal_test_raw_syscall3(__NR_getgid, 0, 0, 0);
        c.expect(g_info->host_uid == uint32_t(uid), "host_uid %u, host says %ld", g_info->host_uid, uid);
        c.expect(g_info->host_gid == uint32_t(gid), "host_gid %u, host says %ld", g_info->host_gid, gid);
        uint8_t mask[128] = {};
        long n = pal_test_raw_syscall3(__NR_sched_getaffinity, 0, sizeof(mask), long(mask));
        uint64_t cpus = 0;
        for (long i = 0; i < n; i++)
            cpus += uint64_t(__builtin_popcount(mask[i]));
        c.expect(g_info->cpu_count >= 1 && g_info->cpu_count == cpus, "cpu_count %lu, affinity mask has %lu",
                 g_info->cpu_count, cpus);
    }
    {
        // The boot config's fd and libos.so's are closed: only stdin, stdout and stderr
        // remain, and carbyne-pal's own (O_PATH, for process_create).
        Check c("boot-host-fds");
        bool has_std = false;
        int fds = host_fd_count(&has_std);
        c.expect(fds == 4 && has_std, "%d host fds open at entry (stdin/stdout/stderr %s)", fds,
                 has_std ? "among them" : "missing");
    }
    {
        Check c("boot-config");
        carbyne::boot::Reader reader(g_info->boot_config, g_info->boot_config_size);
        c.expect(reader.valid(), "the boot config the PAL passed on is not valid (size %zu)",
                 g_info->boot_config_size);
        carbyne::boot::Record r;
        const char* libos_path = nullptr;
        int argv_records = 0;
        while (reader.next(&r)) {
            if (r.tag == carbyne::boot::Tag::LibosPath)
                libos_path = r.as_string();
            argv_records += r.tag == carbyne::boot::Tag::Argv;
        }
        c.expect(!reader.error(), "malformed record tail");
        c.expect(libos_path != nullptr, "no LibosPath record");
        c.expect(argv_records == g_argc && g_argc >= 3, "%d Argv records, %d read at entry", argv_records, g_argc);
    }
}

namespace {

void read_argv() {
    carbyne::boot::Reader reader(g_info->boot_config, g_info->boot_config_size);
    carbyne::boot::Record r;
    while (reader.next(&r))
        if (r.tag == carbyne::boot::Tag::Argv && g_argc < kMaxArgs)
            g_argv[g_argc++] = r.as_string();
}

void run_all_checks() {
    check_boot_info();
    check_exceptions();
    check_memory();
    check_streams();
    check_directories();
    check_beneath();
    check_console();
    check_events();
    check_threads();
    check_time();
    check_random();
    check_get_cpu();
    check_fs_base();
    check_sockets();
    check_syscall_interception();
    log_line("pal-test: %d checks, %d failed", g_checks, g_failed_checks);
    g_api->process_exit(g_failed_checks ? 1 : 0);
}

void exit_from_thread(void*) {
    log_line("pal-test: process_exit(7) from a second thread");
    g_api->process_exit(7);
}

[[noreturn]] void run_on_own_stack(void*) {
    const char* mode = g_argc >= 3 && g_argv[2] ? g_argv[2] : "";
    if (g_info->parent_channel) {
        run_process_child();
    } else if (carbyne::str_equal(mode, "process") || carbyne::str_equal(mode, "process-sandbox")) {
        run_process_checks();
        log_line("pal-test: %d checks, %d failed", g_checks, g_failed_checks);
        g_api->process_exit(g_failed_checks ? 1 : 0);
    } else if (carbyne::str_equal(mode, "all")) {
        run_all_checks();
    } else if (carbyne::str_equal(mode, "exit-code-7")) {
        log_line("pal-test: process_exit(7)");
        g_api->process_exit(7);
    } else if (carbyne::str_equal(mode, "exit-code-7-thread")) {
        // The main thread blocks; the whole process must still end with the thread's code.
        PalHandle* never = nullptr;
        if (g_api->event_create(0, 0, &never) == PAL_OK && g_api->thread_create(exit_from_thread, nullptr) == PAL_OK)
            g_api->event_wait(never, 30 * kSec);
        log_line("FAIL exit-code-7-thread: the process outlived process_exit in another thread");
    } else if (carbyne::str_equal(mode, "host-call-guard")) {
        run_host_call_guard();
    } else if (carbyne::str_equal(mode, "sandbox")) {
        run_sandbox_checks(g_argc >= 8 ? g_argv + 3 : nullptr);
        g_api->process_exit(0);
    } else if (carbyne::str_equal(mode, "sandbox-allow-list")) {
        run_sandbox_allow_list();
    } else if (carbyne::str_equal(mode, "kill-self-11")) {
        log_line("pal-test: process_kill_self(11)");
        g_api->process_kill_self(11);
    } else {
        log_line("FAIL pal-test: unknown mode '%s'", mode);
    }
    g_api->process_exit(1);
}

}  // namespace
}  // namespace pal_test

using namespace pal_test;

// Called by carbyne-pal on the main thread's PAL stack. The checks run on a stack of their
// own, as the LibOS runs the application: once syscall interception is on, the PAL runs
// the syscall upcall at the top of the PAL stack, which must then hold nothing live.
void libos_init(const PalApi* api, const PalBootInfo* info) {
    g_api = api;
    g_info = info;
    read_argv();
    g_scratch = g_argc >= 2 && g_argv[1] ? g_argv[1] : ".";
    void* stack = alloc_pages(kMainStackSize);
    if (!stack) {
        log_line("FAIL pal-test: cannot allocate the checks' stack");
        api->process_exit(1);
    }
    pal_test_switch_stack(uint64_t(stack) + kMainStackSize, run_on_own_stack, nullptr);
}
