// The PAL test object's harness: named checks, the PAL it runs on, and the assembly helpers.
//
// The object is loaded by carbyne-pal in place of libos.so, so it obeys libos.so's rules: no
// libc, no constructors (every global is constant-initialized), no SSE, no %fs.
#pragma once

#include <carbyne/format.h>
#include <carbyne/string.h>
#include <pal/pal.h>
#include <stddef.h>
#include <stdint.h>

namespace pal_test {

inline constexpr size_t kPageSize = 4096;
inline constexpr uint64_t kMsec = 1000000ull;
inline constexpr uint64_t kSec = 1000000000ull;
// How long a check waits for another thread before it fails instead of hanging.
inline constexpr uint64_t kWaitLimitNs = 10 * kSec;

extern const PalApi* g_api;
extern const PalBootInfo* g_info;
extern const char* g_scratch;  // argv[1]: a host directory prepared by the driver

// One named check. Its expectations record the first failure; the destructor prints
// "ok NAME" or "FAIL NAME: detail" through debug_log, or "skip NAME: why" for a check the
// host cannot run (never an "ok": the driver shows the skip).
class Check {
public:
    explicit Check(const char* name) : m_name(name) {}
    ~Check();
    Check(const Check&) = delete;
    Check& operator=(const Check&) = delete;

    bool expect(bool cond, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
    bool expect_ok(PalError err, const char* what);
    bool expect_error(PalError err, PalError want, const char* what);
    // Says why the host cannot run this check; a failure already recorded still fails.
    void skip(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    bool failed() const { return m_failures != 0; }

private:
    const char* m_name;
    int m_failures = 0;
    bool m_skipped = false;
    char m_detail[256] = {};
};

// Writes one line (a newline is added) through debug_log.
void log_line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
const char* error_name(PalError err);
// "<scratch>/<name>" into buf.
const char* scratch_path(char* buf, size_t size, const char* name);
// The scratch directory as a root handle (fs_root_open), opened on first use: the root of
// the path calls of the checks.
PalHandle* scratch_root();
uint64_t monotonic_ns();
// Polls until *word == want (thread_yield and 1 ms sleeps), at most kWaitLimitNs.
bool wait_for_word(const volatile int32_t* word, int32_t want);
// The host fds open in this process (from /proc/self/fd, not counting the one used to list
// it); -1 on error. *has_std tells whether 0, 1 and 2 are among them.
int host_fd_count(bool* has_std);
// Maps `size` bytes (page multiple) read-write; nullptr on failure.
void* alloc_pages(size_t size);

inline PalTcbPublic* gs_self() {
    PalTcbPublic* self;
    asm volatile("mov %%gs:0, %0" : "=r"(self));
    return self;
}
inline void* gs_libos_tcb() {
    void* v;
    asm volatile("mov %%gs:8, %0" : "=r"(v));
    return v;
}
inline void set_gs_libos_tcb(void* v) { asm volatile("mov %0, %%gs:8" : : "r"(v) : "memory"); }

// Exceptions (check_exceptions.cpp): a handler that resumes the probes below.
struct Fault {
    int count;  // faults seen since the handler was installed
    PalException exc;
    uint64_t rip;        // ctx->rip as the handler saw it
    PalTcbPublic* self;  // %gs:0 inside the handler
};
void install_exception_handler();
// Copies the last fault; `count` tells whether a new one arrived.
Fault last_fault();
// Loads from / stores to addr; true when that faulted, with the fault in *out.
bool probe_load(const void* addr, Fault* out, uint64_t* value = nullptr);
bool probe_store(void* addr, uint64_t value, Fault* out);

// The checks, in the order they run.
void check_boot_info();
void check_exceptions();
void check_memory();
void check_streams();
void check_directories();
void check_beneath();
void check_console();
void check_events();
void check_threads();
void check_time();
void check_random();
void check_get_cpu();
void check_fs_base();
void check_sockets();
void check_syscall_interception();  // last: afterwards every `syscall` here traps
// Mode host-call-guard: a system call from outside the PAL that got past interception
// must end the process (it returns only if it did not).
void run_host_call_guard();
// Mode sandbox (check_sandbox.cpp): host calls from the PAL's instruction and PAL calls
// reach the boot config's mounts only; `args` (argv[3..7], decimal): a host pid outside the
// sandbox (the driver's) that no signal reaches, a TCP port net.allow lets connect reach
// and one it does not (both listening), a free port it lets bind take and one it does not.
void run_sandbox_checks(const char* const* args);
// Mode sandbox-allow-list: ptrace from the PAL's instruction must end the process.
void run_sandbox_allow_list();
// Modes process and process-sandbox (check_process.cpp): children started by
// process_create, which run run_process_child.
void run_process_checks();
[[noreturn]] void run_process_child();

}  // namespace pal_test

// Defined in pal_test_asm.S; hidden, like everything in this object but libos_init.
#pragma GCC visibility push(hidden)
extern "C" {
[[noreturn]] void pal_test_switch_stack(uint64_t stack_top, void (*fn)(void*), void* arg);
long pal_test_syscall(long nr, uint64_t* regs_after);
long pal_test_raw_syscall3(long nr, long a, long b, long c);
long pal_test_jump(uint64_t target, long nr, uint64_t pad, long a0, long a1, long a2);
void pal_test_syscall_upcall(PalContext* ctx);
void pal_test_handle_syscall(PalContext* ctx);
uint64_t pal_test_load(const void* addr);
void pal_test_store(void* addr, uint64_t value);
void pal_test_ud2();
void pal_test_int3();
uint64_t pal_test_divide(uint64_t a, uint64_t b);
extern const char pal_test_syscall_insn[], pal_test_load_insn[], pal_test_load_done[], pal_test_store_insn[],
    pal_test_store_done[], pal_test_ud2_insn[], pal_test_ud2_done[], pal_test_int3_done[],
    pal_test_divide_insn[], pal_test_divide_done[], pal_test_jump_landing[];
}
#pragma GCC visibility pop
