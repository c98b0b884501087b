// What the call families (calls_fs.c, calls_io.c, calls_mm.c, calls_proc.c) share: the
// headers, numbers newer than some system headers, and the table-entry macros. Each family
// file holds the argument generators of its calls and ends with its part of the call
// table; the arguments are edge cases by design, within the safety rules of fuzz.h, and
// comments say why an argument is held back.
#ifndef CARBYNE_FUZZ_CALLS_H
#define CARBYNE_FUZZ_CALLS_H

#include "fuzz.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <linux/openat2.h>
#include <linux/prctl.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/stat.h>
#include <linux/fs.h>
#include <asm/prctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

// Newer than some headers.
#define NR_fchmodat2 452
#define NR_futex_wake 454
#define NR_futex_wait 455
#define NR_futex_requeue 456
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#define SA_RESTORER 0x04000000
#define SS_AUTODISARM (1u << 31)

#define A (c->a)

// One entry of a family's part of the call table: the SYS_ number, or a number given.
#define S(name, weight, flags, gen, post) {#name, SYS_##name, weight, flags, gen, post}
#define N(name, nr, weight, flags, gen, post) {name, nr, weight, flags, gen, post}

#endif  // CARBYNE_FUZZ_CALLS_H
