// carbyne-pal's boot: relocate itself, read the boot config, set up the main thread, load
// libos.so and hand over to it.
#include <asm/errno.h>
#include <asm/stat.h>
#include <asm/unistd.h>
#include <carbyne/boot_config.h>
#include <carbyne/string.h>
#include <linux/auxvec.h>
#include <linux/fcntl.h>
#include <linux/mman.h>

#include "elf.h"
#include "pal_internal.h"

extern "C" {
extern const Elf64_Ehdr __ehdr_start __attribute__((visibility("hidden")));
extern Elf64_Dyn _DYNAMIC[] __attribute__((visibility("hidden")));
extern char _end[] __attribute__((visibility("hidden")));
void pal_switch_stack(uint64_t stack_top, void (*fn)(void*), void* arg) __attribute__((noreturn));
[[noreturn]] void pal_start(uint64_t* initial_sp);
}

namespace carbyne::pal {

Globals g_pal;

const PalApi g_api = {
    .version = PAL_API_VERSION,
    .memory_alloc = memory_alloc,
    .memory_free = memory_free,
    .memory_protect = memory_protect,
    .memory_remap = memory_remap,
    .memory_advise = memory_advise,
    .memory_residency = memory_residency,
    .memory_sync = memory_sync,
    .file_map = file_map,
    .shm_create = shm_create,
    .thread_create = thread_create,
    .thread_exit = thread_exit,
    .thread_yield = thread_yield,
    .thread_id = thread_id,
    .thread_interrupt = thread_interrupt,
    .fs_root_open = fs_root_open,
    .stream_open = stream_open,
    .console_open = console_open,
    .stream_read = stream_read,
    .stream_write = stream_write,
    .stream_attributes = stream_attributes,
    .stream_attributes_path = stream_attributes_path,
    .stream_flush = stream_flush,
    .stream_delete = stream_delete,
    .stream_close = stream_close,
    .handle_dup = handle_dup,
    .dir_read = dir_read,
    .stream_readlink = stream_readlink,
    .event_create = event_create,
    .counter_create = counter_create,
    .event_set = event_set,
    .event_clear = event_clear,
    .event_wait = event_wait,
    .wait_for_many = wait_for_many,
    .set_exception_upcall = set_exception_upcall,
    .enable_syscall_interception = enable_syscall_interception,
    .time_get = time_get,
    .time_resolution = time_resolution,
    .sleep = sleep,
    .random_bytes = random_bytes,
    .resource_usage = resource_usage,
    .get_cpu = get_cpu,
    .set_fs_base = set_fs_base,
    .get_fs_base = get_fs_base,
    .process_exit = process_exit,
    .process_kill_self = process_kill_self,
    .process_stop = process_stop,
    .process_create = process_create,
    .process_wait = process_wait,
    .process_kill = process_kill,
    .process_message = process_message,
    .set_message_upcall = set_message_upcall,
    .channel_send_handle = channel_send_handle,
    .channel_recv_handle = channel_recv_handle,
    .pipe_create = pipe_create,
    .channel_pair = channel_pair,
    .stream_seek = stream_seek,
    .debug_log = debug_log,
    .fs_mkdir = fs_mkdir,
    .fs_rename = fs_rename,
    .fs_link = fs_link,
    .fs_symlink = fs_symlink,
    .fs_chmod = fs_chmod,
    .fs_chown = fs_chown,
    .fs_truncate = fs_truncate,
    .fs_utimens = fs_utimens,
    .fs_statfs = fs_statfs,
    .stream_chmod = stream_chmod,
    .stream_chown = stream_chown,
    .stream_utimens = stream_utimens,
    .stream_truncate = stream_truncate,
    .stream_allocate = stream_allocate,
    .stream_sync = stream_sync,
    .fs_mkfifo = fs_mkfifo,
    .fs_mksock = fs_mksock,
    .socket_create = socket_create,
    .socket_pair = socket_pair,
    .socket_bind = socket_bind,
    .socket_listen = socket_listen,
    .socket_accept = socket_accept,
    .socket_connect = socket_connect,
    .socket_send = socket_send,
    .socket_recv = socket_recv,
    .socket_shutdown = socket_shutdown,
    .socket_name = socket_name,
    .socket_set_option = socket_set_option,
    .socket_get_option = socket_get_option,
    .socket_send_handles = socket_send_handles,
    .socket_recv_handles = socket_recv_handles,
    .poller_create = poller_create,
    .poller_ctl = poller_ctl,
    .poller_wait = poller_wait,
    .fs_xattr = fs_xattr,
};

namespace {

PalBootInfo g_boot_info;
const char* g_libos_path;

// Maps an ELF file through raw host calls; used for libos.so.
class HostMapper final : public elf::Mapper {
public:
    explicit HostMapper(int fd) : m_fd(fd) {}

