/* The Platform Abstraction Layer: the whole interface between the LibOS and the host.
 *
 * The LibOS reaches the host only through the PalApi table it receives in libos_init();
 * nothing else in libos.so may touch the host (DESIGN.md section 9). Every call returns a
 * PalError (never an errno); the LibOS converts it to an errno in exactly one place.
 *
 * Threading: every host thread that runs LibOS or application code is a PAL thread. Its
 * %gs base points at its PalTcb (below); the first two words are public. The application
 * owns %fs; the PAL and the LibOS never read it.
 *
 * Processes: a process is started as a fresh carbyne-pal (process_create) that loads the
 * same libos.so at the same address; the two talk over a channel, a byte stream that also
 * carries PAL handles.
 */
#ifndef CARBYNE_PAL_H
#define CARBYNE_PAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum PalError {
    PAL_OK = 0,
    PAL_E_NOMEM,        /* out of memory or address space */
    PAL_E_NOENT,        /* no such file or directory */
    PAL_E_DENIED,       /* permission denied by the host */
    PAL_E_PERM,         /* operation not permitted */
    PAL_E_EXISTS,       /* already exists */
    PAL_E_NOTDIR,       /* a path component is not a directory */
    PAL_E_ISDIR,        /* is a directory */
    PAL_E_INVAL,        /* invalid argument */
    PAL_E_AGAIN,        /* would block */
    PAL_E_INTR,         /* interrupted by a host signal */
    PAL_E_BADHANDLE,    /* handle not valid for this operation */
    PAL_E_NOTEMPTY,     /* directory not empty */
    PAL_E_ROFS,         /* read-only file system */
    PAL_E_NOSPC,        /* no space left */
    PAL_E_NAMETOOLONG,  /* name too long */
    PAL_E_LOOP,         /* too many symbolic links */
    PAL_E_XDEV,         /* cross-device link */
    PAL_E_NOTSUP,       /* not supported by this host object */
    PAL_E_IO,           /* I/O error */
    PAL_E_PIPE,         /* peer closed */
    PAL_E_TIMEDOUT,     /* timeout expired */
    PAL_E_BUSY,         /* resource busy */
    PAL_E_TOOMANY,      /* too many open handles */
    PAL_E_OVERFLOW,     /* value too large */
    PAL_E_FBIG,         /* file too large */
    PAL_E_SPIPE,        /* not seekable */
    PAL_E_NOTTY,        /* not a terminal */
    PAL_E_TXTBSY,       /* text file busy */
    PAL_E_MLINK,        /* too many links */
    PAL_E_RANGE,        /* result out of range */
    PAL_E_FAULT,        /* a buffer the caller passed is not accessible */
    PAL_E_UNKNOWN,      /* a host error the PAL has no name for */
    /* Sockets */
    PAL_E_CONNREFUSED,  /* connection refused */
    PAL_E_CONNRESET,    /* connection reset by the peer */
    PAL_E_CONNABORTED,  /* connection aborted */
    PAL_E_ADDRINUSE,    /* address in use */
    PAL_E_ADDRNOTAVAIL, /* address not available on this host */
    PAL_E_NOTCONN,      /* not connected */
    PAL_E_ISCONN,       /* already connected */
    PAL_E_INPROGRESS,   /* a connect was started and goes on */
    PAL_E_ALREADY,      /* a connect is already in progress */
    PAL_E_NETUNREACH,   /* network unreachable */
    PAL_E_HOSTUNREACH,  /* host unreachable */
    PAL_E_AFNOSUPPORT,  /* address family not supported */
    PAL_E_MSGSIZE,      /* message too long for a datagram */
    PAL_E_NOPROTOOPT,   /* option not known at this level */
    PAL_E_DESTADDRREQ,  /* no destination for a datagram */
    /* Extended attributes */
    PAL_E_NODATA,       /* no such attribute */
    PAL_E_2BIG,         /* attribute value too large for the host */
} PalError;

/* fs_xattr operations, and SET's flags (setxattr(2)'s). */
enum { PAL_XATTR_GET = 1, PAL_XATTR_SET = 2, PAL_XATTR_LIST = 3, PAL_XATTR_REMOVE = 4 };
enum { PAL_XATTR_CREATE = 1, PAL_XATTR_REPLACE = 2 };

/* Memory protection: same bits as PROT_READ/WRITE/EXEC. */
enum { PAL_PROT_NONE = 0, PAL_PROT_READ = 1, PAL_PROT_WRITE = 2, PAL_PROT_EXEC = 4 };

/* memory_alloc / file_map flags. */
enum {
    PAL_MEM_FIXED = 1u << 0,      /* exactly at addr, replacing what is there */
    PAL_MEM_NOREPLACE = 1u << 1,  /* exactly at addr, PAL_E_EXISTS if anything is there */
    PAL_MEM_NORESERVE = 1u << 2,  /* do not reserve swap */
    PAL_MEM_SHARED = 1u << 3,     /* file_map: writes reach the file */
};

/* memory_remap flags. */
enum { PAL_REMAP_MAYMOVE = 1u << 0, PAL_REMAP_FIXED = 1u << 1 };

/* memory_advise advice (the MADV_* the PAL passes on). */
enum {
    PAL_ADVICE_NORMAL = 0,
    PAL_ADVICE_RANDOM = 1,
    PAL_ADVICE_SEQUENTIAL = 2,
    PAL_ADVICE_WILLNEED = 3,
    PAL_ADVICE_DONTNEED = 4,
    PAL_ADVICE_FREE = 8,
};

