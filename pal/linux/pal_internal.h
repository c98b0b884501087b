// Internals of the Linux host PAL shared by its files.
#pragma once

#include <pal/pal.h>
#include <stddef.h>
#include <stdint.h>

#include "host_syscall.h"

// A host object behind the opaque handle of pal.h.
struct PalHandle {
    PalStreamType type;
    int fd;
    bool auto_clear;  // events
    PalHandle* next_free;
    bool poller;  // a host epoll fd (poller_create), of type PAL_TYPE_UNKNOWN
    // PAL_TYPE_PROCESS (fd: its pidfd): the host pid, and its end once process_wait saw it.
    int32_t pid;
    bool ended;
    int32_t exit_code, exit_signal;
};

namespace carbyne::pal {

inline constexpr size_t kPageSize = 4096;
inline constexpr size_t kThreadStackSize = 256 * 1024;
inline constexpr size_t kAltStackSize = 64 * 1024;
// The host signal thread_interrupt sends (the last real-time one; nothing else uses it).
inline constexpr int kWakeSignal = 64;
// The host signal that carries process_message's bytes (in its siginfo, as SI_QUEUE):
// blocked in every thread, taken by the message thread with rt_sigtimedwait.
inline constexpr int kMessageSignal = 63;

// The per-thread control block at %gs:0. Its head is PalTcbPublic (pal.h).
struct Tcb {
    PalTcbPublic pub;
    PalContext* syscall_ctx;   // where the SIGSYS handler saves the application's registers
    uint64_t stack_top;        // top of this thread's PAL stack (16-aligned)
    uint8_t sud_selector;      // Syscall User Dispatch selector byte: always BLOCK
    uint8_t in_host_vdso;      // the PAL is calling into the host vDSO (host_vdso.cpp)
    int32_t host_tid;
    int32_t exit_word;         // cleared by the host when the thread is gone (CLONE_CHILD_CLEARTID)
    void* block;               // the mapping holding stack, alternate stack and this TCB
    size_t block_size;
    PalThreadFn start_fn;
    void* start_arg;
    Tcb* next_dead;            // exited threads whose blocks wait to be unmapped
};

inline Tcb* current_tcb() {
    Tcb* t;
    asm volatile("mov %%gs:0, %0" : "=r"(t));
    return t;
}

// Globals of the PAL (g_ prefix); set once at boot, read-only afterwards.
struct Globals {
    uint64_t pal_start, pal_end;        // the whole carbyne-pal image
    uint64_t pal_text_start, pal_text_end;  // its executable part: the syscall-allowed region
    int log_fd;
    bool have_fsgsbase;
    uint64_t host_vdso_start, host_vdso_end;  // the host's vDSO (PAL use only)
    PalSyscallUpcall syscall_upcall;
    PalExceptionUpcall exception_upcall;
    bool interception_on;
    int live_threads;  // PAL threads running, the main thread included (atomic)
    uint64_t memory_start, memory_end;  // the PAL's own memory region (pal_memory_init)
    bool sandbox;                       // the boot config's Sandbox (sandbox.cpp)
    const void* boot_config;            // mapped read-only for the process's life
    size_t boot_config_size;
    // The host CPUs the process may run on, numbered densely in ascending order: host CPU c
    // is the LibOS's cpu_index[c] (the LibOS's CPUs are 0..cpu_count-1).
    uint16_t cpu_index[1024];
    uint64_t cpu_count;
    // carbyne-pal itself (O_PATH), which process_create executes; -1 when the host's address
    // randomization could not be turned off (a child could not share the placement).
    int self_fd;
    // A process started by process_create: it inherited the sandbox and the host-call guard.
    bool is_child;
    const char* self_path;  // carbyne-pal's host path (the sandbox lets it be executed)
    const char* libos_path; // libos.so's (the sandbox lets it be read)
};
extern Globals g_pal;

PalError error_from_host(long ret);
// PAL_WAIT_* bits of a host poll(2)/epoll revents word.
uint32_t wait_bits_from_host(uint32_t revents);

// Writes "carbyne-pal: <message>\n" to the log, formatted like printf.
void pal_log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void pal_die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Thread blocks: stack, alternate signal stack and TCB in one mapping.
// The PAL's memory region (g_pal.memory_start/end): thread blocks and handle pages.
void pal_memory_init();
// One page for PAL bookkeeping (handles), from the region; never given back.
void* pal_memory_page();
Tcb* tcb_allocate();
void tcb_install(Tcb* tcb);     // sets %gs, the alternate stack and, when on, interception
PalError enable_interception_for_current_thread();
// Installs the seccomp filter that stops any host system call made from outside the PAL's
// text (seccomp.cpp); inherited by the threads created afterwards.
PalError guard_host_calls();
// With the sandbox on (g_pal.sandbox): confines the process with Landlock to the boot
// config's chroot mounts (sandbox.cpp); ends the process with a report when it cannot.
// Only the calling thread and those it creates afterwards are confined: call it while the
// PAL has one thread.
void confine_to_mounts();

void exceptions_init();
// Finds the host vDSO's clock_gettime and getcpu; their rare fallback system calls are run
// by the SIGSYS handler (the vDSO lies outside the PAL text that Syscall User Dispatch
// allows), for the PAL only: see host_vdso_fallback.
void host_vdso_init(uint64_t base);
// clock_gettime and getcpu through the host vDSO, or the system call where it has none.
long host_clock_gettime(int clock, void* ts);
long host_getcpu(unsigned* cpu, unsigned* node);
// Whether a trapped system call is the host vDSO's own fallback, made while the PAL called
// it: the SIGSYS handler runs only those on the host. The same instruction reached by the
// application (which may jump anywhere) is the application's system call.
bool host_vdso_fallback(const Tcb* tcb, uint64_t rip, uint64_t nr);
// Whether the interrupted code is the PAL's own: its text, or the host vDSO it is in.
bool in_pal_code(const Tcb* tcb, uint64_t rip);

PalHandle* handle_alloc(PalStreamType type, int fd);
void handle_free(PalHandle* h);

extern const PalApi g_api;

// The PalApi entries, one function each.
PalError memory_alloc(void* addr, size_t size, int prot, uint32_t flags, void** out);
PalError memory_free(void* addr, size_t size);
PalError memory_protect(void* addr, size_t size, int prot);
PalError memory_remap(void* addr, size_t old_size, size_t new_size, uint32_t flags, void* new_addr, void** out);
PalError memory_advise(void* addr, size_t size, int advice);
PalError memory_residency(void* addr, size_t size, uint8_t* vec);
PalError memory_sync(void* addr, size_t size, int flags);
PalError file_map(PalHandle* file, void* addr, size_t size, uint64_t offset, int prot, uint32_t flags, void** out);
PalError thread_create(PalThreadFn fn, void* arg);
[[noreturn]] void thread_exit(int32_t* clear);
void thread_yield();
int64_t thread_id();
PalError thread_interrupt(int64_t id);
PalError shm_create(size_t size, PalHandle** out);
PalError resource_usage(int thread_only, PalUsage* out);
PalError fs_root_open(const char* host_path, PalHandle** out);
PalError stream_open(PalHandle* root, const char* path, uint32_t access, uint32_t mode, PalHandle** out);
PalError console_open(PalConsole which, PalHandle** out);
PalError stream_read(PalHandle* h, uint64_t offset, void* buf, size_t size, size_t* done);
PalError stream_write(PalHandle* h, uint64_t offset, const void* buf, size_t size, size_t* done);
PalError stream_attributes(PalHandle* h, PalStreamAttr* out);
PalError stream_attributes_path(PalHandle* root, const char* path, PalStreamAttr* out);
PalError stream_flush(PalHandle* h);
PalError stream_delete(PalHandle* root, const char* path, int dir);
void stream_close(PalHandle* h);
PalError handle_dup(PalHandle* h, PalHandle** out);
PalError dir_read(PalHandle* dir, int restart, void* buf, size_t size, size_t* done);
PalError stream_readlink(PalHandle* root, const char* path, char* buf, size_t size, size_t* len);
PalError event_create(int initially_set, int auto_clear, PalHandle** out);
PalError counter_create(uint64_t initval, int semaphore, PalHandle** out);
void event_set(PalHandle* ev);
void event_clear(PalHandle* ev);
PalError event_wait(PalHandle* ev, uint64_t timeout_ns);
PalError wait_for_many(size_t count, PalHandle* const* handles, const uint32_t* events, uint32_t* ready,
                       uint64_t timeout_ns);
void set_exception_upcall(PalExceptionUpcall upcall);
PalError enable_syscall_interception(PalSyscallUpcall upcall);
PalError time_get(PalClock clock, uint64_t* ns);
PalError time_resolution(PalClock clock, uint64_t* ns);
PalError sleep(uint64_t ns, uint64_t* remaining_ns);
PalError random_bytes(void* buf, size_t size);
PalError get_cpu(uint32_t* cpu, uint32_t* node);
PalError set_fs_base(uint64_t base);
uint64_t get_fs_base();
[[noreturn]] void process_exit(int code);
void process_stop();
PalError process_create(const void* config, size_t size, PalHandle** process, PalHandle** channel);
PalError process_wait(PalHandle* process, uint64_t timeout_ns, int* exit_code, int* signal);
PalError process_kill(PalHandle* process, int sig);
PalError process_message(PalHandle* process, const void* data, size_t size);
PalError set_message_upcall(void (*upcall)(const void* data, size_t size));
PalError channel_send_handle(PalHandle* channel, PalHandle* h);
PalError channel_recv_handle(PalHandle* channel, PalHandle** out);
PalError pipe_create(PalHandle** read_end, PalHandle** write_end);
PalError channel_pair(PalHandle** a, PalHandle** b);
PalError stream_seek(PalHandle* h, int64_t offset, int whence, uint64_t* pos);
[[noreturn]] void process_kill_self(int sig);
void debug_log(const char* text, size_t size);
PalError fs_mkdir(PalHandle* root, const char* path, uint32_t mode);
PalError fs_mkfifo(PalHandle* root, const char* path, uint32_t mode);
PalError fs_mksock(PalHandle* root, const char* path, uint32_t mode);
PalError fs_rename(PalHandle* root, const char* from, const char* to, uint32_t flags);
PalError fs_link(PalHandle* root, const char* from, const char* to);
PalError fs_symlink(PalHandle* root, const char* target, const char* path);
PalError fs_chmod(PalHandle* root, const char* path, uint32_t mode);
PalError fs_chown(PalHandle* root, const char* path, uint32_t uid, uint32_t gid);
PalError fs_truncate(PalHandle* root, const char* path, uint64_t size);
PalError fs_utimens(PalHandle* root, const char* path, int64_t atime_ns, int64_t mtime_ns);
PalError fs_statfs(PalHandle* root, const char* path, PalFsInfo* out);
PalError stream_chmod(PalHandle* h, uint32_t mode);
PalError stream_chown(PalHandle* h, uint32_t uid, uint32_t gid);
PalError stream_utimens(PalHandle* h, int64_t atime_ns, int64_t mtime_ns);
PalError stream_truncate(PalHandle* h, uint64_t size);
PalError stream_allocate(PalHandle* h, uint32_t mode, uint64_t offset, uint64_t size);
PalError stream_sync(PalHandle* h, uint32_t what);
PalError socket_create(PalSockFamily family, PalSockType type, PalHandle** out);
PalError socket_pair(PalSockType type, PalHandle** a, PalHandle** b);
PalError socket_bind(PalHandle* h, const PalSockAddr* addr);
PalError socket_listen(PalHandle* h, int backlog);
PalError socket_accept(PalHandle* h, PalHandle** out, PalSockAddr* peer);
PalError socket_connect(PalHandle* h, const PalSockAddr* addr);
PalError socket_send(PalHandle* h, const PalIoVec* iov, size_t count, const PalSockAddr* to, uint32_t flags,
                     size_t* done);
PalError socket_recv(PalHandle* h, const PalIoVec* iov, size_t count, PalSockAddr* from, uint32_t flags,
                     size_t* done, uint32_t* out_flags);
PalError socket_send_handles(PalHandle* h, const PalIoVec* iov, size_t count, PalHandle* const* handles,
                             size_t nhandles, uint32_t flags, size_t* done);
PalError socket_recv_handles(PalHandle* h, const PalIoVec* iov, size_t count, uint32_t flags, size_t* done,
                             uint32_t* out_flags, PalHandle** handles, size_t cap, size_t* nhandles);
// The PAL type of a host object of mode `mode` (st_mode's type bits).
PalStreamType type_from_mode(uint32_t mode);
PalError socket_shutdown(PalHandle* h, int how);
PalError socket_name(PalHandle* h, int peer, PalSockAddr* out);
PalError socket_set_option(PalHandle* h, PalSockOption option, int64_t value);
PalError socket_get_option(PalHandle* h, PalSockOption option, int64_t* value);
PalError poller_create(PalHandle** out);
PalError poller_ctl(PalHandle* poller, PalHandle* h, uint32_t events, uint64_t cookie);
PalError poller_wait(PalHandle* poller, PalPollEvent* out, size_t max, size_t* count, uint64_t timeout_ns);
PalError fs_xattr(PalHandle* base, const char* path, uint32_t op, const char* name, void* value, size_t size,
                  uint32_t flags, size_t* out_size);

}  // namespace carbyne::pal