    elf::Error reserve(uint64_t addr, uint64_t size, bool fixed, uint64_t* out) override {
        void* p;
        if (memory_alloc(reinterpret_cast<void*>(addr), size, PAL_PROT_NONE,
                         (fixed ? PAL_MEM_NOREPLACE : 0) | PAL_MEM_NORESERVE, &p) != PAL_OK)
            return elf::Error::TooBig;
        *out = uint64_t(p);
        return elf::Error::None;
    }
    elf::Error map_file(uint64_t addr, uint64_t size, uint64_t offset, int prot) override {
        long ret = host_syscall6(__NR_mmap, long(addr), long(size), prot, MAP_PRIVATE | MAP_FIXED, m_fd, long(offset));
        return host_failed(ret) ? elf::Error::Io : elf::Error::None;
    }
    elf::Error map_zero(uint64_t addr, uint64_t size, int prot) override {
        void* p;
        return memory_alloc(reinterpret_cast<void*>(addr), size, prot, PAL_MEM_FIXED, &p) == PAL_OK
                   ? elf::Error::None
                   : elf::Error::TooBig;
    }
    elf::Error protect(uint64_t addr, uint64_t size, int prot) override {
        return memory_protect(reinterpret_cast<void*>(addr), size, prot) == PAL_OK ? elf::Error::None
                                                                                  : elf::Error::Io;
    }

private:
    int m_fd;
};

LibosInitFn load_libos(const char* path) {
    long fd = host_syscall4(__NR_openat, AT_FDCWD, long(path), O_RDONLY | O_CLOEXEC, 0);
    if (host_failed(fd))
        pal_die("cannot open %s (error %ld)", path, -fd);
    struct stat st;
    if (host_failed(host_syscall2(__NR_fstat, fd, long(&st))))
        pal_die("cannot stat %s", path);
    static uint8_t head[4096];
    long n = host_syscall4(__NR_pread64, fd, long(head), sizeof(head), 0);
    if (n < 0)
        pal_die("cannot read %s", path);
    elf::Info info;
    elf::Error err = elf::parse(head, size_t(n), uint64_t(st.st_size), &info);
    if (err == elf::Error::None && (info.type != ET_DYN || !info.dynamic_vaddr || info.interp_size || info.has_tls))
        err = elf::Error::Malformed;
    if (err != elf::Error::None)
        pal_die("%s: %s", path, elf::error_name(err));
    HostMapper mapper{int(fd)};
    elf::Loaded loaded;
    err = elf::map_image(info, mapper, 0, &loaded);
    if (err == elf::Error::None)
        err = elf::relocate_self_contained(loaded.base,
                                           reinterpret_cast<const Elf64_Dyn*>(loaded.base + info.dynamic_vaddr),
                                           loaded.start, loaded.end);
    if (err != elf::Error::None)
        pal_die("%s: %s", path, elf::error_name(err));
    host_syscall1(__NR_close, fd);
    g_boot_info.libos_start = loaded.start;
    g_boot_info.libos_end = loaded.end;
    return reinterpret_cast<LibosInitFn>(loaded.entry);
}

// Maps the boot config from the fd the launcher passed, and picks what the PAL itself needs.
void read_boot_config(const char* fd_arg) {
    uint64_t fd;
    if (!fd_arg || !parse_u64(fd_arg, &fd) || fd > 1 << 20)
        pal_die("usage: carbyne-pal BOOT-CONFIG-FD (started by the carbyne launcher)");
    struct stat st;
    if (host_failed(host_syscall2(__NR_fstat, long(fd), long(&st))) || st.st_size <= 0)
        pal_die("cannot read the boot config from fd %lu", fd);
    long map = host_syscall6(__NR_mmap, 0, st.st_size, PROT_READ, MAP_PRIVATE, long(fd), 0);
    if (host_failed(map))
        pal_die("cannot map the boot config");
    host_syscall1(__NR_close, long(fd));
    g_boot_info.boot_config = reinterpret_cast<const void*>(map);
    g_boot_info.boot_config_size = size_t(st.st_size);
    g_pal.boot_config = g_boot_info.boot_config;
    g_pal.boot_config_size = g_boot_info.boot_config_size;

    boot::Reader reader(g_boot_info.boot_config, g_boot_info.boot_config_size);
    if (!reader.valid())
        pal_die("the boot config is not valid (version mismatch between carbyne and carbyne-pal?)");
    boot::Record r;
    while (reader.next(&r)) {
        if (r.tag == boot::Tag::LibosPath) {
            g_libos_path = r.as_string();
        } else if (r.tag == boot::Tag::LogFile && !g_pal.is_child) {
            // (A child writes to the log its parent passed it: the sandbox may hide the path.)
            const char* path = r.as_string();
            long lfd = path ? host_syscall4(__NR_openat, AT_FDCWD, long(path),
                                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
                            : -EINVAL;
            if (host_failed(lfd))
                pal_die("cannot open the log file %s (error %ld)", path ? path : "?", -lfd);
            g_pal.log_fd = int(lfd);
        } else if (r.tag == boot::Tag::Sandbox) {
            uint64_t on = 0;
            g_pal.sandbox = r.as_u64(&on) && on == 1;
        }
    }
    if (reader.error() || !g_libos_path)
        pal_die("the boot config is malformed");
    g_pal.libos_path = g_libos_path;
}

// The host's address randomization off, so that every process of the instance has the PAL,
// libos.so and the PAL's memory at the same addresses: a child inherits its parent's
// host-call guard, which knows the PAL text by address, and maps its parent's memory where
// it was. The launcher starts carbyne-pal so; started otherwise, it executes itself again
// with randomization off. Then it opens itself for process_create.
void fix_placement(char** argv, char** envp) {
    constexpr long kAddrNoRandomize = 0x0040000;
    constexpr long kQuery = 0xffffffff;
    long persona = host_syscall1(__NR_personality, kQuery);
    if (!host_failed(persona) && !(persona & kAddrNoRandomize)) {
        if (!host_failed(host_syscall1(__NR_personality, persona | kAddrNoRandomize)))
            host_syscall3(__NR_execve, long("/proc/self/exe"), long(argv), long(envp));
        pal_log("cannot turn the host's address randomization off: no new processes (fork) in this instance");
        g_pal.self_fd = -1;
        return;
    }
    static char self_path[4096];
    long n = host_syscall4(__NR_readlinkat, AT_FDCWD, long("/proc/self/exe"), long(self_path), sizeof(self_path) - 1);
    long fd = host_syscall4(__NR_openat, AT_FDCWD, long("/proc/self/exe"), O_PATH | O_CLOEXEC, 0);
    if (host_failed(n) || host_failed(fd)) {
        g_pal.self_fd = -1;
        return;
    }
    self_path[n] = '\0';
    g_pal.self_path = self_path;
    g_pal.self_fd = int(fd);
}

// A child's extra arguments (process_create): its channel to the parent, the log, and
// carbyne-pal's own fd, at the number its parent's has (the inherited guard knows it).
void read_child_args(long argc, char** argv) {
    if (argc < 5)
        return;
    uint64_t channel, log, self;
    if (!parse_u64(argv[2], &channel) || !parse_u64(argv[3], &log) || !parse_u64(argv[4], &self) ||
        channel > 1 << 20 || log > 1 << 20 || self > 1 << 20)
        pal_die("usage: carbyne-pal BOOT-CONFIG-FD [CHANNEL-FD LOG-FD SELF-FD] (started by the carbyne launcher)");
    if (g_pal.self_fd >= 0 && uint64_t(g_pal.self_fd) != self)
        host_syscall1(__NR_close, g_pal.self_fd);
    g_pal.self_fd = int(self);
    host_syscall3(__NR_fcntl, long(self), F_SETFD, FD_CLOEXEC);
    PalHandle* h = handle_alloc(PAL_TYPE_CHANNEL, int(channel));
    if (!h)
        pal_die("out of memory at start-up");
    host_syscall3(__NR_fcntl, long(channel), F_SETFD, FD_CLOEXEC);
    host_syscall3(__NR_fcntl, long(log), F_SETFD, FD_CLOEXEC);
    g_boot_info.parent_channel = h;
    g_pal.log_fd = int(log);
    g_pal.is_child = true;
}

void find_text_range() {
    uint64_t base = uint64_t(&__ehdr_start);
    const auto* ph = reinterpret_cast<const Elf64_Phdr*>(base + __ehdr_start.e_phoff);
    g_pal.pal_start = base;
    g_pal.pal_end = elf::page_up(uint64_t(_end));
    for (unsigned i = 0; i < __ehdr_start.e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
            g_pal.pal_text_start = elf::page_down(base + ph[i].p_vaddr);
            g_pal.pal_text_end = elf::page_up(base + ph[i].p_vaddr + ph[i].p_memsz);
        }
    }
    if (!g_pal.pal_text_start)
        pal_die("no executable segment in carbyne-pal");
}

// The CPUs the host lets the process use, numbered 0..n-1 in ascending order of the host's
// numbers (g_pal.cpu_index): the LibOS's affinity masks, CPU lists and getcpu agree.
uint64_t count_cpus() {
    uint8_t mask[128];
    long n = host_syscall3(__NR_sched_getaffinity, 0, sizeof(mask), long(mask));
    uint64_t count = 0;
    for (long i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            if (mask[i] & (1 << bit))
                g_pal.cpu_index[i * 8 + bit] = uint16_t(count++);
        }
    }
    if (!count)
        count = 1;
    g_pal.cpu_count = count;
    return count;
}

[[noreturn]] void boot_on_thread_stack(void*) {
    LibosInitFn init = load_libos(g_libos_path);
    g_boot_info.version = PAL_API_VERSION;
    g_boot_info.pal_start = g_pal.pal_start;
    g_boot_info.pal_end = g_pal.pal_end;
    g_boot_info.pal_memory_start = g_pal.memory_start;
    g_boot_info.pal_memory_end = g_pal.memory_end;
    g_boot_info.host_uid = uint32_t(host_syscall0(__NR_getuid));
    g_boot_info.host_gid = uint32_t(host_syscall0(__NR_getgid));
    g_boot_info.cpu_count = count_cpus();
    init(&g_api, &g_boot_info);
    pal_die("libos_init returned");
}

}  // namespace
}  // namespace carbyne::pal