/* memory_sync flags. */
enum { PAL_SYNC_ASYNC = 1, PAL_SYNC_INVALIDATE = 2, PAL_SYNC_SYNC = 4 };

/* A host object: file, directory, console, event. Owned by the PAL; opaque to the LibOS. */
typedef struct PalHandle PalHandle;

typedef enum PalStreamType {
    PAL_TYPE_UNKNOWN = 0,
    PAL_TYPE_FILE,
    PAL_TYPE_DIR,
    PAL_TYPE_SYMLINK,
    PAL_TYPE_CHARDEV,
    PAL_TYPE_BLOCKDEV,
    PAL_TYPE_FIFO,
    PAL_TYPE_SOCKET,
    PAL_TYPE_CONSOLE,
    PAL_TYPE_EVENT,
    PAL_TYPE_CHANNEL, /* a byte stream to another process of the instance (process_create) */
    PAL_TYPE_PROCESS, /* a child process (process_create) */
} PalStreamType;

/* stream_open access and options. */
enum {
    PAL_ACCESS_RDONLY = 0,
    PAL_ACCESS_WRONLY = 1,
    PAL_ACCESS_RDWR = 2,
    PAL_OPEN_CREATE = 1u << 2,     /* create when missing */
    PAL_OPEN_EXCL = 1u << 3,       /* with CREATE: fail with PAL_E_EXISTS when present */
    PAL_OPEN_TRUNCATE = 1u << 4,
    PAL_OPEN_DIRECTORY = 1u << 5,  /* must be a directory */
    PAL_OPEN_NONBLOCK = 1u << 7,
    PAL_OPEN_APPEND = 1u << 8,
    PAL_OPEN_PATH = 1u << 9,       /* a handle naming the object only (O_PATH), a symlink
                                      too: attributes, and the stream_ch* and stream_utimens
                                      calls */
};

/* fs_rename flags: the same bits as renameat2(2)'s RENAME_*. */
enum { PAL_RENAME_NOREPLACE = 1u << 0, PAL_RENAME_EXCHANGE = 1u << 1 };

/* stream_allocate modes: the same bits as fallocate(2)'s FALLOC_FL_*. */
enum {
    PAL_ALLOC_KEEP_SIZE = 0x01,
    PAL_ALLOC_PUNCH_HOLE = 0x02,
    PAL_ALLOC_COLLAPSE_RANGE = 0x08,
    PAL_ALLOC_ZERO_RANGE = 0x10,
    PAL_ALLOC_INSERT_RANGE = 0x20,
    PAL_ALLOC_UNSHARE_RANGE = 0x40,
    PAL_ALLOC_WRITE_ZEROES = 0x80,
};

/* stream_sync: what to write back. */
enum {
    PAL_FSYNC_FULL = 0,        /* data and metadata of the file (fsync) */
    PAL_FSYNC_DATA = 1,        /* data and the metadata needed to read it (fdatasync) */
    PAL_FSYNC_FILESYSTEM = 2,  /* everything of the host file system holding it (syncfs) */
};

/* fs_utimens / stream_utimens time values meaning "leave as is" and "the host's now". */
#define PAL_TIME_OMIT INT64_MIN
#define PAL_TIME_NOW (INT64_MIN + 1)

/* A host file system's statfs(2) figures. */
typedef struct PalFsInfo {
    uint64_t type;        /* the host's f_type magic (EXT4_SUPER_MAGIC, TMPFS_MAGIC...) */
    uint64_t block_size;  /* f_bsize */
    uint64_t blocks, blocks_free, blocks_avail; /* in f_frsize units */
    uint64_t files, files_free;
    uint64_t name_max;
    uint64_t flags;       /* the host's ST_* mount flags */
} PalFsInfo;

/* CPU time and counters of the process or of one thread (getrusage(2)). */
typedef struct PalUsage {
    uint64_t user_ns, system_ns;
    uint64_t max_rss_kib;
    uint64_t minor_faults, major_faults;
    uint64_t voluntary_switches, involuntary_switches;
} PalUsage;

/* Offset argument meaning "the stream's own position" (consoles, FIFOs). */
#define PAL_NO_OFFSET UINT64_MAX

typedef struct PalStreamAttr {
    PalStreamType type;
    uint32_t mode; /* permission bits, S_IRWXU... (no type bits) */
    uint64_t size;
    uint64_t ino;
    uint64_t dev;
    uint64_t rdev;
    uint64_t nlink;
    uint32_t uid;
    uint32_t gid;
    uint64_t blksize;
    uint64_t blocks; /* 512-byte units */
    int64_t atime_ns, mtime_ns, ctime_ns;
} PalStreamAttr;

/* One entry of dir_read()'s output; records are 8-byte aligned, `size` long. */
typedef struct PalDirent {
    uint64_t ino;
    uint16_t size;      /* bytes of this record, name and padding included */
    uint8_t type;       /* PalStreamType */
    char name[];        /* NUL-terminated */
} PalDirent;

typedef enum PalConsole { PAL_CONSOLE_IN = 0, PAL_CONSOLE_OUT = 1, PAL_CONSOLE_ERR = 2 } PalConsole;

typedef enum PalClock {
    PAL_CLOCK_REALTIME = 0,
    PAL_CLOCK_MONOTONIC,
    PAL_CLOCK_BOOTTIME,
    PAL_CLOCK_PROCESS_CPU,
    PAL_CLOCK_THREAD_CPU,
} PalClock;

