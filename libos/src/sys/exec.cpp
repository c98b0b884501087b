// execve, execveat: a new program in place of the old one, in the same process.
//
// Everything that can fail while the old image still runs is checked first, in Linux's
// order: the path, the file (ENOENT, EACCES...), the argument and environment strings
// (EFAULT, E2BIG), then the program's headers and its "#!" levels and interpreter
// (ENOEXEC, ELOOP...). Then the point of no return: the other threads end, the old
// mappings go, the new program is mapped. A failure past that point ends the process with
// SIGSEGV, as on Linux.
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/resource.h>
#include <linux/stat.h>

#include "../fs/path.h"
#include "../ipc/fork.h"
#include "../loader/program.h"
#include "../mm/mm.h"
#include "../proc/process.h"
#include "../proc/process_timers.h"
#include "../proc/thread.h"
#include "../signal/signal.h"
#include "fs_common.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

constexpr size_t kMaxArgStrlen = 32 * 4096;    // MAX_ARG_STRLEN: one string, its NUL included
constexpr size_t kArgMin = 128 * 1024;         // ARG_MAX: the room there always is
constexpr size_t kArgMax = 6 * 1024 * 1024;    // _STK_LIM / 4 * 3
constexpr uint64_t kMaxStack = 1ull << 30;     // the largest stack a new program gets mapped

// The argument and environment strings, copied in: argv and envp point into `strings`.
struct ExecArgs {
    char* strings = nullptr;
    const char** argv = nullptr;  // argc + 1 entries, then envp's envc + 1
    const char** envp = nullptr;
    ~ExecArgs() {
        kfree(strings);
        kfree(argv);
    }
};

// The room for strings and pointers: a quarter of the stack limit, within Linux's bounds.
size_t args_limit() {
    uint64_t stack = process_rlimit(RLIMIT_STACK).cur;
    size_t limit = stack / 4 < kArgMax ? size_t(stack / 4) : kArgMax;
    return limit > kArgMin ? limit : kArgMin;
}

// The number of pointers before the NULL of an application array (NULL itself: none).
Result<size_t> count_pointers(uint64_t array, size_t max) {
    if (!array)
        return size_t{0};
    for (size_t n = 0;; n++) {
        if (n > max)
            return Errno(E2BIG);
        uint64_t p = TRY(UserPtr<uint64_t>(array + n * 8).read());
        if (!p)
            return n;
    }
}

// Copies `count` strings of the application array `array` to out[0..count) and packs them
// at *used in `strings`; E2BIG past MAX_ARG_STRLEN each or `limit` in all.
Result<void> copy_strings(uint64_t array, size_t count, char* strings, size_t* used, size_t limit,
                          const char** out) {
    for (size_t i = 0; i < count; i++) {
        uint64_t p = TRY(UserPtr<uint64_t>(array + i * 8).read());
        size_t room = limit - *used;
        if (room > kMaxArgStrlen)
            room = kMaxArgStrlen;
        auto n = copy_string_from_user(strings + *used, p, room);
        if (!n.ok())
            return n.error().code == ENAMETOOLONG ? Errno(E2BIG) : n.error();
        out[i] = strings + *used;
        *used += n.value() + 1;
    }
    out[count] = nullptr;
    return {};
}

Result<void> copy_args(uint64_t user_argv, uint64_t user_envp, ExecArgs* out) {
    size_t limit = args_limit();
    size_t argc = TRY(count_pointers(user_argv, limit / 8));
    size_t envc = TRY(count_pointers(user_envp, limit / 8));
    // Pointers count against the limit as the strings do (bprm_stack_limits).
    size_t used = (argc + envc) * 8;
    if (used > limit)
        return Errno(E2BIG);
    out->argv = static_cast<const char**>(kmalloc((argc + envc + 3) * sizeof(char*)));
    out->strings = static_cast<char*>(kmalloc(limit));
    if (!out->argv || !out->strings)
        return Errno(ENOMEM);
    char* strings = out->strings;
    size_t packed = 0;
    // Strings go at the start of `strings`; `used` keeps the pointers' share too.
    auto copy = [&](uint64_t array, size_t count, const char** to) -> Result<void> {
        size_t before = packed;
        size_t room = limit - (used - packed);
        TRY(copy_strings(array, count, strings, &packed, room, to));
        used += packed - before;
        return {};
    };
    TRY(copy(user_argv, argc, out->argv));
    if (argc == 0) {
        // An empty argv gets "" as argv[0], as Linux adds it: programs that start at argv[1]
        // must not walk into envp.
        strings[packed] = '\0';
        out->argv[0] = strings + packed++;
        out->argv[1] = nullptr;
        argc = 1;
    }
    out->envp = out->argv + argc + 1;
    TRY(copy(user_envp, envc, out->envp));
    return {};
}