using namespace carbyne::pal;

void pal_start(uint64_t* initial_sp) {
    g_pal.log_fd = 2;
    uint64_t base = uint64_t(&__ehdr_start);
    if (carbyne::elf::relocate_self_contained(base, _DYNAMIC, base, uint64_t(_end)) != carbyne::elf::Error::None)
        pal_die("cannot relocate carbyne-pal");

    long argc = long(initial_sp[0]);
    char** argv = reinterpret_cast<char**>(initial_sp + 1);
    char** envp = argv + argc + 1;
    char** envp0 = envp;
    while (*envp)
        envp++;
    for (auto* av = reinterpret_cast<uint64_t*>(envp + 1); av[0] != AT_NULL; av += 2) {
        if (av[0] == 26 /* AT_HWCAP2 */)
            g_pal.have_fsgsbase = (av[1] & 2) != 0;  // HWCAP2_FSGSBASE
        if (av[0] == AT_SYSINFO_EHDR)
            host_vdso_init(av[1]);
    }
    fix_placement(argv, envp0);
    // A child starts with every host signal blocked (process_create). The carrier of
    // messages stays blocked in every thread: the message thread waits for it.
    uint64_t only_messages = 1ull << (kMessageSignal - 1);
    host_syscall4(__NR_rt_sigprocmask, 2 /* SIG_SETMASK */, long(&only_messages), 0, 8);
    // The LibOS applies the application's umask itself; the host's must not mask again.
    host_syscall1(__NR_umask, 0);
    find_text_range();
    pal_memory_init();
    read_child_args(argc, argv);
    read_boot_config(argc >= 2 ? argv[1] : nullptr);

    Tcb* tcb = tcb_allocate();
    if (!tcb)
        pal_die("out of memory for the main thread");
    tcb->exit_word = 1;
    g_pal.live_threads = 1;
    host_syscall1(__NR_set_tid_address, long(&tcb->exit_word));
    tcb_install(tcb);
    exceptions_init();
    pal_switch_stack(uint64_t(tcb->syscall_ctx) & ~uint64_t{15}, boot_on_thread_stack, nullptr);
}