/* Wait readiness bits for wait_for_many and pollers. ERROR and HANGUP are reported
 * whether asked for or not; RDHUP only when asked for. */
enum {
    PAL_WAIT_READ = 1u << 0,
    PAL_WAIT_WRITE = 1u << 1,
    PAL_WAIT_ERROR = 1u << 2,  /* POLLERR (or an invalid handle) */
    PAL_WAIT_HANGUP = 1u << 3, /* POLLHUP: closed both ways, or the other end is gone */
    PAL_WAIT_RDHUP = 1u << 4,  /* POLLRDHUP: the peer shut its writing down */
    /* poller_ctl only: */
    PAL_POLL_EDGE = 1u << 8,    /* report a readiness change once (EPOLLET) */
    PAL_POLL_ONESHOT = 1u << 9, /* report once, then nothing until the next poller_ctl */
};

/* -- Sockets (host TCP/UDP over IPv4 and IPv6) ---------------------------------------- */

typedef enum PalSockFamily { PAL_AF_UNSPEC = 0, PAL_AF_INET = 2, PAL_AF_INET6 = 10 } PalSockFamily;
typedef enum PalSockType { PAL_SOCK_STREAM = 1, PAL_SOCK_DGRAM = 2, PAL_SOCK_SEQPACKET = 5 } PalSockType;

/* A host socket address. `port`, `flowinfo` and `scope_id` in host byte order; `addr` in
 * network order, an IPv4 address in its first 4 bytes. PAL_AF_UNSPEC (for connect)
 * dissolves a datagram socket's association; an address the PAL receives is PAL_AF_UNSPEC
 * (and zeros) when the host gave none, as a stream socket's socket_recv `from`. */
typedef struct PalSockAddr {
    uint16_t family; /* PalSockFamily */
    uint16_t port;
    uint32_t flowinfo; /* IPv6 only */
    uint32_t scope_id; /* IPv6 only */
    uint8_t addr[16];
} PalSockAddr;

/* One piece of a scatter/gather buffer. */
typedef struct PalIoVec {
    void* base;
    size_t size;
} PalIoVec;

/* The most handles one socket_send_handles passes (the host's SCM_MAX_FD). */
#define PAL_MAX_PASS_HANDLES 253

/* socket_send / socket_recv flags (in) and socket_recv out-flags. */
enum {
    PAL_MSG_PEEK = 1u << 0,  /* recv: leave the data queued */
    PAL_MSG_OOB = 1u << 1,   /* urgent data */
    PAL_MSG_MORE = 1u << 2,  /* send: more is coming (TCP_CORK for one call) */
    PAL_MSG_TRUNC = 1u << 3, /* recv in: *done is a datagram's real length even when longer
                                than the buffers (on a stream socket: the host's MSG_TRUNC,
                                which discards the bytes); recv out: the datagram was cut */
    PAL_MSG_CTRUNC = 1u << 4, /* recv out: ancillary data was cut (never set today) */
};

/* Socket options, typed: each value is an integer (booleans 0/1, sizes in bytes, times in
 * seconds unless named otherwise). Setting a value outside int is PAL_E_INVAL; setting a
 * get-only option, or an option the PAL does not know, PAL_E_NOPROTOOPT. */
typedef enum PalSockOption {
    PAL_SO_REUSEADDR = 1,
    PAL_SO_REUSEPORT,
    PAL_SO_KEEPALIVE,
    PAL_SO_BROADCAST,
    PAL_SO_OOBINLINE,
    PAL_SO_RCVBUF,      /* set: the requested size; get: what the host keeps (doubled) */
    PAL_SO_SNDBUF,
    PAL_SO_RCVLOWAT,
    PAL_SO_LINGER,      /* -1: off; otherwise on, with that many seconds */
    PAL_SO_ERROR,       /* get only: the pending error as a PalError, and clears it */
    PAL_SO_ACCEPTCONN,  /* get only */
    PAL_SO_INQ,         /* get only: bytes queued to read (SIOCINQ; datagram: the next one's) */
    PAL_SO_OUTQ,        /* get only: bytes not yet sent or acknowledged (SIOCOUTQ) */
    PAL_TCP_NODELAY,
    PAL_TCP_CORK,
    PAL_TCP_KEEPIDLE,
    PAL_TCP_KEEPINTVL,
    PAL_TCP_KEEPCNT,
    PAL_TCP_QUICKACK,
    PAL_TCP_DEFER_ACCEPT,
    PAL_TCP_USER_TIMEOUT, /* milliseconds */
    PAL_TCP_MAXSEG,
    PAL_TCP_FASTOPEN,     /* the queue length for a listener */
    PAL_TCP_SYNCNT,
    PAL_TCP_LINGER2,
    PAL_TCP_WINDOW_CLAMP,
    PAL_TCP_NOTSENT_LOWAT,
    PAL_IP_TOS,
    PAL_IP_TTL,
    PAL_IPV6_V6ONLY,
    PAL_IPV6_UNICAST_HOPS,
    PAL_IPV6_TCLASS,
} PalSockOption;

/* poller_wait output: one ready handle. */
typedef struct PalPollEvent {
    uint64_t cookie;  /* as given to poller_ctl */
    uint32_t events;  /* PAL_WAIT_* */
} PalPollEvent;


/* Timeout argument meaning "forever". */
#define PAL_WAIT_FOREVER UINT64_MAX