// The stack a new program gets: RLIMIT_STACK's soft limit, within sane bounds.
uint64_t exec_stack_size() {
    uint64_t cur = process_rlimit(RLIMIT_STACK).cur;
    if (cur == kRlimitInfinity || cur > kMaxStack)
        return kMaxStack;
    cur = mm::page_up(cur);
    return cur < kArgMin * 4 ? kArgMin * 4 : cur;
}

// After the point of no return: the old image is gone, so the process ends.
[[noreturn]] void exec_failed_late(const char* path, Errno e) {
    log_error("execve of %s failed after the old program was unmapped (errno %d): the process ends with SIGSEGV",
              path, e.code);
    constexpr int kSigsegv = 11;
    g_pal->process_kill_self(kSigsegv);
}

Result<long> do_execveat(int dirfd, uint64_t user_path, uint64_t user_argv, uint64_t user_envp, int flags) {
    if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        return Errno(EINVAL);
    HeapBox<PathBuf> path_box, base_box, started_box;
    PathBuf* path = path_box.get();
    PathBuf* base = base_box.get();
    PathBuf* started = started_box.get();
    if (!path || !base || !started)
        return Errno(ENOMEM);
    TRY(copy_path_from_user(user_path, path));
    strlcpy(started->s, path->s, sizeof(started->s));
    strlcpy(base->s, "/", sizeof(base->s));
    bool user_path_given = path->s[0] != '\0';
    if (!user_path_given) {
        // fexecve: the program is the file open at dirfd; it was started as /dev/fd/N.
        if (!(flags & AT_EMPTY_PATH))
            return Errno(ENOENT);
        FileRef f = TRY(g_process.fds.get(dirfd, true));
        bool deleted = false;
        TRY(f->path(path->s, sizeof(path->s), &deleted));
        if (deleted)
            return Errno(ENOENT);
        format(started->s, sizeof(started->s), "/dev/fd/%d", dirfd);
    } else if (path->s[0] != '/') {
        TRY(dirfd_base(dirfd, base->s));
    }
    if (flags & AT_SYMLINK_NOFOLLOW) {
        ResolvedBox r;
        if (!r.get())
            return Errno(ENOMEM);
        TRY(fs::vfs_resolve(base->s, path->s, false, r.get()));
        if (r.get()->exists && (r.get()->stat.mode & S_IFMT) == S_IFLNK)
            return Errno(ELOOP);
    }
    TRY(check_executable(base->s, path->s));
    ExecArgs args;
    TRY(copy_args(user_argv, user_envp, &args));

    // The program is opened at `path` (relative to `base`); AT_EXECFN and the process's
    // name come from the name it was started by.
    ProgramArgs program{path->s, base->s, args.argv, args.envp, exec_stack_size(), g_process.brk_max_size,
                        started->s};
    PreparedProgram* prepared = TRY(prepare_program(program));

    // The point of no return.
    auto ended = threads_end_others_for_exec();
    if (!ended.ok()) {
        discard_program(prepared);
        return ended.error();
    }
    mm::unmap_all();
    auto start = start_program(prepared);
    if (!start.ok())
        exec_failed_late(started->s, start.error());
    if (!user_path_given) {
        // The name is the file's, not "N" of /dev/fd/N (Linux 6.14's comm_from_dentry).
        auto named = process_set_exe(path->s, path->s);
        if (!named.ok())
            exec_failed_late(started->s, named.error());
    }
    {
        SpinGuard g(g_process.lock);
        current_thread()->attrs.named = false;  // the thread takes the program's name
        g_process.attrs.not_dumpable = false;
    }
    g_process.fds.close_on_exec();
    fork_vfork_release();
    signal_reset_for_exec();
    posix_timers_delete_all();
    g_pal->set_fs_base(0);
    // The new program starts as the kernel starts one: its entry, its stack, every other
    // register zero (rax too: the value this call returns).
    PalContext* ctx = current_thread()->syscall_ctx;
    memset(ctx, 0, sizeof(*ctx));
    ctx->rip = start.value().entry;
    ctx->rsp = start.value().sp;
    ctx->rflags = 0x202;
    return 0;
}

}  // namespace

Result<long> sys_execve(const SyscallArgs& a) { return do_execveat(AT_FDCWD, a.u64(0), a.u64(1), a.u64(2), 0); }

Result<long> sys_execveat(const SyscallArgs& a) {
    return do_execveat(a.i32(0), a.u64(1), a.u64(2), a.u64(3), a.i32(4));
}

}  // namespace carbyne::libos
