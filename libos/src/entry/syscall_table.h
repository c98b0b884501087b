// The system-call table: one line per Linux x86-64 system call the LibOS answers.
//
//   SYSCALL(number, name, level, args, note)
//
// level: Full (as Linux does it), Partial (works for common uses; the note says what is
// missing) or Enosys (known, deliberately answered -ENOSYS; the note says why). A number
// not listed here is answered -ENOSYS and logged once.
// args: one letter per argument, for the strace-like trace: i int, u unsigned, x hex,
// f fd, p pointer, s path string, o octal mode, z size.
// Full/Partial entries are handled by `sys_<name>` (libos/src/sys/). docs/syscalls.md is
// generated from this list.
//
// This header is pure macros: the LibOS and the host-side docs generator both include it.
#pragma once

#define CARBYNE_SYSCALLS(SYSCALL)                                                                     \
    SYSCALL(0, read, Full, "fpz", "")                                                                 \
    SYSCALL(1, write, Full, "fpz", "")                                                                \
    SYSCALL(2, open, Partial, "sxo", "chroot and tmpfs files; tmpfs ignores permission bits; no "     \
                                    "O_TMPFILE; /proc, /dev and /sys are not mounted yet")           \
    SYSCALL(3, close, Full, "f", "")                                                                  \
    SYSCALL(4, stat, Full, "sp", "")                                                                  \
    SYSCALL(5, fstat, Full, "fp", "")                                                                 \
    SYSCALL(6, lstat, Full, "sp", "")                                                                 \
    SYSCALL(8, lseek, Partial, "fix", "directories can only be rewound (offset 0, SEEK_SET)")         \
    SYSCALL(9, mmap, Partial, "pzxxfx",                                                               \
            "anonymous and private/shared file mappings through the host; no LibOS VMA list yet, "   \
            "MAP_SHARED|MAP_ANONYMOUS is process-private until fork exists")                         \
    SYSCALL(10, mprotect, Full, "pzx", "")                                                            \
    SYSCALL(11, munmap, Full, "pz", "")                                                               \
    SYSCALL(12, brk, Full, "p", "")                                                                   \
    SYSCALL(13, rt_sigaction, Partial, "ippz", "dispositions are kept; no signal is delivered to a "   \
                                              "handler yet (host signals with a handler terminate)") \
    SYSCALL(14, rt_sigprocmask, Partial, "ippz", "the mask is kept; nothing is delivered yet")        \
    SYSCALL(16, ioctl, Partial, "fxp",                                                                \
            "FIONBIO, FIOCLEX, FIONCLEX; terminal requests answer ENOTTY (the console is not a tty)") \
    SYSCALL(17, pread64, Full, "fpzi", "")                                                            \
    SYSCALL(18, pwrite64, Full, "fpzi", "")                                                           \
    SYSCALL(19, readv, Full, "fpi", "")                                                               \
    SYSCALL(20, writev, Full, "fpi", "")                                                              \
    SYSCALL(21, access, Partial, "so", "checks existence and read-only mounts, not permission bits")  \
    SYSCALL(24, sched_yield, Full, "", "")                                                            \
    SYSCALL(28, madvise, Partial, "pzi", "advice is accepted and ignored; MADV_DONTNEED answers "      \
                                        "EINVAL until the LibOS keeps its VMA list")                 \
    SYSCALL(32, dup, Full, "f", "")                                                                   \
    SYSCALL(33, dup2, Full, "ff", "")                                                                 \
    SYSCALL(35, nanosleep, Partial, "pp", "not interruptible by signals yet")                         \
    SYSCALL(39, getpid, Full, "", "")                                                                 \
    SYSCALL(60, exit, Partial, "i", "ends the process: only one thread exists until clone works")     \
    SYSCALL(63, uname, Full, "p", "")                                                                 \
    SYSCALL(72, fcntl, Partial, "fxx", "F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, "        \
                                       "F_SETFL; no locks yet")                                      \
    SYSCALL(79, getcwd, Full, "pz", "")                                                               \
    SYSCALL(80, chdir, Full, "s", "")                                                                 \
    SYSCALL(81, fchdir, Full, "f", "")                                                                \
    SYSCALL(89, readlink, Full, "spz", "")                                                            \
    SYSCALL(95, umask, Full, "o", "")                                                                 \
    SYSCALL(96, gettimeofday, Full, "pp", "")                                                         \
    SYSCALL(97, getrlimit, Partial, "ip", "reports the LibOS's fixed limits")                         \
    SYSCALL(102, getuid, Full, "", "")                                                                \
    SYSCALL(104, getgid, Full, "", "")                                                                \
    SYSCALL(107, geteuid, Full, "", "")                                                               \
    SYSCALL(108, getegid, Full, "", "")                                                               \
    SYSCALL(110, getppid, Full, "", "")                                                               \
    SYSCALL(158, arch_prctl, Full, "ip", "")                                                          \
    SYSCALL(186, gettid, Full, "", "")                                                                \
    SYSCALL(201, time, Full, "p", "")                                                                 \
    SYSCALL(202, futex, Partial, "pxipxu", "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET for one thread: "    \
                                          "nothing else can wake a waiter until threads exist")      \
    SYSCALL(204, sched_getaffinity, Full, "izp", "")                                                  \
    SYSCALL(217, getdents64, Full, "fpz", "")                                                         \
    SYSCALL(218, set_tid_address, Full, "p", "")                                                      \
    SYSCALL(221, fadvise64, Full, "fiix", "")                                                         \
    SYSCALL(228, clock_gettime, Full, "ip", "")                                                       \
    SYSCALL(229, clock_getres, Full, "ip", "")                                                        \
    SYSCALL(230, clock_nanosleep, Partial, "ixpp", "not interruptible by signals yet")                \
    SYSCALL(231, exit_group, Full, "i", "")                                                           \
    SYSCALL(257, openat, Partial, "fsxo", "as open")                                                  \
    SYSCALL(262, newfstatat, Full, "fspx", "")                                                        \
    SYSCALL(267, readlinkat, Full, "fspz", "")                                                        \
    SYSCALL(269, faccessat, Partial, "fso", "checks existence and read-only mounts, not permission "  \
                                           "bits")                                                   \
    SYSCALL(273, set_robust_list, Partial, "pz", "recorded; robust futexes are released once "        \
                                                "threads exist")                                     \
    SYSCALL(292, dup3, Full, "ffx", "")                                                               \
    SYSCALL(302, prlimit64, Partial, "iipp", "reports the LibOS's fixed limits; setting is EPERM")    \
    SYSCALL(309, getcpu, Full, "ppp", "")                                                             \
    SYSCALL(318, getrandom, Full, "pzx", "")                                                          \
    SYSCALL(332, statx, Full, "fsxxp", "")                                                            \
    SYSCALL(334, rseq, Enosys, "pzip", "restartable sequences need preemption notices; glibc falls "  \
                                     "back without them")                                             \
    SYSCALL(439, faccessat2, Partial, "fsox", "checks existence and read-only mounts, not "           \
                                             "permission bits")