/* General registers, in the order of the host's ucontext gregs (REG_R8 ... REG_EFL). */
typedef struct PalContext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp;
    uint64_t rip, rflags;
} PalContext;

typedef enum PalExceptionKind {
    PAL_EXC_MEMFAULT = 1, /* SIGSEGV / SIGBUS */
    PAL_EXC_ILLEGAL,      /* SIGILL */
    PAL_EXC_ARITHMETIC,   /* SIGFPE */
    PAL_EXC_BREAKPOINT,   /* SIGTRAP */
    PAL_EXC_INTERRUPT,    /* an asynchronous host signal the LibOS should act on (SIGINT, SIGTERM...) */
    PAL_EXC_WAKE,         /* thread_interrupt() aimed at this thread */
} PalExceptionKind;

/* The most bytes one process_message carries. */
#define PAL_MESSAGE_SIZE 32

typedef struct PalException {
    PalExceptionKind kind;
    int host_signal; /* the host signal number, for reports */
    int code;        /* si_code of the host signal */
    uint64_t addr;   /* faulting address for MEMFAULT */
    uint64_t error_code; /* page-fault error code (bit 1: write) when known */
    uint64_t trapno;     /* the CPU's trap number */
    const void* fpstate; /* the interrupted FPU/vector state (XSAVE layout), NULL if none */
    int in_pal;          /* nonzero when the interrupted code is the PAL's own: its text, or
                          * host code it was running for itself (the host vDSO) */
} PalException;

/* Called on the thread's alternate stack with the interrupted registers, which it may
 * change (e.g. to resume at a fixup). Returns to resume the context. */
typedef void (*PalExceptionUpcall)(const PalException* exc, PalContext* ctx);

/* Called, on the thread's PAL stack, for every system call the application makes. `ctx`
 * holds the application's registers (rip after the syscall instruction, rax the number).
 * It never returns: the LibOS resumes the application itself. */
typedef void (*PalSyscallUpcall)(PalContext* ctx);

/* Thread start routine; it must not return (end with thread_exit). */
typedef void (*PalThreadFn)(void* arg);

/* Public head of the per-thread PAL control block at %gs:0. */
typedef struct PalTcbPublic {
    struct PalTcbPublic* self; /* %gs:0 */
    void* libos_tcb;           /* %gs:8, owned by the LibOS */
} PalTcbPublic;

/* Everything the PAL knows at boot, for the LibOS. */
typedef struct PalBootInfo {
    uint32_t version;
    const void* boot_config; /* the launcher's boot config (carbyne/boot_config.h) */
    size_t boot_config_size;
    uint64_t pal_start, pal_end;     /* where carbyne-pal is mapped */
    uint64_t libos_start, libos_end; /* where libos.so is mapped */
    /* The PAL's own memory (thread stacks and TCBs, handles): one reserved range that no
     * application pointer may reach. */
    uint64_t pal_memory_start, pal_memory_end;
    uint32_t host_uid, host_gid;
    uint64_t cpu_count;
    /* A process started by process_create: its channel to its parent. NULL in the first
     * process of the instance. */
    PalHandle* parent_channel;
} PalBootInfo;

/* Bumped on every change to the layout of PalApi or PalBootInfo: a libos.so and a
 * carbyne-pal from different builds refuse each other. */
#define PAL_API_VERSION 17

