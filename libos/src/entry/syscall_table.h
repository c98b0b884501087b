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
    SYSCALL(0, read, Full, "fpz", "")                                                              \
    SYSCALL(1, write, Full, "fpz", "")                                                             \
    SYSCALL(2, open, Partial, "sxo", "O_TMPFILE on tmpfs only (chroot mounts: EOPNOTSUPP, the PAL " \
                                    "has no unnamed host files); permission bits are checked by "  \
                                    "the host on chroot mounts only")                              \
    SYSCALL(3, close, Full, "f", "")                                                               \
    SYSCALL(4, stat, Full, "sp", "")                                                               \
    SYSCALL(5, fstat, Full, "fp", "")                                                              \
    SYSCALL(6, lstat, Full, "sp", "")                                                              \
    SYSCALL(7, poll, Full, "pui", "")                                                              \
    SYSCALL(8, lseek, Partial, "fix", "directories on chroot mounts can only be rewound (offset 0); " \
                                     "tmpfs and /proc directories seek to any returned d_off")     \
    SYSCALL(9, mmap, Partial, "pzxxfx",                                                            \
            "chroot, tmpfs and memfd files and anonymous memory (a tmpfs file's data moves to "    \
            "host shared memory when first mapped; SEEK_HOLE then finds no holes); "               \
            "MAP_SHARED|MAP_ANONYMOUS (and /dev/zero mapped shared) is a nameless tmpfs file, "    \
            "shared with the children forked after it; "                                           \
            "no MAP_HUGETLB")                                                                      \
    SYSCALL(10, mprotect, Full, "pzx", "")                                                         \
    SYSCALL(11, munmap, Full, "pz", "")                                                            \
    SYSCALL(12, brk, Full, "p", "")                                                                \
    SYSCALL(13, rt_sigaction, Full, "ippz", "")                                                    \
    SYSCALL(14, rt_sigprocmask, Full, "ippz", "")                                                  \
    SYSCALL(15, rt_sigreturn, Full, "", "")                                                        \
    SYSCALL(16, ioctl, Partial, "fxp", "FIONBIO, FIOASYNC, FIOSETOWN, FIOGETOWN, FIOCLEX, FIONCLEX, " \
                                       "FIONREAD, the socket (SIOCSPGRP, SIOCGPGRP...) and "         \
                                       "pseudo-terminal requests; the console is not a terminal "  \
                                       "(ENOTTY)")                                                 \
    SYSCALL(17, pread64, Full, "fpzi", "")                                                         \
    SYSCALL(18, pwrite64, Full, "fpzi", "")                                                        \
    SYSCALL(19, readv, Full, "fpi", "")                                                            \
    SYSCALL(20, writev, Full, "fpi", "")                                                           \
    SYSCALL(21, access, Full, "so", "")                                                            \
    SYSCALL(22, pipe, Full, "p", "")                                                               \
    SYSCALL(23, select, Full, "ipppp", "")                                                         \
    SYSCALL(24, sched_yield, Full, "", "")                                                         \
    SYSCALL(25, mremap, Partial, "pzzxp", "no MREMAP_DONTUNMAP and no old_size 0 (EINVAL)")        \
    SYSCALL(26, msync, Full, "pzx", "")                                                            \
    SYSCALL(27, mincore, Full, "pzp", "")                                                          \
    SYSCALL(28, madvise, Full, "pzi", "")                                                          \
    SYSCALL(32, dup, Full, "f", "")                                                                \
    SYSCALL(33, dup2, Full, "ff", "")                                                              \
    SYSCALL(34, pause, Full, "", "")                                                               \
    SYSCALL(35, nanosleep, Full, "pp", "")                                                         \
    SYSCALL(36, getitimer, Full, "ip", "")                                                         \
    SYSCALL(37, alarm, Full, "u", "")                                                              \
    SYSCALL(38, setitimer, Partial, "ipp", "ITIMER_VIRTUAL counts system time too")                \
    SYSCALL(39, getpid, Full, "", "")                                                              \
    SYSCALL(40, sendfile, Full, "ffpz", "")                                                        \
    SYSCALL(41, socket, Partial, "iii", "AF_UNIX (stream, dgram, seqpacket; inside the LibOS) and " \
                                        "AF_INET/AF_INET6 TCP and UDP (host sockets); no raw, "    \
                                        "netlink or packet sockets (EAFNOSUPPORT, ESOCKTNOSUPPORT). " \
                                        "AF_UNIX: no MSG_OOB (EOPNOTSUPP), sockets in a cycle of " \
                                        "in-flight SCM_RIGHTS are never freed, host processes "    \
                                        "cannot connect to a path-bound socket")                   \
    SYSCALL(42, connect, Partial, "fpi", "AF_UNIX to a socket of another process of the instance: " \
                                         "stream sockets only (seqpacket: ECONNREFUSED), and a "   \
                                         "listener that ends or fills meanwhile resets the "       \
                                         "connection instead of refusing it")                      \
    SYSCALL(43, accept, Full, "fpp", "")                                                           \
    SYSCALL(44, sendto, Partial, "fpzxpi", "AF_UNIX datagrams reach the sockets of the sending "  \
                                           "process only (a name another process holds: "         \
                                           "ECONNREFUSED)")                                        \
    SYSCALL(45, recvfrom, Full, "fpzxpp", "")                                                      \
    SYSCALL(46, sendmsg, Partial, "fpx", "SCM_RIGHTS and SCM_CREDENTIALS on AF_UNIX (between "     \
                                         "processes: SCM_RIGHTS of the files fork shares, "        \
                                         "EOPNOTSUPP for others; no SCM_CREDENTIALS); IP-level "   \
                                         "control messages (IP_PKTINFO...) are not passed on")     \
    SYSCALL(47, recvmsg, Partial, "fpx", "SCM_RIGHTS and SCM_CREDENTIALS on AF_UNIX; no "          \
                                         "MSG_ERRQUEUE, no IP-level control messages")             \
    SYSCALL(48, shutdown, Full, "fi", "")                                                          \
    SYSCALL(49, bind, Full, "fpi", "")                                                             \
    SYSCALL(50, listen, Full, "fi", "")                                                            \
    SYSCALL(51, getsockname, Full, "fpp", "")                                                      \
    SYSCALL(52, getpeername, Full, "fpp", "")                                                      \
    SYSCALL(53, socketpair, Full, "iiip", "")                                                      \
    SYSCALL(54, setsockopt, Partial, "fiipi", "SOL_SOCKET, TCP, IP and IPv6 options a server "     \
                                             "uses; SO_PRIORITY/SO_PASSCRED recorded; others "     \
                                             "ENOPROTOOPT")                                        \
    SYSCALL(55, getsockopt, Partial, "fiipp", "as setsockopt; no TCP_INFO")                        \
    SYSCALL(56, clone, Partial, "xppps", "threads (CLONE_THREAD with VM, FS, FILES, SIGHAND), at most " \
                                        "16384 at once (EAGAIN beyond); processes as fork (see fork), " \
                                        "CLONE_VM only with CLONE_VFORK (posix_spawn: the child gets a " \
                                        "copy); CLONE_PIDFD of processes; no namespaces or "     \
                                        "CLONE_PARENT (ENOSYS)")                                  \
    SYSCALL(57, fork, Partial, "", "a fresh PAL process restored from a checkpoint; consoles, host "  \
                                  "files and sockets (one open file description), pipes and "   \
                                  "MAP_SHARED file mappings are shared; tmpfs and /dev/shm are "  \
                                  "one namespace and content for the instance (the first "       \
                                  "process serves them) and their open files one description; "  \
                                  "other files with a path are reopened (own offset); an "        \
                                  "AF_UNIX socket pair (stream, datagram or seqpacket) moves to a " \
                                  "host socket pair (SCM_RIGHTS across it passes the kinds "       \
                                  "above), an eventfd's counter to a host eventfd; other AF_UNIX " \
                                  "sockets (listeners: connect from another process instead), "    \
                                  "FIFOs, timerfds and epoll are stand-ins failing with EIO")     \
    SYSCALL(58, vfork, Partial, "", "as fork, the parent waiting until the child execs or ends; "   \
                                   "the child has a copy of the memory, not the parent's")        \
    SYSCALL(59, execve, Partial, "spp", "in place, same pid, as Linux; set-user-ID and set-group-ID " \
                                       "bits are not applied (AT_SECURE is 0)")                   \
    SYSCALL(60, exit, Full, "i", "")                                                               \
    SYSCALL(61, wait4, Partial, "ipip", "children that exited or were killed (status as Linux); "  \
                                       "stopped/continued children are not reported; rusage is "  \
                                       "zero")                                                     \
    SYSCALL(62, kill, Partial, "ii", "any process of the instance (the leader's process table "        \
                                    "routes it), 0 and -pgid the group across processes, -1 every "  \
                                    "process but pid 1 and the caller, with the sender's siginfo; "  \
                                    "SIGCONT to another process carries no sender (the host signal " \
                                    "that resumes it)")                                              \
    SYSCALL(63, uname, Full, "p", "")                                                              \
    SYSCALL(72, fcntl, Partial, "fxx", "F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL (O_ASYNC "      \
                                       "signals: F_SETOWN(_EX), F_GETOWN(_EX), F_SETSIG, F_GETSIG; "  \
                                       "a host-backed file signals when readable, not when writable); " \
                                       "POSIX locks (F_GETLK/SETLK/SETLKW) are granted as within one " \
                                       "process; F_GETPIPE_SZ/SETPIPE_SZ; no OFD locks or leases "     \
                                       "(EINVAL)")                                                      \
    SYSCALL(74, fsync, Full, "f", "")                                                              \
    SYSCALL(75, fdatasync, Full, "f", "")                                                          \
    SYSCALL(76, truncate, Full, "si", "")                                                          \
    SYSCALL(77, ftruncate, Full, "fi", "")                                                         \
    SYSCALL(78, getdents, Full, "fpz", "")                                                         \
    SYSCALL(79, getcwd, Full, "pz", "")                                                            \
    SYSCALL(80, chdir, Full, "s", "")                                                              \
    SYSCALL(81, fchdir, Full, "f", "")                                                             \
    SYSCALL(82, rename, Full, "ss", "")                                                            \
    SYSCALL(83, mkdir, Full, "so", "")                                                             \
    SYSCALL(84, rmdir, Full, "s", "")                                                              \
    SYSCALL(85, creat, Full, "so", "")                                                             \
    SYSCALL(86, link, Full, "ss", "")                                                              \
    SYSCALL(87, unlink, Full, "s", "")                                                             \
    SYSCALL(88, symlink, Full, "ss", "")                                                           \
    SYSCALL(89, readlink, Full, "spz", "")                                                         \
    SYSCALL(90, chmod, Full, "so", "")                                                             \
    SYSCALL(91, fchmod, Full, "fo", "")                                                            \
    SYSCALL(92, chown, Full, "suu", "")                                                            \
    SYSCALL(93, fchown, Full, "fuu", "")                                                           \
    SYSCALL(94, lchown, Full, "suu", "")                                                           \
    SYSCALL(95, umask, Full, "o", "")                                                              \
    SYSCALL(96, gettimeofday, Full, "pp", "")                                                      \
    SYSCALL(97, getrlimit, Full, "ip", "")                                                         \
    SYSCALL(98, getrusage, Partial, "ip", "RUSAGE_CHILDREN is all zero until child processes exist") \
    SYSCALL(99, sysinfo, Partial, "p", "memory as /proc/meminfo shows it; no load average, no swap") \
    SYSCALL(100, times, Partial, "p", "children's times are zero until child processes exist")     \
    SYSCALL(102, getuid, Full, "", "")                                                             \
    SYSCALL(104, getgid, Full, "", "")                                                             \
    SYSCALL(105, setuid, Partial, "u", "the ids are the LibOS's: the host process keeps its own "  \
                                       "identity and files are still accessed with the host's "    \
                                       "rights; privilege is an effective uid of 0 (no capability " \
                                       "sets); the credentials are per process (glibc and musl "   \
                                       "apply them to every thread); /proc/self/status shows the " \
                                       "effective ids in every column")                            \
    SYSCALL(106, setgid, Partial, "u", "as setuid")                                                \
    SYSCALL(107, geteuid, Full, "", "")                                                            \
    SYSCALL(108, getegid, Full, "", "")                                                            \
    SYSCALL(109, setpgid, Partial, "ii", "of the caller or of a child in its session, to the "        \
                                       "target's own group or one of the caller's; no EACCES after "  \
                                       "the child's execve")                                        \
    SYSCALL(110, getppid, Full, "", "")                                                            \
    SYSCALL(111, getpgrp, Full, "", "")                                                            \
    SYSCALL(112, setsid, Full, "", "")                                                             \
    SYSCALL(113, setreuid, Partial, "uu", "as setuid")                                             \
    SYSCALL(114, setregid, Partial, "uu", "as setuid")                                             \
    SYSCALL(115, getgroups, Partial, "ip", "starts as the process's gid alone, not the host's "    \
                                           "supplementary groups")                                 \
    SYSCALL(116, setgroups, Partial, "ip", "as setuid")                                            \
    SYSCALL(117, setresuid, Partial, "uuu", "as setuid")                                           \
    SYSCALL(118, getresuid, Full, "ppp", "")                                                       \
    SYSCALL(119, setresgid, Partial, "uuu", "as setuid")                                           \
    SYSCALL(120, getresgid, Full, "ppp", "")                                                       \
    SYSCALL(121, getpgid, Full, "i", "")                                                           \
    SYSCALL(122, setfsuid, Partial, "u", "as setuid; the fs ids are recorded, but new tmpfs files " \
                                         "and pseudo-file owners take the effective ids")          \
    SYSCALL(123, setfsgid, Partial, "u", "as setfsuid")                                            \
    SYSCALL(124, getsid, Full, "i", "")                                                            \
    SYSCALL(125, capget, Partial, "pp", "all capabilities for uid 0, none otherwise")              \
    SYSCALL(126, capset, Partial, "pp", "only the sets already held (a change: EPERM)")            \
    SYSCALL(127, rt_sigpending, Full, "pz", "")                                                    \
    SYSCALL(128, rt_sigtimedwait, Full, "pppz", "")                                                \
    SYSCALL(129, rt_sigqueueinfo, Full, "iip", "")                                                 \
    SYSCALL(130, rt_sigsuspend, Full, "pz", "")                                                    \
    SYSCALL(131, sigaltstack, Full, "pp", "")                                                      \
    SYSCALL(132, utime, Full, "sp", "")                                                            \
    SYSCALL(133, mknod, Partial, "sox", "regular files, FIFOs and socket nodes (tmpfs only; chroot: " \
                                        "EPERM), which open(2) answers ENXIO; devices answer EPERM: " \
                                        "no CAP_MKNOD is granted. A chroot mount's FIFO is a LibOS " \
                                        "pipe: another host process opening it is not connected")  \
    SYSCALL(134, uselib, Enosys, "", "a.out shared libraries: kernels built without CONFIG_USELIB " \
                                     "(Debian's) answer ENOSYS")                                   \
    SYSCALL(135, personality, Partial, "x", "stored and reported; no flag changes behaviour")      \
    SYSCALL(137, statfs, Full, "sp", "")                                                           \
    SYSCALL(138, fstatfs, Partial, "fp", "files on a mount (chroot: the host file system's own "   \
                                         "figures and f_type); the console has no mount and answers " \
                                         "ENOSYS")                                                 \
    SYSCALL(140, getpriority, Partial, "ii", "per-thread nice values as recorded; PRIO_PGRP and "  \
                                             "PRIO_USER see this process only")                    \
    SYSCALL(141, setpriority, Partial, "iii", "nice values are recorded, not applied to host "     \
                                              "threads; lowering one needs uid 0; PRIO_PGRP and "  \
                                              "PRIO_USER reach this process only")                 \
    SYSCALL(142, sched_setparam, Full, "ip", "")                                                   \
    SYSCALL(143, sched_getparam, Full, "ip", "")                                                   \
    SYSCALL(144, sched_setscheduler, Partial, "iip", "SCHED_OTHER, SCHED_BATCH and SCHED_IDLE are " \
                                                     "recorded, not applied; SCHED_FIFO and "      \
                                                     "SCHED_RR answer EPERM even for uid 0: the "  \
                                                     "LibOS cannot run a thread in real time")     \
    SYSCALL(145, sched_getscheduler, Full, "i", "")                                                \
    SYSCALL(146, sched_get_priority_max, Full, "i", "")                                            \
    SYSCALL(147, sched_get_priority_min, Full, "i", "")                                            \
    SYSCALL(148, sched_rr_get_interval, Partial, "ip", "0 s (no thread is SCHED_RR; Linux may give " \
                                                       "a fair-scheduler slice)")                  \
    SYSCALL(149, mlock, Partial, "xz", "made resident; the host may still page them out")          \
    SYSCALL(150, munlock, Full, "xz", "")                                                          \
    SYSCALL(151, mlockall, Partial, "x", "as mlock")                                               \
    SYSCALL(152, munlockall, Full, "", "")                                                         \
    SYSCALL(153, vhangup, Full, "", "")                                                            \
    SYSCALL(156, _sysctl, Enosys, "", "removed from Linux in 5.5; Linux answers ENOSYS")           \
    SYSCALL(157, prctl, Partial, "ixxxx", "PR_SET/GET_NAME (per thread, shown in /proc comm), "    \
                                          "DUMPABLE, KEEPCAPS, GET_SECUREBITS, NO_NEW_PRIVS, "     \
                                          "TIMERSLACK; PDEATHSIG (sent when the parent process "   \
                                          "ends, a signal a host carries); CHILD_SUBREAPER is "    \
                                          "recorded (orphans go to pid 1); "                       \
                                          "GET_SECCOMP is 0, CAPBSET_READ the full set, "          \
                                          "GET_TID_ADDRESS; PR_SET_VMA (as without "               \
                                          "CONFIG_ANON_VMA_NAME) and other options answer EINVAL") \
    SYSCALL(158, arch_prctl, Full, "ip", "")                                                       \
    SYSCALL(159, adjtimex, Full, "p", "")                                                          \
    SYSCALL(160, setrlimit, Partial, "ip", "per-process limits; raising a hard limit needs an "    \
                                           "effective uid of 0; RLIMIT_NOFILE is at most 1024, the " \
                                           "descriptor table (EPERM above, as Linux above "        \
                                           "fs.nr_open), and its soft limit bounds new descriptors " \
                                           "(poll's nfds check stays at 1024); the other limits "  \
                                           "are recorded, not enforced (setpriority and "          \
                                           "sched_setscheduler keep Linux's default RLIMIT_NICE "  \
                                           "and RLIMIT_RTPRIO of 0)")                              \
    SYSCALL(162, sync, Full, "", "")                                                               \
    SYSCALL(163, acct, Full, "s", "")                                                              \
    SYSCALL(164, settimeofday, Full, "pp", "")                                                     \
    SYSCALL(169, reboot, Full, "xxxp", "")                                                         \
    SYSCALL(172, iopl, Enosys, "", "the kernel Carbyne presents has no I/O port access "           \
                                   "(CONFIG_X86_IOPL_IOPERM=n); Linux built so answers ENOSYS")    \
    SYSCALL(173, ioperm, Enosys, "", "the kernel Carbyne presents has no I/O port access "         \
                                     "(CONFIG_X86_IOPL_IOPERM=n); Linux built so answers ENOSYS")  \
    SYSCALL(174, create_module, Enosys, "", "removed from Linux in 2.6; Linux answers ENOSYS")     \
    SYSCALL(175, init_module, Enosys, "", "the kernel Carbyne presents has no loadable modules "   \
                                          "(CONFIG_MODULES=n); Linux built so answers ENOSYS")     \
    SYSCALL(176, delete_module, Enosys, "", "the kernel Carbyne presents has no loadable "         \
                                            "modules (CONFIG_MODULES=n); Linux built so answers "  \
                                            "ENOSYS")                                              \
    SYSCALL(177, get_kernel_syms, Enosys, "", "removed from Linux in 2.6; Linux answers ENOSYS")   \
    SYSCALL(178, query_module, Enosys, "", "removed from Linux in 2.6; Linux answers ENOSYS")      \
    SYSCALL(180, nfsservctl, Enosys, "", "removed from Linux in 3.1; Linux answers ENOSYS")        \
    SYSCALL(181, getpmsg, Enosys, "", "never implemented by Linux; Linux answers ENOSYS")          \
    SYSCALL(182, putpmsg, Enosys, "", "never implemented by Linux; Linux answers ENOSYS")          \
    SYSCALL(183, afs_syscall, Enosys, "", "never implemented by Linux; Linux answers ENOSYS")      \
    SYSCALL(184, tuxcall, Enosys, "", "never implemented by Linux; Linux answers ENOSYS")          \
    SYSCALL(185, security, Enosys, "", "never implemented by Linux; Linux answers ENOSYS")         \
    SYSCALL(186, gettid, Full, "", "")                                                             \
    SYSCALL(187, readahead, Full, "fiz", "")                                                       \
    SYSCALL(188, setxattr, Partial, "sspzx", "system.* (POSIX ACLs): EOPNOTSUPP")                  \
    SYSCALL(189, lsetxattr, Partial, "sspzx", "system.* (POSIX ACLs): EOPNOTSUPP")                 \
    SYSCALL(190, fsetxattr, Partial, "fspzx", "system.* (POSIX ACLs): EOPNOTSUPP")                 \
    SYSCALL(191, getxattr, Partial, "sspz", "system.* (POSIX ACLs): EOPNOTSUPP")                   \
    SYSCALL(192, lgetxattr, Partial, "sspz", "system.* (POSIX ACLs): EOPNOTSUPP")                  \
    SYSCALL(193, fgetxattr, Partial, "fspz", "system.* (POSIX ACLs): EOPNOTSUPP")                  \
    SYSCALL(194, listxattr, Partial, "spz", "system.* (POSIX ACLs): EOPNOTSUPP")                   \
    SYSCALL(195, llistxattr, Partial, "spz", "system.* (POSIX ACLs): EOPNOTSUPP")                  \
    SYSCALL(196, flistxattr, Partial, "fpz", "system.* (POSIX ACLs): EOPNOTSUPP")                  \
    SYSCALL(197, removexattr, Partial, "ss", "system.* (POSIX ACLs): EOPNOTSUPP")                  \
    SYSCALL(198, lremovexattr, Partial, "ss", "system.* (POSIX ACLs): EOPNOTSUPP")                 \
    SYSCALL(199, fremovexattr, Partial, "fs", "system.* (POSIX ACLs): EOPNOTSUPP")                 \
    SYSCALL(200, tkill, Full, "ii", "")                                                            \
    SYSCALL(201, time, Full, "p", "")                                                              \
    SYSCALL(202, futex, Partial, "pxipxu", "WAIT, WAKE, the BITSET forms, REQUEUE, CMP_REQUEUE, "  \
                                           "WAKE_OP, LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI, both " \
                                           "clocks. PI futexes hand ownership on but boost no "    \
                                           "priority (the host schedules the threads); a PI owner " \
                                           "that exits without a robust list entry is noticed "    \
                                           "within 0.1 s; a plain wake of a PI waiter makes it "   \
                                           "retry (Linux: EINVAL); an absolute REALTIME timeout "  \
                                           "ignores later clock changes; no WAIT_REQUEUE_PI or "   \
                                           "CMP_REQUEUE_PI (ENOSYS: glibc and musl do not use "    \
                                           "them); WAKE_OP and PI calls on a word mapped read-only " \
                                           "end the process instead of EFAULT; a shared (non-"     \
                                           "PRIVATE) WAIT in an instance of several processes "    \
                                           "looks at the word every 1 ms (another process's WAKE " \
                                           "does not reach it yet)")                               \
    SYSCALL(203, sched_setaffinity, Partial, "izp", "recorded per thread and answered by "         \
                                                    "sched_getaffinity; the host thread is not "   \
                                                    "pinned (getcpu may name any CPU)")            \
    SYSCALL(204, sched_getaffinity, Full, "izp", "")                                               \
    SYSCALL(206, io_setup, Full, "up", "")                                                         \
    SYSCALL(207, io_destroy, Full, "x", "")                                                        \
    SYSCALL(208, io_getevents, Full, "xiipp", "")                                                  \
    SYSCALL(209, io_submit, Partial, "xip", "each request is done before io_submit returns; "      \
                                            "IOCB_CMD_POLL is not supported (EINVAL)")             \
    SYSCALL(210, io_cancel, Full, "xpp", "")                                                       \
    SYSCALL(212, lookup_dcookie, Enosys, "", "removed from Linux with oprofile's dcookies; Linux " \
                                             "answers ENOSYS")                                     \
    SYSCALL(213, epoll_create, Full, "i", "")                                                      \
    SYSCALL(214, epoll_ctl_old, Enosys, "", "never implemented on x86-64; Linux answers ENOSYS")   \
    SYSCALL(215, epoll_wait_old, Enosys, "", "never implemented on x86-64; Linux answers ENOSYS")  \
    SYSCALL(217, getdents64, Full, "fpz", "")                                                      \
    SYSCALL(218, set_tid_address, Full, "p", "")                                                   \
    SYSCALL(221, fadvise64, Full, "fiix", "")                                                      \
    SYSCALL(222, timer_create, Partial, "ipp", "no CLOCK_THREAD_CPUTIME_ID timers (EOPNOTSUPP)")   \
    SYSCALL(223, timer_settime, Full, "ixpp", "")                                                  \
    SYSCALL(224, timer_gettime, Full, "ip", "")                                                    \
    SYSCALL(225, timer_getoverrun, Full, "i", "")                                                  \
    SYSCALL(226, timer_delete, Full, "i", "")                                                      \
    SYSCALL(227, clock_settime, Full, "ip", "")                                                    \
    SYSCALL(228, clock_gettime, Full, "ip", "")                                                    \
    SYSCALL(229, clock_getres, Full, "ip", "")                                                     \
    SYSCALL(230, clock_nanosleep, Partial, "ixpp", "an absolute REALTIME sleep ignores later clock " \
                                                  "changes")                                       \
    SYSCALL(231, exit_group, Full, "i", "")                                                        \
    SYSCALL(232, epoll_wait, Full, "fpii", "")                                                     \
    SYSCALL(233, epoll_ctl, Partial, "fifp", "an epoll that watches epolls cannot be added to "    \
                                          "another (ELOOP; Linux nests 5 levels); console "        \
                                          "entries are level-triggered")                           \
    SYSCALL(234, tgkill, Partial, "iii", "a thread of another process that has ended is not "      \
                                         "reported (ESRCH): its process gets the signal")          \
    SYSCALL(235, utimes, Full, "sp", "")                                                           \
    SYSCALL(236, vserver, Enosys, "", "never implemented by Linux; Linux answers ENOSYS")          \
    SYSCALL(237, mbind, Full, "pzxpux", "")                                                        \
    SYSCALL(238, set_mempolicy, Full, "xpu", "")                                                   \
    SYSCALL(239, get_mempolicy, Full, "ppupx", "")                                                 \
    SYSCALL(246, kexec_load, Enosys, "", "the kernel Carbyne presents has no kexec "               \
                                         "(CONFIG_KEXEC=n); Linux built so answers ENOSYS")        \
    SYSCALL(247, waitid, Partial, "iipip", "as wait4 (WEXITED, WNOHANG, WNOWAIT, P_PID, P_PGID, "  \
                                          "P_ALL, P_PIDFD with PIDFD_NONBLOCK's EAGAIN)")       \
    SYSCALL(251, ioprio_set, Partial, "iix", "recorded per thread, not applied to host I/O; "      \
                                             "IOPRIO_WHO_PGRP and IOPRIO_WHO_USER reach this "     \
                                             "process only")                                       \
    SYSCALL(252, ioprio_get, Partial, "ii", "as recorded; IOPRIO_WHO_PGRP and IOPRIO_WHO_USER see " \
                                            "this process only")                                   \
    SYSCALL(253, inotify_init, Full, "", "")                                                       \
    SYSCALL(254, inotify_add_watch, Partial, "fsx", "events of what the instance does, on every "  \
                                                    "mount (host processes outside it are not "    \
                                                    "seen); a watch follows its name's object "    \
                                                    "(another hard link's changes are not its "    \
                                                    "events); IN_DELETE_SELF comes at the "        \
                                                    "unlink, not at the last close")               \
    SYSCALL(255, inotify_rm_watch, Full, "fi", "")                                                 \
    SYSCALL(256, migrate_pages, Full, "iupp", "")                                                  \
    SYSCALL(257, openat, Partial, "fsxo", "as open")                                               \
    SYSCALL(258, mkdirat, Full, "fso", "")                                                         \
    SYSCALL(259, mknodat, Partial, "fsox", "as mknod")                                             \
    SYSCALL(260, fchownat, Full, "fsuux", "")                                                      \
    SYSCALL(261, futimesat, Full, "fsp", "")                                                       \
    SYSCALL(262, newfstatat, Full, "fspx", "")                                                     \
    SYSCALL(263, unlinkat, Full, "fsx", "")                                                        \
    SYSCALL(264, renameat, Full, "fsfs", "")                                                       \
    SYSCALL(265, linkat, Full, "fsfsx", "")                                                        \
    SYSCALL(266, symlinkat, Full, "sfs", "")                                                       \
    SYSCALL(267, readlinkat, Full, "fspz", "")                                                     \
    SYSCALL(268, fchmodat, Full, "fso", "")                                                        \
    SYSCALL(269, faccessat, Full, "fso", "")                                                       \
    SYSCALL(270, pselect6, Full, "ippppp", "")                                                     \
    SYSCALL(271, ppoll, Full, "pupp", "")                                                          \
    SYSCALL(273, set_robust_list, Full, "pz", "")                                                  \
    SYSCALL(274, get_robust_list, Full, "ipp", "")                                                 \
    SYSCALL(275, splice, Partial, "fpfpzx", "bytes a pipe gives up that the other side then "      \
                                            "refuses are lost (Linux moves pipe pages and loses "  \
                                            "none)")                                               \
    SYSCALL(276, tee, Full, "ffzx", "")                                                            \
    SYSCALL(277, sync_file_range, Full, "fiix", "")                                                \
    SYSCALL(278, vmsplice, Full, "fpux", "")                                                       \
    SYSCALL(279, move_pages, Full, "iupppx", "")                                                   \
    SYSCALL(280, utimensat, Full, "fspx", "")                                                      \
    SYSCALL(281, epoll_pwait, Full, "fpiipz", "")                                                  \
    SYSCALL(282, signalfd, Full, "fpz", "")                                                        \
    SYSCALL(283, timerfd_create, Full, "ix", "")                                                   \
    SYSCALL(284, eventfd, Full, "u", "")                                                           \
    SYSCALL(285, fallocate, Full, "fxii", "")                                                      \
    SYSCALL(286, timerfd_settime, Partial, "fxpp", "TFD_TIMER_CANCEL_ON_SET is accepted; a clock " \
                                                   "change never cancels")                         \
    SYSCALL(287, timerfd_gettime, Full, "fp", "")                                                  \
    SYSCALL(288, accept4, Full, "fppx", "")                                                        \
    SYSCALL(289, signalfd4, Full, "fpzx", "")                                                      \
    SYSCALL(290, eventfd2, Full, "ux", "")                                                         \
    SYSCALL(291, epoll_create1, Full, "x", "")                                                     \
    SYSCALL(292, dup3, Full, "ffx", "")                                                            \
    SYSCALL(293, pipe2, Partial, "px", "O_NONBLOCK, O_CLOEXEC, O_DIRECT (packet mode); no "        \
                                   "O_NOTIFICATION_PIPE (EINVAL): there are no watch queues")      \
    SYSCALL(294, inotify_init1, Full, "x", "")                                                     \
    SYSCALL(295, preadv, Full, "fpii", "")                                                         \
    SYSCALL(296, pwritev, Full, "fpii", "")                                                        \
    SYSCALL(297, rt_tgsigqueueinfo, Partial, "iiip", "as tgkill")                                  \
    SYSCALL(299, recvmmsg, Full, "fpuxp", "")                                                      \
    SYSCALL(302, prlimit64, Partial, "iipp", "as setrlimit; this process only (another pid: ESRCH)") \
    SYSCALL(305, clock_adjtime, Full, "ip", "")                                                    \
    SYSCALL(306, syncfs, Full, "f", "")                                                            \
    SYSCALL(307, sendmmsg, Full, "fpux", "")                                                       \
    SYSCALL(309, getcpu, Full, "ppp", "")                                                          \
    SYSCALL(310, process_vm_readv, Partial, "ipupux", "this process only (another pid: ESRCH)")    \
    SYSCALL(311, process_vm_writev, Partial, "ipupux", "this process only (another pid: ESRCH)")   \
    SYSCALL(313, finit_module, Enosys, "", "the kernel Carbyne presents has no loadable modules "  \
                                           "(CONFIG_MODULES=n); Linux built so answers ENOSYS")    \
    SYSCALL(314, sched_setattr, Partial, "ipx", "as sched_setscheduler (fair policies and nice "   \
                                                "recorded; SCHED_FIFO, SCHED_RR and "              \
                                                "SCHED_DEADLINE EPERM even for uid 0)")            \
    SYSCALL(315, sched_getattr, Full, "ipux", "")                                                  \
    SYSCALL(316, renameat2, Full, "fsfsx", "")                                                     \
    SYSCALL(318, getrandom, Full, "pzx", "")                                                       \
    SYSCALL(319, memfd_create, Partial, "sx", "a private tmpfs file; no file seals (F_ADD_SEALS "  \
                                              "answers EINVAL) and no MFD_HUGETLB (EINVAL)")       \
    SYSCALL(320, kexec_file_load, Enosys, "", "the kernel Carbyne presents has no kexec "          \
                                              "(CONFIG_KEXEC_FILE=n); Linux built so answers "     \
                                              "ENOSYS")                                            \
    SYSCALL(322, execveat, Partial, "fsppx", "as execve; AT_EMPTY_PATH runs the file open at " \
                                            "the fd")                                           \
    SYSCALL(324, membarrier, Partial, "xxi", "no SYNC_CORE or RSEQ kinds (EINVAL)")                \
    SYSCALL(325, mlock2, Partial, "xzx", "as mlock")                                               \
    SYSCALL(326, copy_file_range, Full, "fpfpzx", "")                                              \
    SYSCALL(327, preadv2, Partial, "fpiiix", "RWF_NOWAIT is taken as a hint: a read of a host file " \
                                             "may wait for its disk")                              \
    SYSCALL(328, pwritev2, Partial, "fpiiix", "RWF_NOWAIT answers EOPNOTSUPP; RWF_APPEND on a file " \
                                              "without O_APPEND is not atomic against other "      \
                                              "appenders")                                         \
    SYSCALL(332, statx, Full, "fsxxp", "")                                                         \
    SYSCALL(333, io_pgetevents, Full, "xiippp", "")                                                \
    SYSCALL(334, rseq, Enosys, "pzip", "restartable sequences need preemption notices; glibc falls " \
                                     "back without them")                                          \
    SYSCALL(424, pidfd_send_signal, Full, "fipu", "")                                              \
    SYSCALL(425, io_uring_setup, Enosys, "", "io_uring is not provided: its rings live in "        \
                                             "application memory and are worked by the kernel "    \
                                             "on its own; programs and liburing fall back to "     \
                                             "ordinary calls on ENOSYS")                           \
    SYSCALL(426, io_uring_enter, Enosys, "", "io_uring is not provided (see io_uring_setup)")      \
    SYSCALL(427, io_uring_register, Enosys, "", "io_uring is not provided (see io_uring_setup)")   \
    SYSCALL(434, pidfd_open, Partial, "iu", "any process of the instance; PIDFD_NONBLOCK; no "     \
                                         "PIDFD_THREAD (EINVAL); a pidfd of the first process, or "\
                                         "of the caller, never becomes readable (the instance ends " \
                                         "with the first); a pidfd does not cross fork or SCM_RIGHTS")\
    SYSCALL(435, clone3, Partial, "pz", "as clone; no set_tid or cgroup (ENOSYS)")                 \
    SYSCALL(436, close_range, Full, "uux", "")                                                     \
    SYSCALL(437, openat2, Partial, "fspz", "as openat; RESOLVE_CACHED always answers EAGAIN (the " \
                                           "last component is always asked of the file system)")   \
    SYSCALL(439, faccessat2, Full, "fsox", "")                                                     \
    SYSCALL(441, epoll_pwait2, Full, "fpippz", "")                                                 \
    SYSCALL(449, futex_waitv, Full, "puxpi", "")                                                   \
    SYSCALL(450, set_mempolicy_home_node, Full, "pzux", "")
