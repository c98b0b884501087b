// libos_init: from the PAL's hand-over to the application's first instruction.
#include <carbyne/boot_config.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <linux/stat.h>

#include "../fs/pseudo.h"
#include "../fs/vfs.h"
#include "../mm/arena.h"
#include "../loader/program.h"
#include "../net/net_allow.h"
#include "../ipc/fork.h"
#include "../ipc/leader.h"
#include "../ipc/push.h"
#include "../proc/process.h"

extern "C" {
void libos_syscall_entry(PalContext* ctx);
[[noreturn]] void libos_return_to_app(const PalContext* ctx);
void libos_init(const PalApi* api, const PalBootInfo* info) __attribute__((visibility("default")));
}

namespace carbyne::libos {

const PalApi* g_pal;
const PalBootInfo* g_boot;

void exception_upcall(const PalException* exc, PalContext* ctx);

[[noreturn]] void process_exit(int code) {
    children_kill_all();
    g_pal->process_exit(code);
}

namespace {

constinit Thread g_main_thread{};

struct BootSettings {
    const char* entrypoint = nullptr;
    const char* start_dir = "/";
    uint64_t stack_size = 8ull << 20;
    uint64_t brk_max_size = 256ull << 20;
    const char** argv = nullptr;
    const char** envp = nullptr;
    uint64_t start_sp = 0, start_entry = 0;  // where the program starts (start_first_process)
};

// Collects what the LibOS needs from the boot config; argv/envp point into it.
Result<BootSettings> read_settings(const boot::Reader& config) {
    BootSettings s;
    size_t argc = 0, envc = 0;
    boot::Reader r = config;
    boot::Record rec;
    while (r.next(&rec)) {
        argc += rec.tag == boot::Tag::Argv;
        envc += rec.tag == boot::Tag::Env;
    }
    if (r.error())
        return Errno(EINVAL);
    s.argv = static_cast<const char**>(kzalloc((argc + 1) * sizeof(char*)));
    s.envp = static_cast<const char**>(kzalloc((envc + 1) * sizeof(char*)));
    if (!s.argv || !s.envp)
        return Errno(ENOMEM);
    argc = envc = 0;
    r = config;
    while (r.next(&rec)) {
        const char* str = rec.as_string();
        uint64_t v;
        switch (rec.tag) {
        case boot::Tag::Entrypoint: s.entrypoint = str; break;
        case boot::Tag::StartDir: s.start_dir = str; break;
        case boot::Tag::Argv: s.argv[argc++] = str; break;
        case boot::Tag::Env: s.envp[envc++] = str; break;
        case boot::Tag::StackSize:
            if (rec.as_u64(&v))
                s.stack_size = (v + 4095) & ~uint64_t{4095};
            break;
        case boot::Tag::BrkMaxSize:
            if (rec.as_u64(&v))
                s.brk_max_size = (v + 4095) & ~uint64_t{4095};
            break;
        case boot::Tag::LogLevel:
            if (rec.as_u64(&v) && v <= uint64_t(LogLevel::Trace))
                g_log_level = LogLevel(v);
            break;
        default: break;
        }
        if ((rec.tag == boot::Tag::Argv || rec.tag == boot::Tag::Env || rec.tag == boot::Tag::Entrypoint ||
             rec.tag == boot::Tag::StartDir) &&
            !str)
            return Errno(EINVAL);
    }
    if (!s.entrypoint || s.entrypoint[0] != '/')
        return Errno(EINVAL);
    if (argc == 0)
        s.argv[argc++] = s.entrypoint;
    return s;
}

Result<void> open_console() {
    const PalConsole which[] = {PAL_CONSOLE_IN, PAL_CONSOLE_OUT, PAL_CONSOLE_ERR};
    for (PalConsole c : which) {
        fs::File* f = TRY(fs::console_open(c));
        int fd = TRY(g_process.fds.install(f, int(c), false));
        if (fd != int(c))
            return Errno(EBADF);
    }
    return {};
}

[[noreturn]] void fail(const char* what, const char* name, Errno e) {
    log_error("%s%s%s: %s (errno %d)", what, name ? " " : "", name ? name : "",
              e.code == ENOENT ? "no such file or directory"
              : e.code == EACCES ? "permission denied"
              : e.code == ENOEXEC ? "not an executable"
              : e.code == EINVAL ? "invalid or malformed"
              : e.code == ENOMEM ? "out of memory"
              : e.code == ENOTDIR ? "not a directory"
                                  : "error",
              e.code);
    process_exit(e.code == ENOENT ? 127 : 126);
}

// The first process of an instance: its working directory, console and program, from the
// boot config.
void start_first_process(BootSettings& s) {
    auto* cwd = static_cast<fs::Resolved*>(kmalloc(sizeof(fs::Resolved)));
    if (!cwd)
        libos_panic("out of memory at start-up");
    auto walked = fs::vfs_resolve("/", s.start_dir, true, cwd);
    if (walked.ok() && !cwd->exists)
        walked = Errno(ENOENT);
    else if (walked.ok() && (cwd->stat.mode & S_IFMT) != S_IFDIR)
        walked = Errno(ENOTDIR);
    if (!walked.ok())
        fail("fs.start_dir", s.start_dir, walked.error());
    if (!process_set_cwd(cwd->path).ok())
        libos_panic("out of memory at start-up");
    kfree(cwd);

    auto console = open_console();
    if (!console.ok())
        fail("cannot open the console", nullptr, console.error());

    ProgramArgs args{s.entrypoint, "/", s.argv, s.envp, s.stack_size, s.brk_max_size};
    auto start = load_program(args);
    if (!start.ok())
        fail("cannot run", s.entrypoint, start.error());
    log_debug("starting %s at %#lx", s.entrypoint, start.value().entry);
    s.start_sp = start.value().sp;
    s.start_entry = start.value().entry;
}

}  // namespace

[[noreturn]] void libos_start(const PalApi* api, const PalBootInfo* info) {
    g_pal = api;
    g_boot = info;
    if (api->version != PAL_API_VERSION || info->version != PAL_API_VERSION)
        api->process_exit(127);
    // No constructors run: every global of the LibOS is constant-initialized (a build
    // check rejects an .init_array in libos.so).
    if (!mm::arena_init().ok())
        libos_panic("cannot reserve the LibOS's memory arena");

    g_main_thread.tid = 1;
    g_main_thread.syscall_nr = -1;
    asm volatile("mov %0, %%gs:8" : : "r"(&g_main_thread) : "memory");
    if (!threads_init_main(&g_main_thread).ok())
        libos_panic("cannot set up the main thread");

    boot::Reader config(info->boot_config, info->boot_config_size);
    if (!config.valid())
        libos_panic("the boot config is not valid");
    auto settings = read_settings(config);
    if (!settings.ok())
        libos_panic("the boot config is malformed (no entrypoint, or bad records)");
    BootSettings& s = settings.value();

    g_process.pid = 1;
    g_process.ppid = 0;
    // The first process leads its group and session, as a container's init started so.
    g_process.pgid = g_process.sid = 1;
    g_process.uid = info->host_uid;
    g_process.gid = info->host_gid;
    g_process.umask = 022;
    g_process.stack_size = s.stack_size;
    g_process.brk_max_size = s.brk_max_size;

    auto mounted = fs::vfs_init(config);
    if (!mounted.ok())
        fail("cannot set up the mounts", nullptr, mounted.error());
    auto pseudo_mounted = fs::pseudofs_mount_all(config);
    if (!pseudo_mounted.ok())
        fail("cannot mount /proc, /dev and /sys", nullptr, pseudo_mounted.error());
    auto net_allow = net::net_allow_init(config);
    if (!net_allow.ok())
        fail("cannot read net.allow from the boot config", nullptr, net_allow.error());

    g_pal->set_exception_upcall(exception_upcall);
    PalContext ctx;
    memset(&ctx, 0, sizeof(ctx));
    if (info->parent_channel) {
        // A child of fork: everything else comes from the parent's checkpoint.
        auto restored = fork_child_restore(info->parent_channel, &ctx);
        if (!restored.ok() && restored.error().code == ENODATA)
            g_pal->process_exit(0);
        if (!restored.ok()) {
            log_error("fork: the child cannot restore its parent's checkpoint (errno %d)", restored.error().code);
            g_pal->process_exit(127);
        }
    } else {
        start_first_process(s);
        ctx.rsp = s.start_sp;
        ctx.rip = s.start_entry;
        ctx.rflags = 0x202;  // IF, as the kernel starts a process
    }

    if (g_pal->enable_syscall_interception(libos_syscall_entry) != PAL_OK)
        libos_panic("cannot intercept system calls (Syscall User Dispatch missing?)");
    // Signals and pushes from the instance's other processes (ipc/push.h), once this one
    // is whole.
    if (g_pal->set_message_upcall(ipc::message_upcall) != PAL_OK)
        log_warning("signals and connections from other processes cannot reach this one");
    ipc::member_watch_start();
    libos_return_to_app(&ctx);
}

}  // namespace carbyne::libos

void libos_init(const PalApi* api, const PalBootInfo* info) { carbyne::libos::libos_start(api, info); }