typedef struct PalApi {
    uint32_t version; /* PAL_API_VERSION */

    /* -- Memory ------------------------------------------------------------------------ */
    /* Maps zeroed anonymous memory of `size` bytes (page multiple). `addr` is a hint unless
     * PAL_MEM_FIXED/NOREPLACE is given. */
    PalError (*memory_alloc)(void* addr, size_t size, int prot, uint32_t flags, void** out);
    PalError (*memory_free)(void* addr, size_t size);
    PalError (*memory_protect)(void* addr, size_t size, int prot);
    /* Resizes or moves a mapping as mremap(2) does (flags: PAL_REMAP_*); the pages move, no
     * copy is made. */
    PalError (*memory_remap)(void* addr, size_t old_size, size_t new_size, uint32_t flags, void* new_addr,
                             void** out);
    /* Gives the host advice about a range (PAL_ADVICE_*); DONTNEED drops private pages so
     * that they read back as zeros (anonymous) or as the file's bytes. */
    PalError (*memory_advise)(void* addr, size_t size, int advice);
    /* One byte per page, bit 0 set when the page is resident (mincore(2)). */
    PalError (*memory_residency)(void* addr, size_t size, uint8_t* vec);
    /* Writes a shared file mapping's dirty pages back (msync(2) flags PAL_SYNC_*). */
    PalError (*memory_sync)(void* addr, size_t size, int flags);
    /* Maps `size` bytes of a file stream from `offset` (page-aligned); PAL_MEM_SHARED makes
     * writes reach the file. */
    PalError (*file_map)(PalHandle* file, void* addr, size_t size, uint64_t offset, int prot, uint32_t flags,
                         void** out);
    /* Host shared memory of `size` zeroed bytes, as a stream: stream_read/stream_write at
     * offsets, stream_truncate, stream_attributes, stream_close, and file_map, where
     * PAL_MEM_SHARED mappings of it alias each other (and the data of the reads and writes). */
    PalError (*shm_create)(size_t size, PalHandle** out);

    /* -- Threads ----------------------------------------------------------------------- */
    /* Starts a host thread running fn(arg) on a fresh PAL stack with its own PalTcb and
     * syscall interception enabled. */
    PalError (*thread_create)(PalThreadFn fn, void* arg);
    /* Ends the calling thread; when `clear` is not NULL, stores 0 there as its last act on
     * LibOS memory. */
    void (*thread_exit)(int32_t* clear) __attribute__((noreturn));
    void (*thread_yield)(void);
    /* The calling thread's id, for thread_interrupt. */
    int64_t (*thread_id)(void);
    /* Interrupts thread `id` of this process: it takes an exception upcall of kind
     * PAL_EXC_WAKE wherever it runs, and a blocking PAL call it is in (event_wait,
     * wait_for_many, sleep) returns PAL_E_INTR. */
    PalError (*thread_interrupt)(int64_t id);

    /* -- Streams: files, directories, the console ----------------------------------------- */
    /* Host paths. A chroot mount's host directory (or file) is opened once, as a root
     * handle; every path call (stream_open, stream_attributes_path, stream_delete,
     * stream_readlink and the fs_* calls below) takes a root handle and a path relative to
     * it, and acts beneath the root only, whatever host processes change meanwhile: the PAL
     * resolves the path from the root's host fd with openat2 RESOLVE_BENEATH |
     * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS, never from an absolute host path.
     *   - "" names the root itself; components are separated by "/".
     *   - An absolute path, or a ".." that climbs above the root, is PAL_E_XDEV.
     *   - No path call follows a symlink, the last component included: a symlink in the
     *     middle of a path is PAL_E_LOOP; as the last component, the calls that act on a
     *     name (attributes, readlink, delete, rename, link, the fs_* calls) act on the
     *     symlink itself; stream_open and fs_truncate refuse it as open(2) with O_NOFOLLOW
     *     does (PAL_E_LOOP; PAL_E_NOTDIR with PAL_OPEN_DIRECTORY), but PAL_OPEN_PATH names
     *     the symlink itself.
     *     The LibOS resolves every symlink of a path before it asks, so a symlink met here
     *     was put there behind its back (a directory swapped for a symlink by a host
     *     process) and could lead anywhere on the host. */
    /* Opens the host directory or regular file at the absolute `host_path` (a mount's host
     * path from the manifest, resolved as any host path: symlinks are followed) as a root
     * handle. It names the object only: stream_attributes, stream_close, and the root of
     * the path calls. PAL_E_INVAL for anything but a directory or a regular file. */
    PalError (*fs_root_open)(const char* host_path, PalHandle** out);
    /* Opens `path` beneath `root`; `access` is PAL_ACCESS_* | PAL_OPEN_*; `mode` is used on
     * create. */
    PalError (*stream_open)(PalHandle* root, const char* path, uint32_t access, uint32_t mode, PalHandle** out);
    PalError (*console_open)(PalConsole which, PalHandle** out);
    /* Read/write at `offset` (PAL_NO_OFFSET: the stream's position). `*done` is the byte
     * count; a short count is not an error. */
    PalError (*stream_read)(PalHandle* h, uint64_t offset, void* buf, size_t size, size_t* done);
    PalError (*stream_write)(PalHandle* h, uint64_t offset, const void* buf, size_t size, size_t* done);
    PalError (*stream_attributes)(PalHandle* h, PalStreamAttr* out);
    /* Attributes of what `path` names beneath `root` (a symlink itself). */
    PalError (*stream_attributes_path)(PalHandle* root, const char* path, PalStreamAttr* out);
    PalError (*stream_flush)(PalHandle* h);
    /* Removes `path` beneath `root`: a file, or an empty directory when `dir` is nonzero. */
    PalError (*stream_delete)(PalHandle* root, const char* path, int dir);
    void (*stream_close)(PalHandle* h);
    /* A second handle to the host object of `h` (a process, file, socket, event...): the
     * two are closed apart. PAL_E_BADHANDLE for a console. */
    PalError (*handle_dup)(PalHandle* h, PalHandle** out);
    /* Fills `buf` with PalDirent records from the directory's current position; *done = 0 at
     * the end. `restart` rewinds first. */
    PalError (*dir_read)(PalHandle* dir, int restart, void* buf, size_t size, size_t* done);
    /* Reads the target of the symlink `path` beneath `root` (not NUL-terminated) into buf;
     * *len is its length. */
    PalError (*stream_readlink)(PalHandle* root, const char* path, char* buf, size_t size, size_t* len);

    /* -- Events and waiting ------------------------------------------------------------ */
    /* An event is set or clear; waiting on a set auto-clear event clears it. */
    PalError (*event_create)(int initially_set, int auto_clear, PalHandle** out);
    /* A host eventfd(2) counter holding `initval` (`semaphore`: EFD_SEMAPHORE), the transport
     * of an eventfd shared by processes: stream_read and stream_write of 8 bytes at
     * PAL_NO_OFFSET as eventfd(2)'s read and write, never blocking (PAL_E_AGAIN; wait with
     * wait_for_many, readable while nonzero); it passes over channels like any handle. */
    PalError (*counter_create)(uint64_t initval, int semaphore, PalHandle** out);
    void (*event_set)(PalHandle* ev);
    void (*event_clear)(PalHandle* ev);
    /* Waits up to *timeout_ns (PAL_WAIT_FOREVER) for the event; PAL_E_TIMEDOUT, PAL_E_INTR. */
    PalError (*event_wait)(PalHandle* ev, uint64_t timeout_ns);
    /* Waits until one of `count` handles is ready for events[i] (PAL_WAIT_*); fills
     * ready[i]. Events count as readable while set. */
    PalError (*wait_for_many)(size_t count, PalHandle* const* handles, const uint32_t* events, uint32_t* ready,
                              uint64_t timeout_ns);

    /* -- Exceptions and system calls ------------------------------------------------------ */
    void (*set_exception_upcall)(PalExceptionUpcall upcall);
    /* Installs the system-call upcall and turns interception on: from now on any `syscall`
     * outside the PAL, on this thread and on every thread created later, lands in `upcall`.
     * Call it while the caller is the only PAL thread (PAL_E_BUSY otherwise). */
    PalError (*enable_syscall_interception)(PalSyscallUpcall upcall);

    /* -- Time, randomness, identity -------------------------------------------------------- */
    PalError (*time_get)(PalClock clock, uint64_t* ns);
    PalError (*time_resolution)(PalClock clock, uint64_t* ns);
    /* Sleeps `ns`; PAL_E_INTR with *remaining_ns set when a host signal cut it short. */
    PalError (*sleep)(uint64_t ns, uint64_t* remaining_ns);
    PalError (*random_bytes)(void* buf, size_t size);
    /* CPU time and counters of the whole process, or of the calling thread only. */
    PalError (*resource_usage)(int thread_only, PalUsage* out);
    /* The CPU (0..cpu_count-1: the host's allowed CPUs numbered densely) and NUMA node the
     * calling thread runs on (a snapshot). */
    PalError (*get_cpu)(uint32_t* cpu, uint32_t* node);
    /* The application's %fs base. */
    PalError (*set_fs_base)(uint64_t base);
    uint64_t (*get_fs_base)(void);

    /* -- Process ------------------------------------------------------------------------ */
    /* Ends the process with an exit code, after flushing the log. */
    void (*process_exit)(int code) __attribute__((noreturn));
    /* Ends the process as killed by host signal `sig` (core dumps off). */
    void (*process_kill_self)(int sig) __attribute__((noreturn));
    /* Stops the whole process as SIGSTOP does (its parent sees it stopped); returns once
     * the host continues it. */
    void (*process_stop)(void);
    /* Starts a new process: a fresh carbyne-pal, at the same placement as this one, that
     * boots from `config` (`size` bytes in the boot-config format; the child never sees
     * the manifest) and loads the same libos.so. It inherits the sandbox and the console,
     * no other handle. `*channel` is a connected byte stream to it (its end is the child's
     * PalBootInfo.parent_channel); `*process` names it for process_wait and process_kill,
     * and wait_for_many sees it readable once it has ended. stream_close of `*process`
     * lets it go (an ended child is reaped then; a running one runs on). */
    PalError (*process_create)(const void* config, size_t size, PalHandle** process, PalHandle** channel);
    /* Waits up to `timeout_ns` (0: just look) for the child to end: PAL_E_TIMEDOUT while it
     * runs. Then *exit_code is its exit code, or *signal the host signal that ended it
     * (else 0). A child waited for once stays ended: later calls give the same answer. */
    PalError (*process_wait)(PalHandle* process, uint64_t timeout_ns, int* exit_code, int* signal);
    /* Sends host signal `sig` to the child (SIGKILL to end it at once). */
    PalError (*process_kill)(PalHandle* process, int sig);
    /* Sends `size` bytes (at most PAL_MESSAGE_SIZE) to the process (a handle of
     * process_create, or one passed over a channel): its message upcall gets them (see
     * set_message_upcall). Messages queue (a host signal carries each), each delivered
     * once, in the order sent; PAL_E_AGAIN when the host's queue for it is full
     * (RLIMIT_SIGPENDING), PAL_E_NOENT when it has ended. */
    PalError (*process_message)(PalHandle* process, const void* data, size_t size);
    /* Starts taking the messages of process_message: `upcall` gets each, zero-padded to
     * PAL_MESSAGE_SIZE, one at a time in the order they came, on a thread of the PAL's
     * own that runs nothing else (so it may take locks and block). Until then they wait;
     * none is lost. Once only (PAL_E_BUSY after). */
    PalError (*set_message_upcall)(void (*upcall)(const void* data, size_t size));
    /* Sends the handle `h` (a file, a stream, an event, shared memory, a channel, a socket)
     * over `channel` as one message; the receiver gets its own handle to the same host
     * object (a file keeps its host offset shared). Ordered with the bytes: a receiver
     * reads the stream up to that point first. */
    PalError (*channel_send_handle)(PalHandle* channel, PalHandle* h);
    /* Receives the next handle sent over `channel`; PAL_E_INVAL when what comes next on the
     * stream is bytes, PAL_E_PIPE when the peer is gone. */
    PalError (*channel_recv_handle)(PalHandle* channel, PalHandle** out);
    /* A host pipe (PAL_TYPE_FIFO), the transport of a pipe shared by processes: its ends
     * never block (PAL_E_AGAIN; wait with wait_for_many), a write of at most 4096 bytes is
     * never split, a read after the last write end closed gives 0, a write after the last
     * read end closed PAL_E_PIPE. Its ends pass over channels like any handle. */
    PalError (*pipe_create)(PalHandle** read_end, PalHandle** write_end);
    /* Two connected channels (PAL_TYPE_CHANNEL), as process_create's: one end is passed
     * over another channel to a process that has no channel to this one yet. */
    PalError (*channel_pair)(PalHandle** a, PalHandle** b);
    /* Moves a file handle's own position (the one PAL_NO_OFFSET reads and writes at), as
     * lseek(2): `whence` 0 from the start, 1 from the position, 2 from the end; *pos gets
     * the new one. Handles passed over a channel share it (one open file description). */
    PalError (*stream_seek)(PalHandle* h, int64_t offset, int whence, uint64_t* pos);

    /* -- Diagnostics -------------------------------------------------------------------- */
    /* Writes a log line to the log destination chosen by the manifest (stderr or a file). */
    void (*debug_log)(const char* text, size_t size);

    /* -- File-system operations on host paths and handles ---------------------------------- */
    /* Typed calls for the namespace and attribute changes of chroot mounts. Each path is
     * relative to a root handle and resolved beneath it (see "Host paths" above): each
     * call acts on exactly what the path names, a symlink itself if it is one. */
    /* Creates a directory with permission bits `mode` (exactly: the PAL runs with a host
     * umask of 0, the LibOS applies the application's). */
    PalError (*fs_mkdir)(PalHandle* root, const char* path, uint32_t mode);
    /* Renames `from` to `to`, both beneath `root`; flags are PAL_RENAME_*. */
    PalError (*fs_rename)(PalHandle* root, const char* from, const char* to, uint32_t flags);
    /* Makes `to` a new hard link of `from`, both beneath `root` (of a symlink itself when
     * `from` is one). */
    PalError (*fs_link)(PalHandle* root, const char* from, const char* to);
    /* Creates the symlink `path` holding `target` (stored as given, not resolved). */
    PalError (*fs_symlink)(PalHandle* root, const char* target, const char* path);
    /* Sets the permission bits (07777); PAL_E_NOTSUP for a symlink. */
    PalError (*fs_chmod)(PalHandle* root, const char* path, uint32_t mode);
    /* Sets owner and group; UINT32_MAX leaves one as it is. */
    PalError (*fs_chown)(PalHandle* root, const char* path, uint32_t uid, uint32_t gid);
    /* Sets a regular file's size (needs write access to it, as truncate(2)); PAL_E_LOOP for
     * a symlink. */
    PalError (*fs_truncate)(PalHandle* root, const char* path, uint64_t size);
    /* Sets access and modification times, ns since the epoch, or PAL_TIME_OMIT/NOW. */
    PalError (*fs_utimens)(PalHandle* root, const char* path, int64_t atime_ns, int64_t mtime_ns);
    /* The figures of the host file system that holds `path`. */
    PalError (*fs_statfs)(PalHandle* root, const char* path, PalFsInfo* out);
    /* The same changes through an open handle (a PAL_OPEN_PATH handle too). */
    PalError (*stream_chmod)(PalHandle* h, uint32_t mode);
    PalError (*stream_chown)(PalHandle* h, uint32_t uid, uint32_t gid);
    PalError (*stream_utimens)(PalHandle* h, int64_t atime_ns, int64_t mtime_ns);
    /* Sets the size of a file opened for writing. */
    PalError (*stream_truncate)(PalHandle* h, uint64_t size);
    /* Allocates or deallocates (PAL_ALLOC_*) the byte range of a file opened for writing. */
    PalError (*stream_allocate)(PalHandle* h, uint32_t mode, uint64_t offset, uint64_t size);
    /* Writes the file (PAL_FSYNC_FULL/DATA) or its whole file system (PAL_FSYNC_FILESYSTEM)
     * back to stable storage. */
    PalError (*stream_sync)(PalHandle* h, uint32_t what);
    /* Creates the FIFO `path` with permission bits `mode` (exactly, as fs_mkdir);
     * PAL_E_EXISTS when the name is taken, whatever it names. */
    PalError (*fs_mkfifo)(PalHandle* root, const char* path, uint32_t mode);
    /* Creates the socket node `path` (what a bind of an AF_UNIX socket leaves; the LibOS's
     * own sockets are found through it, no host socket listens there), as fs_mkfifo does
     * otherwise. */
    PalError (*fs_mksock)(PalHandle* root, const char* path, uint32_t mode);

    /* -- Sockets ------------------------------------------------------------------------ */
    /* Host sockets never block: a call that would wait returns PAL_E_AGAIN (connect:
     * PAL_E_INPROGRESS) and the LibOS waits with wait_for_many or a poller, where a
     * socket's handle is readable/writable as poll(2) says. No call raises a host SIGPIPE:
     * a send on a closed connection returns PAL_E_PIPE (PAL_E_CONNRESET when the peer reset
     * it). Socket handles are streams too: stream_close, stream_attributes
     * (PAL_TYPE_SOCKET), stream_read/stream_write, wait_for_many. PAL_MSG_* flags that
     * mean nothing to a call (PEEK on a send, MORE on a receive) are ignored, bits that are
     * no PAL_MSG_* are PAL_E_INVAL; a family other than INET/INET6 is PAL_E_AFNOSUPPORT. */
    PalError (*socket_create)(PalSockFamily family, PalSockType type, PalHandle** out);  /* no SEQPACKET */
    /* Two connected host AF_UNIX sockets of `type` (socketpair(2); PAL_SOCK_SEQPACKET too), as
     * non-blocking as the others: the transport of a LibOS UNIX socket pair once two
     * processes share it.
     * Addresses mean nothing to them (socket_name answers PAL_AF_UNSPEC; pass no `to` or
     * `from`). */
    PalError (*socket_pair)(PalSockType type, PalHandle** a, PalHandle** b);
    PalError (*socket_bind)(PalHandle* h, const PalSockAddr* addr);
    PalError (*socket_listen)(PalHandle* h, int backlog);
    /* A connection from the listener's queue; `peer` (may be NULL) receives its address. */
    PalError (*socket_accept)(PalHandle* h, PalHandle** out, PalSockAddr* peer);
    /* Starts a connection (PAL_E_INPROGRESS: wait for writable, then read PAL_SO_ERROR);
     * a datagram socket is associated at once. */
    PalError (*socket_connect)(PalHandle* h, const PalSockAddr* addr);
    /* Sends the buffers as one message (to `to` when not NULL); *done is the bytes taken. */
    PalError (*socket_send)(PalHandle* h, const PalIoVec* iov, size_t count, const PalSockAddr* to,
                            uint32_t flags, size_t* done);
    /* Receives into the buffers; `from` (may be NULL) receives the sender's address. *done
     * is the bytes stored (0 at end of stream); *out_flags (may be NULL) gets
     * PAL_MSG_TRUNC/CTRUNC. */
    PalError (*socket_recv)(PalHandle* h, const PalIoVec* iov, size_t count, PalSockAddr* from, uint32_t flags,
                            size_t* done, uint32_t* out_flags);
    /* how: 0 reading, 1 writing, 2 both (shutdown(2)'s SHUT_*). */
    PalError (*socket_shutdown)(PalHandle* h, int how);
    /* The socket's own address, or with `peer` nonzero the connected peer's. */
    PalError (*socket_name)(PalHandle* h, int peer, PalSockAddr* out);
    PalError (*socket_set_option)(PalHandle* h, PalSockOption option, int64_t value);
    PalError (*socket_get_option)(PalHandle* h, PalSockOption option, int64_t* value);
    /* socket_send of a host AF_UNIX socket that passes `nhandles` handles (at most
     * PAL_MAX_PASS_HANDLES; they stay the caller's) with the message, as SCM_RIGHTS: the
     * receiver's socket_recv_handles takes them with the first byte. */
    PalError (*socket_send_handles)(PalHandle* h, const PalIoVec* iov, size_t count, PalHandle* const* handles,
                                    size_t nhandles, uint32_t flags, size_t* done);
    /* socket_recv that also takes the handles passed with what it reads (a read stops after
     * the bytes they came with): the first `cap` into `handles`, their number into
     * *nhandles; more are closed and *out_flags gets PAL_MSG_CTRUNC. Each handle's type is
     * its host object's (PAL_TYPE_FILE, _DIR, _FIFO, _SOCKET...). With PAL_MSG_PEEK the
     * handles are new ones, and the message keeps its own. */
    PalError (*socket_recv_handles)(PalHandle* h, const PalIoVec* iov, size_t count, uint32_t flags, size_t* done,
                                    uint32_t* out_flags, PalHandle** handles, size_t cap, size_t* nhandles);

    /* -- Pollers: host readiness sets (epoll) -------------------------------------------- */
    /* A poller is itself a handle that wait_for_many sees readable while one of its
     * handles is ready, so a waiter can wait on a poller and its own event at once;
     * stream_close ends it. A handle closed with stream_close leaves its pollers. */
    PalError (*poller_create)(PalHandle** out);
    /* Adds `h` with `events` (PAL_WAIT_READ/WRITE/RDHUP | PAL_POLL_*), changes its events
     * (and re-arms a ONESHOT) when it is there, or removes it when `events` is 0 (PAL_OK if
     * it was not there). ERROR and HANGUP may be given and change nothing: PAL_WAIT_ERROR
     * alone keeps `h` watched for those only. `cookie` comes back with its events. */
    PalError (*poller_ctl)(PalHandle* poller, PalHandle* h, uint32_t events, uint64_t cookie);
    /* Up to `max` (> 0) ready handles into `out` (*count), waiting up to `timeout_ns` (0:
     * just look; PAL_WAIT_FOREVER) for the first: a timeout is PAL_OK with *count 0.
     * PAL_E_INTR when a host signal cut the wait. */
    PalError (*poller_wait)(PalHandle* poller, PalPollEvent* out, size_t max, size_t* count, uint64_t timeout_ns);

    /* -- Extended attributes ---------------------------------------------------------- */
    /* One operation (PAL_XATTR_*) on the host's extended attribute `name` (NULL for LIST)
     * of what `path` names beneath the root handle `base`, or with `path` NULL of the open
     * handle `base` (a PAL_OPEN_PATH handle too). GET reads the value into `value` (`size`
     * bytes of room; 0 asks for the length only), LIST the NUL-separated names; both give
     * the length in *out_size. SET writes `size` bytes of `value` with `flags`
     * (PAL_XATTR_CREATE/REPLACE); REMOVE drops it. A symlink's own attributes need a host
     * with the *xattrat calls (Linux 6.13); elsewhere a symlink has none and takes none
     * (PAL_E_PERM). Errors as the host's: PAL_E_NODATA, PAL_E_RANGE (room too small),
     * PAL_E_NOTSUP, PAL_E_EXISTS, PAL_E_2BIG, PAL_E_NOSPC, PAL_E_PERM... */
    PalError (*fs_xattr)(PalHandle* base, const char* path, uint32_t op, const char* name, void* value,
                         size_t size, uint32_t flags, size_t* out_size);
} PalApi;

/* libos.so's ELF entry point. Called once on the main PAL thread; never returns. */
typedef void (*LibosInitFn)(const PalApi* api, const PalBootInfo* info);

#ifdef __cplusplus
}
#endif

#endif /* CARBYNE_PAL_H */
