// AF_UNIX sockets inside the LibOS (unix(7)): stream, datagram and seqpacket sockets,
// socketpair, file-system and abstract names, autobind, SCM_RIGHTS and SCM_CREDENTIALS.
//
// The model is Linux's net/unix/af_unix.c, followed closely so that errors, readiness and
// buffer limits come out the same:
//
//   UnixSock    one socket (Linux's struct sock): its receive queue, its peer, its name,
//               its shutdown bits and pending error, its listen backlog, the charge of its
//               messages still queued somewhere (its send buffer), its options and its wait
//               queues. Reference-counted: its file holds one, and so do its peer, each
//               message it sent that is still queued, a listener's backlog (for a
//               connection not yet accepted), a name-table lookup in progress, and a
//               datagram sender's poll relay.
//   UnixSocket  the file (net::Socket) behind the application's descriptors. Its destructor
//               is Linux's unix_release_sock: the socket is closed (its peer sees the
//               hang-up, its queue is dropped, its name freed); the UnixSock then lives on
//               only as long as references to it do.
//   UnixMsg     one message queued at a receiver (Linux's skb): a datagram, a seqpacket
//               record or one piece of a stream send, with its SCM_RIGHTS files and the
//               sender's credentials. It charges the sender's send buffer until it is read.
//
// Send buffers are counted as Linux counts them: SO_SNDBUF against the queued messages,
// each charged with the kernel's per-buffer size (skb truesize) and a stream send cut into
// the kernel's pieces. A socketpair thus takes as many bytes or messages before EAGAIN as on
// Linux, and SIOCOUTQ reads the same. A datagram receiver that is not connected back to the
// sender takes at most net.unix.max_dgram_qlen + 1 messages.
//
// Names. Bound sockets are found through one LibOS-wide table (the only global state here):
//   - abstract names (sun_path[0] == 0, autobind's too) by (type, name bytes), as Linux
//     hashes them: a stream and a datagram socket may hold the same abstract name;
//   - file-system names by the (dev, ino) of the node bind made, as Linux finds a socket by
//     its inode: connect and sendto resolve the path (following symlinks) and look the node
//     up, so a renamed or hard-linked node still leads to the socket and an unlinked one
//     does not. tmpfs never reuses an inode number. The entry goes when the socket closes;
//     the node stays until unlinked, as on Linux.
//   On a chroot mount the node is a host socket node (PAL fs_mksock) that no host socket
//   listens on: host processes cannot connect to it.
//
// Copies to and from the application never run under a lock. A send copies into a new
// message it owns and only then queues it. A receive holds the socket's receive token
// (Linux's iolock): while a thread holds it, no other thread takes messages off the queue,
// so the messages it reads or peeks stay put while it copies with no lock held. A datagram
// taken off the queue is the receiver's own. The token is never held while waiting.
//
// Readiness: poll_events() is Linux's unix_poll/unix_dgram_poll, and every change wakes the
// socket's poll queue (poll_queue(), which poll, select and epoll hang on) as well as the
// threads blocked in it.
//
// Lock order: UnixSock::lock, then the name table's lock. At most one UnixSock lock is held
// at a time: the calls that touch two sockets (connect, send, shutdown, close) lock one,
// drop it, then lock the other, and check again what may have changed meanwhile. WaitQueue
// locks come after these, and wakes run after they are dropped. One nesting of
// queue locks: a datagram sender's relay link runs under a receiver's peer_poll lock and
// wakes the sender's poll queue (peer_poll, then poll; never the reverse). poll_events()
// may run under an epoll instance's lock and takes a UnixSock lock and a peer_poll lock.
//
// FIXME: a socket whose file is in flight in an SCM_RIGHTS message queued on itself (or in
// a cycle of such sockets) is never closed: Linux's garbage collector for in-flight files
// has no counterpart here yet.
// FIXME: MSG_OOB (Linux's CONFIG_AF_UNIX_OOB) is not supported: a stream send with it is
// EOPNOTSUPP. SO_SNDBUF/SO_RCVBUF are capped at the kernel's default wmem_max/rmem_max
// (212992), not the host's sysctl. SO_PASSPIDFD and SO_PASSSEC's labels are not given.
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <linux/fcntl.h>
#include <linux/poll.h>

#include "../fs/vfs.h"
#include "../ipc/file_record.h"
#include "../proc/process.h"
#include "../proc/wait.h"
#include "poll.h"
#include "socket.h"
#include "unix_names.h"

namespace carbyne::libos::net {

namespace {

constexpr uint8_t kShutRcv = 1, kShutSend = 2, kShutBoth = 3;  // RCV_SHUTDOWN, SEND_SHUTDOWN
constexpr uint32_t kPathOffset = 2;                             // offsetof(struct sockaddr_un, sun_path)
constexpr uint32_t kSunPathSize = 108;
constexpr uint32_t kSockaddrUnSize = kPathOffset + kSunPathSize;  // sizeof(struct sockaddr_un)
constexpr int kSomaxconn = 4096;                                  // net.core.somaxconn
constexpr size_t kMaxDgramQlen = 10;                              // net.unix.max_dgram_qlen
constexpr uint32_t kBufDefault = 212992;  // net.core.wmem_default and rmem_default
constexpr uint32_t kBufMax = 212992;      // net.core.wmem_max and rmem_max, the kernel's defaults
constexpr uint32_t kMinSndbuf = 4608, kMinRcvbuf = 2304;  // SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF
constexpr int kIntMax = 0x7fffffff;

// Private wake-up bits beside the POLL* ones.
constexpr uint32_t kTokenFree = 1u << 24;  // the receive token was handed back
constexpr uint32_t kRoom = 1u << 25;       // room in a receive queue or a listen backlog
constexpr uint32_t kChange = 1u << 26;     // connect, listen, shutdown, close, an error
// A blocked call's private answer when its socket moved to the host meanwhile: the call
// starts again there (never reaches the application).
constexpr int kMovedToHost = 4095;
constexpr uint32_t kReadable = POLLIN | POLLRDNORM;
constexpr uint32_t kWritable = POLLOUT | POLLWRNORM | POLLWRBAND;
constexpr uint32_t kAllEvents = kReadable | kWritable | POLLHUP | POLLRDHUP | POLLERR | kChange;

// The options kept as flags (SO_REUSEADDR...): their bits in UnixSock::flag_opts.
constexpr int kFlagOptions[] = {SO_REUSEADDR, SO_KEEPALIVE, SO_BROADCAST, SO_DONTROUTE, SO_OOBINLINE, SO_PASSSEC};

size_t min_size(size_t a, size_t b) { return a < b ? a : b; }
size_t align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

// -- What Linux charges for one buffer (skb->truesize) ------------------------------------

constexpr size_t kPage = 4096;
constexpr size_t kSkbShinfo = 320;                       // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
constexpr size_t kSkbStruct = 256;                       // SKB_DATA_ALIGN(sizeof(struct sk_buff))
constexpr size_t kSkbMaxHead = kPage - kSkbShinfo;       // SKB_MAX_HEAD(0)
constexpr size_t kSkbMaxAlloc = 4 * kPage - kSkbShinfo;  // SKB_MAX_ALLOC
constexpr size_t kStreamFrags = 32768;                   // UNIX_SKB_FRAGS_SZ
constexpr size_t kStreamPieceMax = kSkbMaxHead + kStreamFrags;
constexpr size_t kDgramFragsMax = 17 * kPage;            // MAX_SKB_FRAGS pages

// kmalloc's size for a request: the slab classes, then whole pages in powers of two.
size_t kmalloc_size(size_t n) {
    constexpr size_t kClasses[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
    for (size_t c : kClasses)
        if (n <= c)
            return c;
    size_t s = 4 * kPage;
    while (s < n)
        s <<= 1;
    return s;
}

// A buffer with `head` bytes in its kmalloc'ed head and `paged` in pages.
size_t truesize(size_t head, size_t paged) {
    return kmalloc_size(align_up(head, 64) + kSkbShinfo) + kSkbStruct + align_up(paged, kPage);
}

// unix_stream_sendmsg's piece of `size` bytes (at most kStreamPieceMax).
size_t stream_truesize(size_t size) {
    size_t paged = size > kSkbMaxHead ? min_size(align_up(size - kSkbMaxHead, kPage), size) : 0;
    return truesize(size - paged, paged);
}

// unix_dgram_sendmsg's one buffer for a datagram of `size` bytes.
size_t dgram_truesize(size_t size) {
    size_t paged = size > kSkbMaxAlloc ? align_up(min_size(size - kSkbMaxAlloc, kDgramFragsMax), kPage) : 0;
    return truesize(size - paged, paged);
}

// -- Objects --------------------------------------------------------------------------------

enum class State : uint8_t { Close, Listen, Established };

class UnixSock;

// A bound name. Fixed once made; an accepted socket shares its listener's.
struct UnixAddr {
    int refs;
    uint32_t len;       // what getsockname reports: 2 + the name's bytes (a path's with its NUL)
    bool abstract;
    uint64_t dev, ino;  // a path's node: the table's key
    uint8_t bytes[kSockaddrUnSize + 1];  // the struct sockaddr_un, family first

    void ref() { __atomic_add_fetch(&refs, 1, __ATOMIC_RELAXED); }
    void unref() {
        if (__atomic_sub_fetch(&refs, 1, __ATOMIC_ACQ_REL) == 0)
            kfree(this);
    }
};

UnixAddr* addr_new() {
    auto* a = static_cast<UnixAddr*>(kzalloc(sizeof(UnixAddr)));
    if (a)
        a->refs = 1;
    return a;
}

// A message's data follows its header when both fit kmalloc's largest slab class; a longer
// one keeps it in blocks of that size, whose pointers follow the header (a block of its own
// for each Linux-sized piece would be a page mapping, costlier than the copy).
constexpr size_t kBlockSize = 32768 - 16;  // heap.cpp: the 32 KiB class less its header

struct UnixMsg {
    UnixMsg* next;
    UnixSock* sender;  // a reference; `charge` bytes of its send buffer until freed
    size_t charge;
    size_t size;       // data bytes
    size_t off;        // stream: bytes read already
    SockCreds creds;   // the sender's, or what it gave with SCM_CREDENTIALS
    fs::File** files;  // SCM_RIGHTS references (`nfiles`), or nullptr
    size_t nfiles;
    size_t nblocks;    // 0: the data follows the header

    uint8_t* inline_data() { return reinterpret_cast<uint8_t*>(this + 1); }
    uint8_t** blocks() { return reinterpret_cast<uint8_t**>(this + 1); }
};

// A datagram sender's link on a full receiver's peer_poll: room made there wakes the
// sender's pollers (Linux's peer_wake). The link comes first: the callback casts back.
struct RelayLink {
    WaitLink link;
    UnixSock* sock;
};

class UnixSock {
public:
    explicit UnixSock(int t) : type(t) { relay.sock = this; }

    void ref() { __atomic_add_fetch(&m_refs, 1, __ATOMIC_RELAXED); }
    void unref();

    // Wakes pollers and blocked calls with `events` (POLL* and private bits).
    void notify(uint32_t events) {
        poll.wake(events & ~(kTokenFree | kRoom | kChange));
        waiters.wake(events);
    }
    // unix_release_sock: the socket's file is gone (or, `embryo`, a connection never
    // accepted is dropped with its listener).
    void release(bool embryo);

    UnixAddr* name() const { return __atomic_load_n(&addr, __ATOMIC_ACQUIRE); }
    UnixSock* peer_lockless() const { return __atomic_load_n(&peer, __ATOMIC_ACQUIRE); }
    size_t rx_count_lockless() const { return __atomic_load_n(&rx_count, __ATOMIC_RELAXED); }
    uint64_t wmem_now() const { return __atomic_load_n(&wmem, __ATOMIC_RELAXED); }
    uint32_t sndbuf_now() const { return __atomic_load_n(&sndbuf, __ATOMIC_RELAXED); }

    // Under lock.
    void set_peer_locked(UnixSock* p) { __atomic_store_n(&peer, p, __ATOMIC_RELEASE); }
    void rx_append_locked(UnixMsg* m) {
        m->next = nullptr;
        if (rx_tail)
            rx_tail->next = m;
        else
            rx_head = m;
        rx_tail = m;
        __atomic_store_n(&rx_count, rx_count + 1, __ATOMIC_RELAXED);
        rx_bytes += m->size - m->off;
    }
    UnixMsg* rx_pop_locked() {
        UnixMsg* m = rx_head;
        rx_head = m->next;
        if (!rx_head)
            rx_tail = nullptr;
        __atomic_store_n(&rx_count, rx_count - 1, __ATOMIC_RELAXED);
        rx_bytes -= m->size - m->off;
        m->next = nullptr;
        return m;
    }
    // A connection for accept, at the backlog's end (its reference moves in).
    void backlog_append_locked(UnixSock* n) {
        if (backlog_tail)
            backlog_tail->backlog_next = n;
        else
            backlog_head = n;
        backlog_tail = n;
        backlog_len++;
    }
    UnixMsg* rx_take_all_locked() {
        UnixMsg* m = rx_head;
        rx_head = rx_tail = nullptr;
        __atomic_store_n(&rx_count, size_t(0), __ATOMIC_RELAXED);
        rx_bytes = 0;
        return m;
    }
    int take_error_locked() {
        int e = err;
        err = 0;
        return e;
    }

    const int type;  // SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET

    Spinlock lock{LockRank::UnixSock};
    // Under lock:
    State state = State::Close;
    bool dead = false;        // closed (SOCK_DEAD): its queue is gone, sends to it fail
    bool connecting = false;  // a stream connect is between its checks and its end
    bool reading = false;     // the receive token
    bool read_contended = false;
    bool passcred = false;    // SO_PASSCRED
    uint8_t shutdown = 0;     // kShutRcv | kShutSend
    int err = 0;              // the pending error (sk_err): the next call or SO_ERROR takes it
    UnixSock* peer = nullptr;  // a reference; read without the lock by poll and datagram senders
    SockCreds peer_creds = {0, ~0u, ~0u};  // SO_PEERCRED
    UnixMsg* rx_head = nullptr;
    UnixMsg* rx_tail = nullptr;
    size_t rx_count = 0;  // messages; read without the lock by datagram senders and poll
    size_t rx_bytes = 0;  // unread data bytes
    UnixSock* backlog_head = nullptr;  // connections not yet accepted (references)
    UnixSock* backlog_tail = nullptr;
    UnixSock* backlog_next = nullptr;  // this one's link in its listener's backlog
    size_t backlog_len = 0;
    int max_backlog = 0;
    int peek_off = -1;  // SO_PEEK_OFF
    int rcvlowat = 1;   // SO_RCVLOWAT
    uint32_t sndbuf = kBufDefault;  // SO_SNDBUF; read without the lock by message frees
    uint32_t rcvbuf = kBufDefault;  // SO_RCVBUF (kept and reported; Linux's AF_UNIX ignores it)
    uint32_t flag_opts = 0;         // kFlagOptions bits
    int priority = 0;               // SO_PRIORITY
    int linger[2] = {0, 0};         // SO_LINGER: l_onoff, l_linger
    UnixSock* relay_target = nullptr;  // a reference: whose peer_poll `relay` is on

    UnixAddr* addr = nullptr;  // set once (under lock and the table's lock), read anywhere

    // Under the name table's lock.
    UnixSock* hash_next = nullptr;
    bool hashed = false;
    bool published = false;  // its name is in the instance's registry (unix_names.h)

    uint64_t wmem = 0;  // atomic: the charge of the messages it sent that are still queued

    // Set once, when processes come to share the socket (unix_share_host): its data goes
    // through this host socket from then on (atomic; closed with the socket).
    PalHandle* host = nullptr;
    PalHandle* host_now() const { return __atomic_load_n(&host, __ATOMIC_ACQUIRE); }
    bool moving = false;  // under lock: its queue is being copied to the host; no sender appends

    WaitQueue poll;       // poll, select and epoll: every change of readiness
    WaitQueue waiters;    // its own blocked calls
    WaitQueue peer_wait;  // others' sends and connects waiting for room here
    WaitQueue peer_poll;  // relays of datagram senders polling for that room
    RelayLink relay{};    // this socket's relay, on relay_target's peer_poll

private:
    int m_refs = 1;
};

// Holds a reference for a scope.
class SockRef {
public:
    explicit SockRef(UnixSock* s = nullptr) : m_s(s) {}
    ~SockRef() {
        if (m_s)
            m_s->unref();
    }
    SockRef(const SockRef&) = delete;
    SockRef& operator=(const SockRef&) = delete;
    UnixSock* get() const { return m_s; }
    UnixSock* take() {
        UnixSock* s = m_s;
        m_s = nullptr;
        return s;
    }
    void reset(UnixSock* s) {
        if (m_s)
            m_s->unref();
        m_s = s;
    }

private:
    UnixSock* m_s;
};

SockCreds current_creds() { return SockCreds{int32_t(g_process.pid), g_process.uid, g_process.gid}; }

// -- Messages -------------------------------------------------------------------------------

void msg_free_data(UnixMsg* m) {
    for (size_t i = 0; i < m->nblocks; i++)
        kfree(m->blocks()[i]);
    kfree(m);
}

// A message of `size` bytes from `sender`, charged `charge` bytes of its send buffer.
UnixMsg* msg_new(UnixSock* sender, size_t size, size_t charge, const SockCreds& creds) {
    bool inline_data = sizeof(UnixMsg) + size <= kBlockSize;
    size_t nblocks = inline_data ? 0 : (size + kBlockSize - 1) / kBlockSize;
    auto* m = static_cast<UnixMsg*>(kmalloc(sizeof(UnixMsg) + (inline_data ? size : nblocks * sizeof(uint8_t*))));
    if (!m)
        return nullptr;
    *m = UnixMsg{nullptr, sender, charge, size, 0, creds, nullptr, 0, 0};
    for (; m->nblocks < nblocks; m->nblocks++) {
        size_t left = size - m->nblocks * kBlockSize;
        if (!(m->blocks()[m->nblocks] = static_cast<uint8_t*>(kmalloc(min_size(left, kBlockSize))))) {
            msg_free_data(m);
            return nullptr;
        }
    }
    sender->ref();
    __atomic_add_fetch(&sender->wmem, uint64_t(charge), __ATOMIC_RELAXED);
    return m;
}

// Copies between a message's data (from `at`) and `seq` (from `seq_at`), `n` bytes.
Result<void> msg_copy_in(UnixMsg* m, size_t at, const IoSeq& seq, size_t seq_at, size_t n) {
    if (!m->nblocks)
        return seq.copy_in(m->inline_data() + at, seq_at, n);
    while (n) {
        size_t in = at % kBlockSize, chunk = min_size(n, kBlockSize - in);
        TRY(seq.copy_in(m->blocks()[at / kBlockSize] + in, seq_at, chunk));
        at += chunk;
        seq_at += chunk;
        n -= chunk;
    }
    return {};
}

Result<void> msg_copy_out(UnixMsg* m, size_t at, const IoSeq& seq, size_t seq_at, size_t n) {
    if (!m->nblocks)
        return seq.copy_out(seq_at, m->inline_data() + at, n);
    while (n) {
        size_t in = at % kBlockSize, chunk = min_size(n, kBlockSize - in);
        TRY(seq.copy_out(seq_at, m->blocks()[at / kBlockSize] + in, chunk));
        at += chunk;
        seq_at += chunk;
        n -= chunk;
    }
    return {};
}

// Drops a message that was read or thrown away: its files, and its charge (which may let
// its sender write again: unix_write_space). Never under a lock: a file's last reference
// may close a socket.
void msg_free(UnixMsg* m) {
    for (size_t i = 0; i < m->nfiles; i++)
        m->files[i]->unref();
    kfree(m->files);
    UnixSock* s = m->sender;
    uint64_t left = __atomic_sub_fetch(&s->wmem, uint64_t(m->charge), __ATOMIC_RELAXED);
    uint32_t sndbuf = s->sndbuf_now();
    if (left < sndbuf)
        s->waiters.wake(POLLOUT);
    if (left * 4 <= sndbuf)
        s->poll.wake(kWritable);
    s->unref();
    msg_free_data(m);
}

void msgs_free(UnixMsg* m) {
    while (m) {
        UnixMsg* next = m->next;
        msg_free(m);
        m = next;
    }
}

// Moves the files of a send into `m` (Linux's unix_scm_to_skb): `anc` has none left after.
Result<void> msg_attach_files(UnixMsg* m, Ancillary* anc) {
    if (!anc || !anc->nfiles)
        return {};
    auto* files = static_cast<fs::File**>(kmalloc(anc->nfiles * sizeof(fs::File*)));
    if (!files)
        return Errno(ENOMEM);
    memcpy(files, anc->files, anc->nfiles * sizeof(fs::File*));
    m->files = files;
    m->nfiles = anc->nfiles;
    anc->nfiles = 0;
    return {};
}

// A received message's files for the receiver: moved (taken off the message), or with
// MSG_PEEK new references. Without an `anc` (read, recv) they are dropped, as Linux closes
// the descriptors that a missing control buffer cannot carry. With no lock held (a last
// reference may close a socket), by the receive token's holder.
void msg_give_files(UnixMsg* m, Ancillary* anc, bool peek) {
    for (size_t i = 0; i < m->nfiles; i++) {
        fs::File* f = m->files[i];
        if (peek) {
            if (anc && anc->nfiles < kScmMaxFd) {
                f->ref();
                anc->files[anc->nfiles++] = f;
            }
        } else if (anc && anc->nfiles < kScmMaxFd) {
            anc->files[anc->nfiles++] = f;
        } else {
            f->unref();
        }
    }
    if (!peek) {
        kfree(m->files);
        m->files = nullptr;
        m->nfiles = 0;
    }
}

// The credentials a send carries: the sender's own, or those it gave, which must be its own
// unless it is privileged (scm_check_creds: CAP_SYS_ADMIN, CAP_SETUID and CAP_SETGID, which
// follow an effective uid of 0 as proc/creds.h says).
// FIXME: Linux accepts any of the real, effective and saved ids and records the real ones;
// this compares with the effective ids (g_process.uid, gid), the only ones kept so far.
Result<SockCreds> send_creds(const Ancillary* anc) {
    SockCreds own = current_creds();
    if (!anc || !anc->has_creds)
        return own;
    const SockCreds& c = anc->creds;
    bool privileged = own.uid == 0;
    if (!privileged && (c.pid != own.pid || c.uid != own.uid || c.gid != own.gid))
        return Errno(EPERM);
    return c;
}

bool creds_equal(const SockCreds& a, const SockCreds& b) { return a.pid == b.pid && a.uid == b.uid && a.gid == b.gid; }

void fill_name(const UnixAddr* a, SockAddr* out) {
    if (a) {
        out->len = a->len;
        memcpy(out->bytes, a->bytes, a->len);
    } else {
        out->len = kPathOffset;  // unbound: the family alone
        out->bytes[0] = uint8_t(AF_UNIX);
        out->bytes[1] = 0;
    }
}

// -- The name table -------------------------------------------------------------------------

struct NameTable {
    static constexpr size_t kBuckets = 256;
    Spinlock lock{LockRank::UnixNames};
    UnixSock* buckets[kBuckets] = {};  // chains through UnixSock::hash_next
};

constinit NameTable g_names;

uint32_t hash_bytes(uint32_t h, const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

size_t bucket_of_abstract(int type, const uint8_t* sun, uint32_t len) {
    return hash_bytes(2166136261u ^ uint32_t(type), sun + kPathOffset, len - kPathOffset) % NameTable::kBuckets;
}

size_t bucket_of_node(uint64_t dev, uint64_t ino) {
    uint8_t key[16];
    memcpy(key, &dev, 8);
    memcpy(key + 8, &ino, 8);
    return hash_bytes(2166136261u, key, sizeof(key)) % NameTable::kBuckets;
}

size_t bucket_of(const UnixSock* s, const UnixAddr* a) {
    return a->abstract ? bucket_of_abstract(s->type, a->bytes, a->len) : bucket_of_node(a->dev, a->ino);
}

// Under the table's lock.
UnixSock* find_abstract_locked(int type, const uint8_t* sun, uint32_t len) {
    for (UnixSock* s = g_names.buckets[bucket_of_abstract(type, sun, len)]; s; s = s->hash_next) {
        const UnixAddr* a = s->addr;
        if (a->abstract && s->type == type && a->len == len &&
            !memcmp(a->bytes + kPathOffset, sun + kPathOffset, len - kPathOffset))
            return s;
    }
    return nullptr;
}

// The socket bound to a node. The newest entry comes first: an older one with the same key
// belongs to a node deleted since, whose number the host gave again.
UnixSock* find_node_locked(uint64_t dev, uint64_t ino) {
    for (UnixSock* s = g_names.buckets[bucket_of_node(dev, ino)]; s; s = s->hash_next) {
        const UnixAddr* a = s->addr;
        if (!a->abstract && a->dev == dev && a->ino == ino)
            return s;
    }
    return nullptr;
}

// Names `s` with `a` (which takes over the reference). Under s->lock and the table's.
void names_insert_locked(UnixSock* s, UnixAddr* a) {
    size_t b = bucket_of(s, a);
    __atomic_store_n(&s->addr, a, __ATOMIC_RELEASE);
    s->hash_next = g_names.buckets[b];
    g_names.buckets[b] = s;
    s->hashed = true;
}

void names_remove(UnixSock* s) {
    SpinGuard g(g_names.lock);
    if (!s->hashed)
        return;
    UnixSock** p = &g_names.buckets[bucket_of(s, s->addr)];
    while (*p != s)
        p = &(*p)->hash_next;
    *p = s->hash_next;
    s->hashed = false;
}

// The registry's key of a name (unix_names.h).
UnixKey key_of(int type, const UnixAddr* a) {
    UnixKey k{};
    if (a->abstract) {
        k.type = type;
        k.len = a->len - kPathOffset;
        memcpy(k.bytes, a->bytes + kPathOffset, k.len);
    } else {
        k.type = -1;
        k.len = 16;
        memcpy(k.bytes, &a->dev, 8);
        memcpy(k.bytes + 8, &a->ino, 8);
    }
    return k;
}

// A name just bound here, made the instance's: EADDRINUSE when another process holds it.
Result<void> publish(UnixSock* s) {
    UnixAddr* a = s->name();
    TRY(unix_names_publish(key_of(s->type, a), s->type, current_creds()));
    s->published = true;
    return {};
}

// Takes back a name bound here that another process holds already.
void unbind(UnixSock* s) {
    names_remove(s);
    UnixAddr* a;
    {
        SpinGuard g(s->lock);
        a = s->addr;
        __atomic_store_n(&s->addr, static_cast<UnixAddr*>(nullptr), __ATOMIC_RELEASE);
    }
    if (a)
        a->unref();
}

// -- Closing --------------------------------------------------------------------------------

void relay_detach(UnixSock* s) {
    UnixSock* target;
    {
        SpinGuard g(s->lock);
        target = s->relay_target;
        s->relay_target = nullptr;
        if (target)
            target->peer_poll.remove(&s->relay.link);  // after this no callback runs on it
    }
    if (target)
        target->unref();
}

void relay_wake(WaitLink* link, uint32_t) { reinterpret_cast<RelayLink*>(link)->sock->poll.wake(kWritable); }

void UnixSock::unref() {
    if (__atomic_sub_fetch(&m_refs, 1, __ATOMIC_ACQ_REL))
        return;
    // Closed already (release emptied the queues and let go of the peer), or never seen by
    // anyone: what is left is its own.
    msgs_free(rx_take_all_locked());
    while (backlog_head) {
        UnixSock* next = backlog_head->backlog_next;
        backlog_head->release(true);
        backlog_head->unref();
        backlog_head = next;
    }
    if (peer)
        peer->unref();
    if (relay_target) {
        relay_target->peer_poll.remove(&relay.link);
        relay_target->unref();
    }
    if (addr)
        addr->unref();
    destroy(this);
}

void UnixSock::release(bool embryo) {
    if (published)
        unix_names_withdraw(key_of(type, name()));
    names_remove(this);
    UnixSock* skpair;
    UnixMsg* msgs;
    UnixSock* embryos;
    {
        SpinGuard g(lock);
        dead = true;
        state = State::Close;
        shutdown = kShutBoth;
        skpair = peer;
        set_peer_locked(nullptr);
        msgs = rx_take_all_locked();
        embryos = backlog_head;
        backlog_head = backlog_tail = nullptr;
        backlog_len = 0;
    }
    relay_detach(this);
    // A host end goes now: the peer (in this process or another) sees the hang-up there.
    if (PalHandle* h = __atomic_exchange_n(&host, nullptr, __ATOMIC_ACQ_REL))
        g_pal->stream_close(h);
    notify(kAllEvents);
    peer_wait.wake(kRoom | kChange);
    peer_poll.wake(kWritable | POLLHUP | POLLERR);
    if (skpair) {
        if (type != SOCK_DGRAM) {
            // No more writes either way; data it never read, or a connection never
            // accepted, is a reset for the peer.
            {
                SpinGuard g(skpair->lock);
                skpair->shutdown = kShutBoth;
                if (msgs || embryo)
                    skpair->err = ECONNRESET;
            }
            skpair->notify(kAllEvents);
        }
        skpair->unref();  // the peer keeps its own reference on this one until it closes
    }
    msgs_free(msgs);
    while (embryos) {
        UnixSock* next = embryos->backlog_next;
        embryos->release(true);
        embryos->unref();
        embryos = next;
    }
}

// unix_dgram_disconnected: `s` leaves its datagram peer `other` (connect elsewhere, or the
// peer is found closed). Its queue is dropped; when the peer was connected back, it learns
// of it by ECONNRESET.
void dgram_disconnected(UnixSock* s, UnixSock* other) {
    UnixMsg* msgs;
    {
        SpinGuard g(s->lock);
        msgs = s->rx_take_all_locked();
    }
    if (!msgs)
        return;
    s->peer_wait.wake(kRoom);
    s->peer_poll.wake(kWritable);
    bool reset = false;
    {
        SpinGuard g(other->lock);
        if (!other->dead && other->peer == s) {
            other->err = ECONNRESET;
            reset = true;
        }
    }
    if (reset)
        other->notify(POLLERR | kChange);
    msgs_free(msgs);
}

// A datagram receiver `other` that is full for `s` (unix_recvq_full, unless it is
// connected back to `s`). Read without other's lock, as Linux's lockless check.
bool full_for(UnixSock* other, UnixSock* s) {
    return other->peer_lockless() != s && other->rx_count_lockless() > kMaxDgramQlen;
}

// unix_dgram_peer_wake_me: whether `other` is still full once `s`'s relay is on its
// peer_poll, so that the room it makes later reaches s's pollers.
bool relay_until_room(UnixSock* s, UnixSock* other) {
    if (!full_for(other, s))
        return false;
    UnixSock* old = nullptr;
    {
        SpinGuard g(s->lock);
        if (s->relay_target != other && !s->dead) {
            old = s->relay_target;
            if (old)
                old->peer_poll.remove(&s->relay.link);
            s->relay.link = WaitLink{nullptr, relay_wake, 0, nullptr, nullptr};
            other->ref();
            s->relay_target = other;
            other->peer_poll.add(&s->relay.link);
        }
    }
    if (old)
        old->unref();
    return full_for(other, s);
}

// -- Names ----------------------------------------------------------------------------------

// unix_validate_addr.
Result<void> check_addr(const SockAddr& a) {
    if (a.len <= kPathOffset || a.len > kSockaddrUnSize || a.family() != AF_UNIX)
        return Errno(EINVAL);
    return {};
}

// A path name as a C string (the kernel ends it at the address's length).
void path_of(const SockAddr& a, char* out) {
    size_t n = a.len - kPathOffset;
    memcpy(out, a.bytes + kPathOffset, n);
    out[n] = '\0';
}

// The working directory and a Resolved, on the heap (both are large).
struct PathWork {
    char cwd[fs::kPathMax];
    fs::Resolved r;
};

// unix_find_other: the bound socket `a` names, with a reference. A path is resolved from
// the working directory with symlinks followed: ENOENT and the walk's other errors, then
// ECONNREFUSED when no socket is bound to the node, EPROTOTYPE when one of another type is.
Result<UnixSock*> find_other(const SockAddr& a, int type, UnixKey* key = nullptr) {
    UnixSock* s;
    if (a.bytes[kPathOffset]) {
        char path[kSunPathSize + 1];
        path_of(a, path);
        auto* w = static_cast<PathWork*>(kmalloc(sizeof(PathWork)));
        if (!w)
            return Errno(ENOMEM);
        HeapGuard guard(w);
        if (TRY(process_get_cwd(w->cwd)) && path[0] != '/')
            return Errno(ENOENT);  // a removed working directory has no names
        TRY(fs::vfs_resolve(w->cwd, path, true, &w->r));
        if (!w->r.exists)
            return Errno(ENOENT);
        SpinGuard g(g_names.lock);
        s = find_node_locked(w->r.stat.dev, w->r.stat.ino);
        if (!s) {
            if (key) {
                UnixAddr node{};
                node.dev = w->r.stat.dev;
                node.ino = w->r.stat.ino;
                *key = key_of(type, &node);
            }
            return Errno(ECONNREFUSED);
        }
        if (s->type != type)
            return Errno(EPROTOTYPE);
        s->ref();
        return s;
    }
    SpinGuard g(g_names.lock);
    s = find_abstract_locked(type, a.bytes, a.len);
    if (!s) {
        if (key) {
            key->type = type;
            key->len = a.len - kPathOffset;
            memcpy(key->bytes, a.bytes + kPathOffset, key->len);
        }
        return Errno(ECONNREFUSED);
    }
    s->ref();
    return s;
}

// unix_autobind: an abstract name of five hex digits, from a random start. A bound socket
// keeps its name (and succeeds).
Result<void> autobind(UnixSock* s) {
    if (s->name())
        return {};
    UnixAddr* a = addr_new();
    if (!a)
        return Errno(ENOMEM);
    uint32_t start = 0;
    g_pal->random_bytes(&start, sizeof(start));
    a->abstract = true;
    a->len = kPathOffset + 6;
    a->bytes[0] = uint8_t(AF_UNIX);
    bool bound = false, taken = true;
    {
        SpinGuard g(s->lock);
        if (!s->addr) {
            SpinGuard t(g_names.lock);
            for (uint32_t i = 0; i <= 0xfffff && taken; i++) {
                format(reinterpret_cast<char*>(a->bytes) + kPathOffset + 1, 6, "%05x", (start + i) & 0xfffff);
                taken = find_abstract_locked(s->type, a->bytes, a->len) != nullptr;
            }
            if (!taken) {
                names_insert_locked(s, a);
                bound = true;
            }
        } else {
            taken = false;  // bound meanwhile
        }
    }
    if (!bound)
        a->unref();
    else if (auto made = publish(s); !made.ok())
        log_debug("an autobound UNIX socket name is not the instance's (errno %d)", made.error().code);
    return taken ? Result<void>(Errno(ENOSPC)) : Result<void>();
}

uint32_t process_umask() {
    SpinGuard g(g_process.lock);
    return g_process.umask;
}

}  // namespace

// -- The file ---------------------------------------------------------------------------------

class UnixSocket final : public Socket {
public:
    // Takes over the reference on `sk`.
    UnixSocket(UnixSock* sk, uint32_t flags) : Socket(AF_UNIX, sk->type, 0, flags), m_sk(sk) {}
    ~UnixSocket() override {
        poll_release();  // the watchers' links are on m_sk's queue, which may go below
        m_sk->release(false);
        m_sk->unref();
    }

    Result<void> bind(const SockAddr& addr) override;
    Result<void> listen(int backlog) override;
    Result<Socket*> accept(uint32_t flags, SockAddr* peer) override;
    Result<void> connect(const SockAddr& addr) override {
        return m_sk->type == SOCK_DGRAM ? dgram_connect(addr) : stream_connect(addr);
    }
    Result<size_t> send(const IoSeq& data, const SockAddr* to, Ancillary* anc, int flags) override {
        for (;;) {
            if (PalHandle* h = m_sk->host_now())
                return host_stream_send(h, data, anc, flags);
            auto sent = m_sk->type == SOCK_STREAM ? stream_send(data, to, anc, flags)
                                                  : dgram_send(data, to, anc, flags);
            if (sent.ok() || sent.error() != Errno(kMovedToHost))
                return sent;
            if (!m_sk->host_now())
                g_pal->thread_yield();  // the move is under way
        }
    }
    Result<RecvResult> recv(const IoSeq& data, SockAddr* from, Ancillary* anc, int flags) override {
        for (;;) {
            if (PalHandle* h = m_sk->host_now()) {
                if (from)
                    from->len = 0;  // a pair's sockets have no names
                return host_stream_recv(h, data, anc, flags);
            }
            auto got = m_sk->type == SOCK_STREAM ? stream_recv(data, from, anc, flags)
                                                 : dgram_recv(data, from, anc, flags);
            if (got.ok() || got.error() != Errno(kMovedToHost))
                return got;
        }
    }
    Result<void> shutdown(int how) override;
    Result<void> local_name(SockAddr* out) override {
        fill_name(m_sk->name(), out);
        return {};
    }
    Result<void> peer_name(SockAddr* out) override;
    Result<void> set_option(int level, int name, const void* value, uint32_t len) override;
    Result<uint32_t> get_option(int level, int name, void* value, uint32_t len) override;
    Result<uint64_t> unsent_bytes() override { return m_sk->wmem_now(); }
    Result<uint64_t> readable_bytes() override;
    uint32_t poll_events() override;
    WaitQueue* poll_queue() override { return m_sk->host_now() ? nullptr : &m_sk->poll; }
    PalHandle* poll_handle() override { return m_sk->host_now(); }
    // fork: a connected stream socket and its peer move to a host socket pair (once), and
    // the host end is one open file description in both processes.
    Result<PalHandle*> share_host() override;

    UnixSock* sock() const { return m_sk; }

private:
    Result<void> bind_path(const SockAddr& a);
    Result<void> bind_abstract(const SockAddr& a);
    Result<void> stream_connect(const SockAddr& a);
    // A connect to a listener of another process (unix_names.h).
    Result<void> remote_connect(const UnixKey& key);
    Result<void> dgram_connect(const SockAddr& a);
    Result<size_t> stream_send(const IoSeq& data, const SockAddr* to, Ancillary* anc, int flags);
    Result<size_t> dgram_send(const IoSeq& data, const SockAddr* to, Ancillary* anc, int flags);
    Result<RecvResult> stream_recv(const IoSeq& data, SockAddr* from, Ancillary* anc, int flags);
    Result<RecvResult> dgram_recv(const IoSeq& data, SockAddr* from, Ancillary* anc, int flags);

    // Blocks on `w` until ready() (see wait_until); the error is the socket's
    // (wait_error: EAGAIN at the deadline, EINTR or ERESTARTSYS for a signal), or
    // kMovedToHost when the socket moved to the host meanwhile (send and recv go on there).
    template <typename Ready>
    Result<void> block(WaitQueue& w, uint32_t events, uint64_t deadline, Ready ready) {
        bool moved = false;
        auto r = wait_until(w, events | kChange, deadline, [&] {
            moved = m_sk->host_now() != nullptr;
            return moved || ready();
        });
        if (!r.ok())
            return wait_error(r.error(), deadline != kNoDeadline);
        return moved ? Result<void>(Errno(kMovedToHost)) : Result<void>();
    }
    // A send and a receive on the host socket: SCM_RIGHTS files travel as
    // ipc/file_record.h packs them; SCM_CREDENTIALS do not cross yet.
    Result<size_t> host_stream_send(PalHandle* h, const IoSeq& data, Ancillary* anc, int flags);
    Result<RecvResult> host_stream_recv(PalHandle* h, const IoSeq& data, Ancillary* anc, int flags);
    // sock_alloc_send_pskb's wait: until the send buffer has room. The pending error, or
    // EPIPE after SHUT_WR (or the peer's close), ends it.
    Result<void> wait_for_send_room(bool nonblock, uint64_t deadline);
    // The receive token (see the top of the file); the wait for it is short and not
    // cut by O_NONBLOCK, as Linux's iolock.
    Result<void> take_token();
    void drop_token();

    UnixSock* const m_sk;
};

namespace {

UnixSock* sock_of(Socket* s) { return static_cast<UnixSocket*>(s)->sock(); }

}  // namespace

Result<void> UnixSocket::take_token() {
    UnixSock* sk = m_sk;
    auto try_take = [sk] {
        SpinGuard g(sk->lock);
        if (sk->reading) {
            sk->read_contended = true;
            return false;
        }
        sk->reading = true;
        return true;
    };
    if (try_take())
        return {};
    return wait_until(sk->waiters, kTokenFree, kNoDeadline, try_take);
}

void UnixSocket::drop_token() {
    bool wake;
    {
        SpinGuard g(m_sk->lock);
        m_sk->reading = false;
        wake = m_sk->read_contended;
        m_sk->read_contended = false;
    }
    if (wake)
        m_sk->waiters.wake(kTokenFree);
}

Result<void> UnixSocket::wait_for_send_room(bool nonblock, uint64_t deadline) {
    UnixSock* sk = m_sk;
    int failure = 0;
    auto ready = [&] {
        SpinGuard g(sk->lock);
        if (sk->err) {
            failure = sk->take_error_locked();
            return true;
        }
        if (sk->shutdown & kShutSend) {
            failure = EPIPE;
            return true;
        }
        return sk->wmem_now() < sk->sndbuf;
    };
    if (!ready()) {
        if (nonblock)
            return Errno(EAGAIN);
        TRY(block(sk->waiters, POLLOUT | kChange, deadline, ready));
    }
    if (failure)
        return Errno(failure);
    return {};
}

// -- bind, listen, accept, connect --------------------------------------------------------

Result<void> UnixSocket::bind(const SockAddr& a) {
    if (a.len == kPathOffset && a.family() == AF_UNIX)
        return autobind(m_sk);
    TRY(check_addr(a));
    return a.bytes[kPathOffset] ? bind_path(a) : bind_abstract(a);
}

Result<void> UnixSocket::bind_abstract(const SockAddr& a) {
    UnixSock* sk = m_sk;
    UnixAddr* addr = addr_new();
    if (!addr)
        return Errno(ENOMEM);
    addr->abstract = true;
    addr->len = a.len;
    memcpy(addr->bytes, a.bytes, a.len);
    int error = 0;
    {
        SpinGuard g(sk->lock);
        if (sk->addr) {
            error = EINVAL;
        } else {
            SpinGuard t(g_names.lock);
            if (find_abstract_locked(sk->type, addr->bytes, addr->len))
                error = EADDRINUSE;
            else
                names_insert_locked(sk, addr);
        }
    }
    if (error) {
        addr->unref();
        return Errno(error);
    }
    if (auto made = publish(sk); !made.ok()) {
        unbind(sk);
        return made.error();
    }
    return {};
}

// unix_bind_bsd: makes the node (EADDRINUSE when the name exists), then names the socket
// with it; a socket bound already gets EINVAL and the new node is removed again.
Result<void> UnixSocket::bind_path(const SockAddr& a) {
    UnixSock* sk = m_sk;
    char path[kSunPathSize + 1];
    path_of(a, path);
    auto* w = static_cast<PathWork*>(kmalloc(sizeof(PathWork)));
    if (!w)
        return Errno(ENOMEM);
    HeapGuard guard(w);
    if (TRY(process_get_cwd(w->cwd)) && path[0] != '/')
        return Errno(ENOENT);  // a removed working directory has no names
    TRY(fs::vfs_resolve_with(w->cwd, path, false, fs::kResolveLastRaw, &w->r));
    uint32_t perm = 0777 & ~process_umask();
    auto made = fs::vfs_mknod(w->r, S_IFSOCK | perm, 0);
    if (!made.ok())
        return made.error() == Errno(EEXIST) ? Errno(EADDRINUSE) : made.error();
    // The node's identity, the key connect finds it by.
    auto found = fs::vfs_resolve_with(w->cwd, path, false, fs::kResolveLastRaw, &w->r);
    if (!found.ok())
        return found.error();
    if (!w->r.exists)
        return Errno(ENOENT);  // removed meanwhile
    UnixAddr* addr = addr_new();
    if (!addr) {
        (void)fs::vfs_unlink(w->r);
        return Errno(ENOMEM);
    }
    size_t n = strlen(path);
    addr->len = uint32_t(kPathOffset + n + 1);
    addr->bytes[0] = uint8_t(AF_UNIX);
    memcpy(addr->bytes + kPathOffset, path, n + 1);
    addr->dev = w->r.stat.dev;
    addr->ino = w->r.stat.ino;
    bool bound = false;
    {
        SpinGuard g(sk->lock);
        if (!sk->addr) {
            SpinGuard t(g_names.lock);
            names_insert_locked(sk, addr);
            bound = true;
        }
    }
    if (!bound) {
        (void)fs::vfs_unlink(w->r);
        addr->unref();
        return Errno(EINVAL);
    }
    if (auto made = publish(sk); !made.ok())
        log_debug("a UNIX socket path is not the instance's (errno %d)", made.error().code);
    return {};
}

Result<void> UnixSocket::listen(int backlog) {
    UnixSock* sk = m_sk;
    if (sk->type == SOCK_DGRAM)
        return Errno(EOPNOTSUPP);
    if (!sk->name())
        return Errno(EINVAL);  // no listening on an unbound socket (no autobind either)
    if (backlog < 0 || backlog > kSomaxconn)
        backlog = kSomaxconn;  // listen(2) takes it as unsigned, capped at somaxconn
    bool more_room;
    {
        SpinGuard g(sk->lock);
        if ((sk->state != State::Close && sk->state != State::Listen) || sk->connecting)
            return Errno(EINVAL);
        more_room = backlog > sk->max_backlog;
        sk->max_backlog = backlog;
        sk->state = State::Listen;
        sk->peer_creds = current_creds();  // what connecting sockets get as SO_PEERCRED
    }
    if (more_room)
        sk->peer_wait.wake(kRoom);
    sk->notify(kAllEvents);
    return {};
}

// unix_accept: the oldest connection of the backlog, which its client made already (a
// connect returns once queued). A listener shut down for reading gives EINVAL when empty.
Result<Socket*> UnixSocket::accept(uint32_t flags, SockAddr* peer) {
    UnixSock* sk = m_sk;
    if (sk->type == SOCK_DGRAM)
        return Errno(EOPNOTSUPP);
    {
        SpinGuard g(sk->lock);
        if (sk->state != State::Listen)
            return Errno(EINVAL);
    }
    bool nonblock = nonblocking(0);
    uint64_t deadline = nonblock ? kNoDeadline : recv_deadline();
    UnixSock* child = nullptr;
    int error = 0;
    auto take = [&] {
        SpinGuard g(sk->lock);
        if (sk->err) {
            error = sk->take_error_locked();
            return true;
        }
        if ((child = sk->backlog_head)) {
            sk->backlog_head = child->backlog_next;
            if (!sk->backlog_head)
                sk->backlog_tail = nullptr;
            child->backlog_next = nullptr;
            sk->backlog_len--;
            return true;
        }
        if (nonblock)
            return false;
        if ((sk->shutdown & kShutRcv) || sk->state != State::Listen) {
            error = EINVAL;
            return true;
        }
        return false;
    };
    if (!take()) {
        if (nonblock)
            return Errno(EAGAIN);
        TRY(block(sk->waiters, kReadable | kChange, deadline, take));
    }
    if (error)
        return Errno(error);
    sk->peer_wait.wake(kRoom);
    bool passcred;
    {
        SpinGuard g(sk->lock);
        passcred = sk->passcred;
    }
    UnixSocket* file = make<UnixSocket>(child, flags);
    if (!file) {
        child->release(true);
        child->unref();
        return Errno(ENOMEM);
    }
    {
        SpinGuard g(child->lock);
        child->passcred = passcred;  // unix_sock_inherit_flags
        if (peer)
            fill_name(child->peer ? child->peer->name() : nullptr, peer);
    }
    return static_cast<Socket*>(file);
}

// unix_stream_connect: queues a new socket (the server's end) on the listener's backlog and
// returns; accept hands it out later. A full backlog makes a blocking connect wait for room
// (SO_SNDTIMEO: then EAGAIN) and a non-blocking one fail with EAGAIN, as Linux for AF_UNIX.
namespace {

// A stream connect begins: EISCONN when connected, EINVAL while another connect runs or
// for a listener.
Result<void> start_connect(UnixSock* sk) {
    SpinGuard g(sk->lock);
    if (sk->state == State::Established)
        return Errno(EISCONN);
    if (sk->state != State::Close || sk->connecting)
        return Errno(EINVAL);
    sk->connecting = true;
    return {};
}

}  // namespace

Result<void> UnixSocket::stream_connect(const SockAddr& a) {
    UnixSock* sk = m_sk;
    TRY(check_addr(a));
    bool passcred;
    {
        SpinGuard g(sk->lock);
        passcred = sk->passcred;
    }
    if (passcred)
        TRY(autobind(sk));
    bool nonblock = nonblocking(0);
    uint64_t deadline = nonblock ? kNoDeadline : send_deadline();
    UnixSock* fresh = make<UnixSock>(sk->type);
    if (!fresh)
        return Errno(ENOMEM);
    SockRef newsk(fresh);
    // 0: go on; -1: the listener closed under us, look the name up again.
    auto check_listener_locked = [](UnixSock* other) {
        if (other->dead)
            return -1;
        if (other->state != State::Listen || (other->shutdown & kShutRcv))
            return ECONNREFUSED;
        if (other->backlog_len > size_t(other->max_backlog))
            return EAGAIN;
        return 0;
    };
    for (;;) {
        UnixKey key;
        auto found = find_other(a, sk->type, &key);
        if (!found.ok() && found.error() == Errno(ECONNREFUSED))
            return remote_connect(key);  // a name another process may hold
        SockRef other(TRY(found));
        UnixSock* o = other.get();
        int step;
        {
            SpinGuard g(o->lock);
            step = check_listener_locked(o);
        }
        if (step == -1)
            continue;
        if (step == EAGAIN) {
            if (nonblock)
                return Errno(EAGAIN);
            TRY(block(o->peer_wait, kRoom | kChange, deadline, [&] {
                SpinGuard g(o->lock);
                return check_listener_locked(o) != EAGAIN;
            }));
            continue;
        }
        if (step)
            return Errno(step);
        TRY(start_connect(sk));
        SockCreds listener_creds{};
        {
            SpinGuard g(o->lock);
            step = check_listener_locked(o);
            if (!step) {
                // The server's end, not yet seen by anyone: set up without its lock.
                UnixSock* n = newsk.get();
                sk->ref();
                n->set_peer_locked(sk);
                n->state = State::Established;
                n->peer_creds = current_creds();
                if (UnixAddr* la = o->name()) {
                    la->ref();
                    __atomic_store_n(&n->addr, la, __ATOMIC_RELEASE);
                }
                listener_creds = o->peer_creds;
                n->ref();  // the backlog's; the first becomes sk->peer's below
                o->backlog_append_locked(n);
            }
        }
        if (step) {
            {
                SpinGuard g(sk->lock);
                sk->connecting = false;
            }
            if (step == -1 || step == EAGAIN)
                continue;  // the listener changed between the looks: from the start
            return Errno(step);
        }
        {
            SpinGuard g(sk->lock);
            sk->connecting = false;
            sk->set_peer_locked(newsk.take());
            sk->state = State::Established;
            sk->peer_creds = listener_creds;
        }
        o->notify(kReadable);
        sk->notify(kAllEvents);
        return {};
    }
}

// unix_dgram_connect: sets (or with AF_UNSPEC clears) the default destination, which must
// not be connected to a third socket (EPERM). Leaving a peer drops what is queued here.
Result<void> UnixSocket::dgram_connect(const SockAddr& a) {
    UnixSock* sk = m_sk;
    if (a.len < kPathOffset)
        return Errno(EINVAL);
    UnixSock* other = nullptr;
    if (a.family() != AF_UNSPEC) {
        TRY(check_addr(a));
        bool passcred;
        {
            SpinGuard g(sk->lock);
            passcred = sk->passcred;
        }
        if (passcred)
            TRY(autobind(sk));
        for (;;) {
            other = TRY(find_other(a, sk->type));
            bool dead, may_send;
            {
                SpinGuard g(other->lock);
                dead = other->dead;
                may_send = !other->peer || other->peer == sk;
            }
            if (dead) {
                other->unref();
                continue;
            }
            if (!may_send) {
                other->unref();
                return Errno(EPERM);
            }
            break;
        }
    }
    UnixSock* old;
    {
        SpinGuard g(sk->lock);
        old = sk->peer;
        sk->set_peer_locked(other);  // takes over the reference
        sk->state = other ? State::Established : State::Close;
    }
    if (old) {
        relay_detach(sk);
        if (old != other)
            dgram_disconnected(sk, old);
        old->unref();
    }
    sk->notify(kWritable | kChange);
    return {};
}

// -- Data ---------------------------------------------------------------------------------

// unix_stream_sendmsg: the data goes in pieces, each waiting for room in the send buffer,
// so a long send is partly done when a signal, O_NONBLOCK or the peer's close stops it.
// The files go with the first piece.
Result<size_t> UnixSocket::stream_send(const IoSeq& data, const SockAddr* to, Ancillary* anc, int flags) {
    UnixSock* sk = m_sk;
    SockCreds creds = TRY(send_creds(anc));
    if (flags & MSG_OOB)
        return Errno(EOPNOTSUPP);  // FIXME: Linux's AF_UNIX_OOB
    SockRef other;
    {
        SpinGuard g(sk->lock);
        if (to && to->len)
            return Errno(sk->state == State::Established ? EISCONN : EOPNOTSUPP);
        if (!sk->peer)
            return Errno(ENOTCONN);
        if (sk->shutdown & kShutSend)
            return Errno(EPIPE);
        sk->peer->ref();
        other.reset(sk->peer);
    }
    UnixSock* o = other.get();
    bool nonblock = nonblocking(flags);
    uint64_t deadline = nonblock ? kNoDeadline : send_deadline();
    size_t total = data.total(), sent = 0;
    auto partial = [&sent](Errno e) { return sent ? Result<size_t>(sent) : Result<size_t>(e); };
    while (sent < total) {
        size_t piece = total - sent;
        uint32_t sndbuf = sk->sndbuf_now();
        piece = min_size(piece, sndbuf / 2 - 64);  // keeps two pieces in flight
        piece = min_size(piece, kStreamPieceMax);
        auto room = wait_for_send_room(nonblock, deadline);
        if (!room.ok())
            return partial(room.error());
        UnixMsg* m = msg_new(sk, piece, stream_truesize(piece), creds);
        if (!m)
            return partial(Errno(ENOMEM));
        auto copied = msg_copy_in(m, 0, data, sent, piece);
        if (copied.ok() && !sent)
            copied = msg_attach_files(m, anc);
        if (!copied.ok()) {
            msg_free(m);
            return partial(copied.error());
        }
        bool broken, moved;
        {
            SpinGuard g(o->lock);
            broken = o->dead || (o->shutdown & kShutRcv);
            moved = !broken && (o->moving || o->host);
            if (!broken && !moved)
                o->rx_append_locked(m);
        }
        if (moved) {
            msg_free(m);  // the pair moved to the host meanwhile: this piece goes there
            return partial(Errno(kMovedToHost));
        }
        if (broken) {
            msg_free(m);  // with its files, as Linux drops them
            return partial(Errno(EPIPE));
        }
        o->notify(kReadable);
        sent += piece;
    }
    return sent;
}

// unix_dgram_sendmsg (and seqpacket's): one message, whole or not at all, to the peer or
// to `to`. A receiver not connected back to this socket takes a bounded number of
// messages; past that a send waits for room (or EAGAIN).
Result<size_t> UnixSocket::dgram_send(const IoSeq& data, const SockAddr* to, Ancillary* anc, int flags) {
    UnixSock* sk = m_sk;
    if (sk->type == SOCK_SEQPACKET) {
        SpinGuard g(sk->lock);
        if (int e = sk->take_error_locked())
            return Errno(e);
        if (sk->state != State::Established)
            return Errno(ENOTCONN);
        to = nullptr;  // a seqpacket send ignores an address
    }
    SockCreds creds = TRY(send_creds(anc));
    if (flags & MSG_OOB)
        return Errno(EOPNOTSUPP);
    if (to && !to->len)
        to = nullptr;
    SockRef other;
    if (to) {
        TRY(check_addr(*to));
    } else {
        SpinGuard g(sk->lock);
        if (!sk->peer)
            return Errno(ENOTCONN);
        sk->peer->ref();
        other.reset(sk->peer);
    }
    bool passcred;
    {
        SpinGuard g(sk->lock);
        passcred = sk->passcred;
    }
    if (passcred)
        TRY(autobind(sk));
    size_t size = data.total();
    if (size > size_t(sk->sndbuf_now()) - 32)
        return Errno(EMSGSIZE);
    bool nonblock = nonblocking(flags);
    uint64_t deadline = nonblock ? kNoDeadline : send_deadline();
    TRY(wait_for_send_room(nonblock, deadline));
    UnixMsg* m = msg_new(sk, size, dgram_truesize(size), creds);
    if (!m)
        return Errno(ENOMEM);
    auto copied = msg_copy_in(m, 0, data, 0, size);
    if (copied.ok())
        copied = msg_attach_files(m, anc);
    if (!copied.ok()) {
        msg_free(m);
        return copied.error();
    }
    // From here `m` is freed on every error, and the files with it (as Linux drops them).
    int error = 0;
    for (;;) {
        if (!other.get()) {
            if (!to) {
                error = ECONNRESET;  // the peer went while this send ran
                break;
            }
            auto found = find_other(*to, sk->type);
            if (!found.ok()) {
                error = found.error().code;
                break;
            }
            other.reset(found.value());
        }
        UnixSock* o = other.get();
        enum class Step { Sent, Dead, Full, Failed } step;
        {
            SpinGuard g(o->lock);
            if (o->peer && o->peer != sk) {
                step = Step::Failed;
                error = EPERM;  // connected to a third socket
            } else if (o->dead) {
                step = Step::Dead;
            } else if (o->shutdown & kShutRcv) {
                step = Step::Failed;
                error = EPIPE;
            } else if (o != sk && o->peer != sk && o->rx_count > kMaxDgramQlen) {
                step = Step::Full;
            } else {
                o->rx_append_locked(m);
                step = Step::Sent;
            }
        }
        if (step == Step::Sent) {
            o->notify(kReadable);
            return size;
        }
        if (step == Step::Failed)
            break;
        if (step == Step::Dead) {
            if (sk->type == SOCK_SEQPACKET) {
                error = EPIPE;
                break;
            }
            bool was_peer;
            {
                SpinGuard g(sk->lock);
                was_peer = sk->peer == o;
                if (was_peer) {
                    sk->set_peer_locked(nullptr);
                    sk->state = State::Close;
                }
            }
            if (was_peer) {
                // Connected to a socket that closed: disconnected, and refused (Linux).
                relay_detach(sk);
                dgram_disconnected(sk, o);
                o->unref();  // sk->peer's reference
                error = ECONNREFUSED;
                break;
            }
            other.reset(nullptr);  // closed after the lookup: look the name up again
            continue;
        }
        // Full.
        if (nonblock) {
            error = EAGAIN;
            break;
        }
        auto waited = block(o->peer_wait, kRoom | kChange, deadline, [&] {
            SpinGuard g(o->lock);
            return o->dead || o->peer == sk || o->rx_count <= kMaxDgramQlen;
        });
        if (!waited.ok()) {
            error = waited.error().code;
            break;
        }
    }
    msg_free(m);
    return Errno(error);
}

// unix_stream_read_generic: bytes from one message after another until the buffer is full
// or the queue empty (MSG_WAITALL, SO_RCVLOWAT: until that many). A message with files
// ends the read once reached; with SO_PASSCRED, so does one from another sender.
Result<RecvResult> UnixSocket::stream_recv(const IoSeq& data, SockAddr* from, Ancillary* anc, int flags) {
    UnixSock* sk = m_sk;
    if (flags & MSG_OOB)
        return Errno(EINVAL);  // no urgent byte is ever queued
    size_t target;
    {
        SpinGuard g(sk->lock);
        if (sk->state != State::Established)
            return Errno(EINVAL);
        target = size_t(sk->rcvlowat);
    }
    const bool peek = (flags & MSG_PEEK) != 0;
    const bool nonblock = nonblocking(flags);
    const uint64_t deadline = nonblock ? kNoDeadline : recv_deadline();
    const size_t size = data.total();
    if ((flags & MSG_WAITALL) || target > size)
        target = size;
    if (!target)
        target = 1;
    if (from)
        from->len = 0;
    TRY(take_token());
    size_t copied = 0;
    int error = 0;
    bool check_creds = false, from_set = false;
    SockCreds creds = {0, 0, 0};
    UnixMsg* consumed = nullptr;  // read to the end: freed once the token is back
    for (;;) {
        enum class Step { Copy, Done, Wait } step = Step::Done;
        UnixMsg* m = nullptr;
        size_t off = 0, chunk = 0, seen_bytes = 0;
        {
            SpinGuard g(sk->lock);
            m = sk->rx_head;
            off = m ? m->off : 0;
            if (peek && m) {
                size_t skip = copied + (sk->peek_off > 0 ? size_t(sk->peek_off) : 0);
                while (m && skip >= m->size - off) {
                    skip -= m->size - off;
                    m = m->next;
                    off = m ? m->off : 0;
                }
                off += skip;
            }
            if (!m) {
                if (copied >= target) {
                    step = Step::Done;
                } else if (sk->err) {
                    error = sk->take_error_locked();
                } else if (sk->shutdown & kShutRcv) {
                    step = Step::Done;  // the end of the stream
                } else if (nonblock) {
                    error = EAGAIN;
                } else {
                    step = Step::Wait;
                    seen_bytes = sk->rx_bytes;
                }
            } else if (check_creds && !creds_equal(creds, m->creds)) {
                step = Step::Done;  // never glue messages from different writers
            } else {
                if (!check_creds && sk->passcred) {
                    creds = m->creds;
                    check_creds = true;
                }
                if (from && !from_set) {
                    if (UnixAddr* a = m->sender->name())
                        fill_name(a, from);
                    from_set = true;
                }
                chunk = min_size(m->size - off, size - copied);
                step = Step::Copy;
            }
        }
        if (step == Step::Done || error)
            break;
        if (step == Step::Wait) {
            drop_token();
            auto waited = block(sk->waiters, kReadable | kChange, deadline, [&] {
                SpinGuard g(sk->lock);
                return sk->rx_bytes != seen_bytes || sk->err || (sk->shutdown & kShutRcv);
            });
            auto retaken = waited.ok() ? take_token() : Result<void>(waited.error());
            if (!retaken.ok()) {
                msgs_free(consumed);
                if (copied)
                    return RecvResult{copied, 0};
                return retaken.error();
            }
            continue;
        }
        auto r = msg_copy_out(m, off, data, copied, chunk);
        if (!r.ok()) {
            if (!copied)
                error = EFAULT;
            break;
        }
        copied += chunk;
        bool stop = m->nfiles != 0;  // the files end the read (the token keeps them put)
        {
            SpinGuard g(sk->lock);
            if (!peek) {
                m->off += chunk;
                sk->rx_bytes -= chunk;
                if (sk->peek_off >= 0)
                    sk->peek_off = sk->peek_off > int(chunk) ? sk->peek_off - int(chunk) : 0;
                if (m->off < m->size) {
                    stop = true;
                } else {
                    sk->rx_pop_locked();
                    m->next = consumed;
                    consumed = m;
                }
            } else if (sk->peek_off >= 0) {
                sk->peek_off += int(chunk);
            }
        }
        if (m->nfiles)
            msg_give_files(m, anc, peek);
        if (stop || copied >= size)
            break;
    }
    drop_token();
    msgs_free(consumed);
    bool passcred;
    {
        SpinGuard g(sk->lock);
        passcred = sk->passcred;
    }
    if (anc && passcred) {
        anc->has_creds = true;
        anc->creds = creds;  // nothing read: zeros, as Linux
    }
    if (copied)
        return RecvResult{copied, 0};
    if (error)
        return Errno(error);
    return RecvResult{0, 0};
}

// unix_dgram_recvmsg (and seqpacket's): one message, cut to the buffer (MSG_TRUNC out); with
// MSG_TRUNC in, the message's whole length is returned. A pending error comes first.
Result<RecvResult> UnixSocket::dgram_recv(const IoSeq& data, SockAddr* from, Ancillary* anc, int flags) {
    UnixSock* sk = m_sk;
    const bool seqpacket = sk->type == SOCK_SEQPACKET;
    if (seqpacket) {
        SpinGuard g(sk->lock);
        if (sk->state != State::Established)
            return Errno(ENOTCONN);
    }
    if (flags & MSG_OOB)
        return Errno(EOPNOTSUPP);
    const bool peek = (flags & MSG_PEEK) != 0;
    const bool nonblock = nonblocking(flags);
    const uint64_t deadline = nonblock ? kNoDeadline : recv_deadline();
    if (from)
        from->len = 0;
    TRY(take_token());
    UnixMsg* m = nullptr;
    size_t skip = 0;
    int error = 0;
    bool eof = false;
    for (;;) {
        bool wait = false;
        {
            SpinGuard g(sk->lock);
            m = sk->rx_head;
            if (peek && sk->peek_off > 0) {
                skip = size_t(sk->peek_off);
                while (m && skip && skip >= m->size) {
                    skip -= m->size;
                    m = m->next;
                }
            }
            if (sk->err) {
                error = sk->take_error_locked();
                m = nullptr;
            } else if (m) {
                if (!peek)
                    sk->rx_pop_locked();
            } else if (nonblock) {
                // Linux signals EOF on a disconnected non-blocking seqpacket socket only.
                if (seqpacket && (sk->shutdown & kShutRcv))
                    eof = true;
                else
                    error = EAGAIN;
            } else if (sk->shutdown & kShutRcv) {
                eof = true;
            } else if (seqpacket && sk->state != State::Established && sk->state != State::Listen) {
                error = ENOTCONN;
            } else {
                wait = true;
            }
        }
        if (!wait)
            break;
        drop_token();
        auto waited = block(sk->waiters, kReadable | kChange, deadline, [&] {
            SpinGuard g(sk->lock);
            return sk->rx_head || sk->err || (sk->shutdown & kShutRcv) ||
                   (seqpacket && sk->state != State::Established);
        });
        if (!waited.ok())
            return waited.error();
        TRY(take_token());
    }
    if (!m) {
        drop_token();
        if (error)
            return Errno(error);
        (void)eof;
        return RecvResult{0, 0};
    }
    if (!peek) {
        // Room for senders waiting on this receiver, and their pollers.
        sk->peer_wait.wake(kRoom);
        sk->peer_poll.wake(kWritable);
    }
    if (from) {
        if (UnixAddr* a = m->sender->name())
            fill_name(a, from);
    }
    size_t size = data.total();
    size_t avail = m->size - skip;
    size_t n = min_size(size, avail);
    auto r = msg_copy_out(m, skip, data, 0, n);
    bool passcred;
    {
        SpinGuard g(sk->lock);
        passcred = sk->passcred;
        if (r.ok()) {
            if (!peek) {
                if (sk->peek_off >= 0)
                    sk->peek_off = sk->peek_off > int(m->size) ? sk->peek_off - int(m->size) : 0;
            } else if (sk->peek_off >= 0) {
                sk->peek_off += int(n);
            }
        }
    }
    if (r.ok()) {
        if (anc && passcred) {
            anc->has_creds = true;
            anc->creds = m->creds;
        }
        msg_give_files(m, anc, peek);
    }
    drop_token();  // after the copy: a peeked message stays queued until then
    if (!peek)
        msg_free(m);  // lost on EFAULT too, as Linux
    if (!r.ok())
        return r.error();
    RecvResult out;
    out.size = (flags & MSG_TRUNC) ? avail : n;
    out.msg_flags = n < avail ? uint32_t(MSG_TRUNC) : 0;
    return out;
}

// -- Shutdown, names, options, readiness ----------------------------------------------------

// unix_shutdown: this socket's bits, and for a connection the mirrored ones on the peer.
// Linux asks for no connection (an unconnected socket just keeps the bits).
Result<void> UnixSocket::shutdown(int how) {
    UnixSock* sk = m_sk;
    if (how < SHUT_RD || how > SHUT_RDWR)
        return Errno(EINVAL);
    if (PalHandle* h = sk->host_now())
        return pal_result(g_pal->socket_shutdown(h, how));
    uint8_t mode = uint8_t(how + 1);  // SHUT_RD: kShutRcv, SHUT_WR: kShutSend, SHUT_RDWR: both
    SockRef other;
    {
        SpinGuard g(sk->lock);
        sk->shutdown |= mode;
        if (sk->peer) {
            sk->peer->ref();
            other.reset(sk->peer);
        }
    }
    sk->notify(kAllEvents);
    if (other.get() && sk->type != SOCK_DGRAM) {
        UnixSock* o = other.get();
        uint8_t peer_mode = uint8_t(((mode & kShutRcv) ? kShutSend : 0) | ((mode & kShutSend) ? kShutRcv : 0));
        {
            SpinGuard g(o->lock);
            o->shutdown |= peer_mode;
        }
        o->notify(kAllEvents);
    }
    return {};
}

Result<void> UnixSocket::peer_name(SockAddr* out) {
    SockRef peer;
    {
        SpinGuard g(m_sk->lock);
        if (!m_sk->peer && m_sk->host_now() && m_sk->state == State::Established) {
            fill_name(nullptr, out);  // the peer is in another process: a pair's has no name
            return {};
        }
        if (!m_sk->peer)
            return Errno(ENOTCONN);
        m_sk->peer->ref();
        peer.reset(m_sk->peer);
    }
    fill_name(peer.get()->name(), out);
    return {};
}

namespace {

Result<int> int_option(const void* value, uint32_t len) {
    if (len < sizeof(int))
        return Errno(EINVAL);
    int v;
    memcpy(&v, value, sizeof(v));
    return v;
}

uint32_t put_bytes(void* value, uint32_t len, const void* src, uint32_t size) {
    uint32_t n = len < size ? len : size;
    memcpy(value, src, n);
    return n;
}

uint32_t put_int(void* value, uint32_t len, int v) { return put_bytes(value, len, &v, sizeof(v)); }

int flag_bit(int name) {
    for (size_t i = 0; i < sizeof(kFlagOptions) / sizeof(kFlagOptions[0]); i++)
        if (kFlagOptions[i] == name)
            return int(i);
    return -1;
}

// SO_SNDBUF/SO_RCVBUF (sock_setsockopt): doubled, between the minimum and twice the maximum.
uint32_t buffer_size(int requested, uint32_t min) {
    uint32_t want = uint32_t(requested) > kBufMax ? kBufMax : uint32_t(requested);
    return want * 2 < min ? min : want * 2;
}

}  // namespace

// Linux's AF_UNIX has no options of its own level (EOPNOTSUPP); these are SOL_SOCKET's.
Result<void> UnixSocket::set_option(int level, int name, const void* value, uint32_t len) {
    UnixSock* sk = m_sk;
    if (level != SOL_SOCKET)
        return Errno(EOPNOTSUPP);
    if (int bit = flag_bit(name); bit >= 0) {
        int v = TRY(int_option(value, len));
        SpinGuard g(sk->lock);
        sk->flag_opts = v ? sk->flag_opts | (1u << bit) : sk->flag_opts & ~(1u << bit);
        return {};
    }
    switch (name) {
    case SO_PASSCRED: {
        int v = TRY(int_option(value, len));
        SpinGuard g(sk->lock);
        sk->passcred = v != 0;
        return {};
    }
    case SO_SNDBUF: {
        int v = TRY(int_option(value, len));
        {
            SpinGuard g(sk->lock);
            __atomic_store_n(&sk->sndbuf, buffer_size(v, kMinSndbuf), __ATOMIC_RELAXED);
        }
        sk->notify(kWritable);  // the room changed: sk_write_space
        return {};
    }
    case SO_RCVBUF: {
        int v = TRY(int_option(value, len));
        SpinGuard g(sk->lock);
        sk->rcvbuf = buffer_size(v, kMinRcvbuf);
        return {};
    }
    case SO_SNDBUFFORCE:
    case SO_RCVBUFFORCE:
        TRY(int_option(value, len));
        return Errno(EPERM);  // CAP_NET_ADMIN
    case SO_REUSEPORT:
        TRY(int_option(value, len));
        return Errno(EOPNOTSUPP);  // Linux allows it on inet sockets only
    case SO_RCVLOWAT: {
        int v = TRY(int_option(value, len));
        SpinGuard g(sk->lock);
        sk->rcvlowat = v < 0 ? kIntMax : (v ? v : 1);
        return {};
    }
    case SO_PEEK_OFF: {
        int v = TRY(int_option(value, len));
        SpinGuard g(sk->lock);
        sk->peek_off = v;
        return {};
    }
    case SO_PRIORITY: {
        int v = TRY(int_option(value, len));
        if (v < 0 || v > 6)
            return Errno(EPERM);  // CAP_NET_ADMIN
        SpinGuard g(sk->lock);
        sk->priority = v;
        return {};
    }
    case SO_LINGER: {
        if (len < sizeof(sk->linger))
            return Errno(EINVAL);
        int l[2];
        memcpy(l, value, sizeof(l));
        SpinGuard g(sk->lock);
        sk->linger[0] = l[0] ? 1 : 0;
        sk->linger[1] = l[0] ? l[1] : sk->linger[1];
        return {};
    }
    case SO_PEERCRED:
    case SO_ACCEPTCONN:
    case SO_ERROR:
    case SO_SNDLOWAT:
        return Errno(ENOPROTOOPT);
    default:
        return Socket::set_option(level, name, value, len);
    }
}

Result<uint32_t> UnixSocket::get_option(int level, int name, void* value, uint32_t len) {
    UnixSock* sk = m_sk;
    if (level != SOL_SOCKET)
        return Errno(EOPNOTSUPP);
    if (int bit = flag_bit(name); bit >= 0) {
        SpinGuard g(sk->lock);
        return put_int(value, len, (sk->flag_opts >> bit) & 1);
    }
    {
        SpinGuard g(sk->lock);
        switch (name) {
        case SO_PASSCRED: return put_int(value, len, sk->passcred);
        case SO_SNDBUF: return put_int(value, len, int(sk->sndbuf));
        case SO_RCVBUF: return put_int(value, len, int(sk->rcvbuf));
        case SO_RCVLOWAT: return put_int(value, len, sk->rcvlowat);
        case SO_SNDLOWAT: return put_int(value, len, 1);
        case SO_PEEK_OFF: return put_int(value, len, sk->peek_off);
        case SO_PRIORITY: return put_int(value, len, sk->priority);
        case SO_REUSEPORT: return put_int(value, len, 0);
        case SO_ACCEPTCONN: return put_int(value, len, sk->state == State::Listen);
        case SO_ERROR: return put_int(value, len, sk->take_error_locked());
        case SO_LINGER: return put_bytes(value, len, sk->linger, sizeof(sk->linger));
        case SO_PEERCRED: return put_bytes(value, len, &sk->peer_creds, sizeof(sk->peer_creds));
        default: break;
        }
    }
    return Socket::get_option(level, name, value, len);
}

// FIONREAD/SIOCINQ (unix_inq_len): a stream's or seqpacket socket's unread bytes, the next
// datagram's size; EINVAL for a listener.
Result<uint64_t> UnixSocket::readable_bytes() {
    if (PalHandle* h = m_sk->host_now()) {
        int64_t v = 0;
        TRY(pal_result(g_pal->socket_get_option(h, PAL_SO_INQ, &v)));
        return uint64_t(v);
    }
    SpinGuard g(m_sk->lock);
    if (m_sk->state == State::Listen)
        return Errno(EINVAL);
    if (m_sk->type == SOCK_DGRAM)
        return uint64_t(m_sk->rx_head ? m_sk->rx_head->size : 0);
    return uint64_t(m_sk->rx_bytes);
}

// unix_poll and unix_dgram_poll.
uint32_t UnixSocket::poll_events() {
    UnixSock* sk = m_sk;
    if (PalHandle* h = sk->host_now())
        return poll_events_from_pal(host_ready_now(h, PAL_WAIT_READ | PAL_WAIT_WRITE | PAL_WAIT_RDHUP));
    uint32_t mask = 0;
    bool writable;
    SockRef other;
    {
        SpinGuard g(sk->lock);
        if (sk->err)
            mask |= POLLERR;
        if (sk->shutdown == kShutBoth)
            mask |= POLLHUP;
        if (sk->shutdown & kShutRcv)
            mask |= POLLRDHUP | kReadable;
        if (sk->rx_head || sk->backlog_head)
            mask |= kReadable;
        if (sk->type != SOCK_DGRAM && sk->state == State::Close)
            mask |= POLLHUP;  // a connection-based socket not connected (yet, or any more)
        writable = sk->state != State::Listen && sk->wmem_now() * 4 <= sk->sndbuf;
        if (writable && sk->type == SOCK_DGRAM && sk->peer) {
            sk->peer->ref();
            other.reset(sk->peer);
        }
    }
    // A datagram socket is not writable while its peer's queue is full for it.
    if (other.get() && relay_until_room(sk, other.get()))
        writable = false;
    if (writable)
        mask |= kWritable;
    return mask;
}

// -- Creation ---------------------------------------------------------------------------------

// -- Sockets shared by processes -----------------------------------------------------------

namespace {

// The host socket type of a LibOS UNIX socket's.
PalSockType pal_type_of(int type) {
    return type == SOCK_DGRAM ? PAL_SOCK_DGRAM : type == SOCK_SEQPACKET ? PAL_SOCK_SEQPACKET : PAL_SOCK_STREAM;
}

// Sends one queued datagram or record whole, as one host message.
Result<void> copy_record_to_host(UnixMsg* m, PalHandle* to) {
    constexpr size_t kMaxVec = 16;
    PalIoVec v[kMaxVec];
    size_t n = 0;
    if (!m->nblocks) {
        v[n++] = PalIoVec{m->inline_data(), m->size};
    } else {
        for (size_t at = 0; at < m->size && n < kMaxVec; at += kBlockSize)
            v[n++] = PalIoVec{m->blocks()[at / kBlockSize], min_size(m->size - at, kBlockSize)};
    }
    size_t done = 0;
    PalError e = g_pal->socket_send(to, v, n, nullptr, 0, &done);
    if (e != PAL_OK)
        return e == PAL_E_AGAIN ? Errno(EAGAIN) : errno_from_pal(e);
    return done == m->size ? Result<void>() : Errno(EMSGSIZE);
}

// Writes a queue's unread bytes into a host socket (non-blocking: a queue larger than the
// host's buffer is EAGAIN), a datagram's or record's as one message. The queue stays as
// it is.
Result<void> copy_queue_to_host(UnixMsg* head, PalHandle* to, int type) {
    for (UnixMsg* m = head; m; m = m->next) {
        if (type != SOCK_STREAM) {
            TRY(copy_record_to_host(m, to));
            continue;
        }
        size_t at = m->off;
        while (at < m->size) {
            uint8_t* data;
            size_t n;
            if (!m->nblocks) {
                data = m->inline_data() + at;
                n = m->size - at;
            } else {
                data = m->blocks()[at / kBlockSize] + at % kBlockSize;
                n = min_size(m->size - at, kBlockSize - at % kBlockSize);
            }
            PalIoVec v{data, n};
            size_t done = 0;
            PalError e = g_pal->socket_send(to, &v, 1, nullptr, 0, &done);
            if (e != PAL_OK)
                return e == PAL_E_AGAIN ? Errno(EAGAIN) : errno_from_pal(e);
            at += done;
        }
    }
    return {};
}

// Whether `sk` may move: one of a connected pair (a stream or seqpacket socket connected, a
// datagram socket with a peer) whose other is here and open, with no file in flight in
// either queue, and no reader inside either (their tokens taken here); from then on no
// sender appends to its queue (`moving`), so the copy is all of it.
bool claim_locked(UnixSock* sk) {
    bool paired = sk->type == SOCK_DGRAM ? sk->peer != nullptr : sk->state == State::Established;
    if (!paired || sk->dead || sk->reading || sk->host || sk->moving)
        return false;
    for (UnixMsg* m = sk->rx_head; m; m = m->next)
        if (m->nfiles)
            return false;
    sk->reading = true;
    sk->moving = true;  // senders keep their data until the host socket takes it
    return true;
}

}  // namespace

Result<PalHandle*> UnixSocket::share_host() {
    UnixSock* sk = m_sk;
    if (PalHandle* h = sk->host_now())
        return h;
    SockRef other;
    {
        SpinGuard g(sk->lock);
        if (!sk->peer)
            return Errno(EOPNOTSUPP);
        sk->peer->ref();
        other.reset(sk->peer);
    }
    UnixSock* o = other.get();
    // Both receive tokens: no reader moves data while it is copied.
    {
        SpinGuard g(sk->lock);
        if (!claim_locked(sk))
            return Errno(EOPNOTSUPP);
    }
    bool claimed_other;
    {
        SpinGuard g(o->lock);
        claimed_other = o->peer == sk && claim_locked(o);
    }
    auto give_back = [&](bool both) {
        UnixSock* held[2] = {sk, both ? o : nullptr};
        for (UnixSock* k : held) {
            if (!k)
                continue;
            {
                SpinGuard g(k->lock);
                k->reading = false;
                k->moving = false;
            }
            k->waiters.wake(kTokenFree);
        }
    };
    if (!claimed_other) {
        give_back(false);
        return Errno(EOPNOTSUPP);
    }
    PalHandle *mine = nullptr, *theirs = nullptr;
    PalError e = g_pal->socket_pair(pal_type_of(sk->type), &mine, &theirs);
    if (e != PAL_OK) {
        give_back(true);
        return errno_from_pal(e);
    }
    // What each has not read yet arrives on its host end: written into the other end.
    auto moved = copy_queue_to_host(sk->rx_head, theirs, sk->type);
    if (moved.ok())
        moved = copy_queue_to_host(o->rx_head, mine, sk->type);
    if (!moved.ok()) {
        give_back(true);
        g_pal->stream_close(mine);
        g_pal->stream_close(theirs);
        return moved.error();
    }
    UnixMsg* drop[2];
    {
        SpinGuard g(sk->lock);
        drop[0] = sk->rx_take_all_locked();
        __atomic_store_n(&sk->host, mine, __ATOMIC_RELEASE);
        sk->reading = false;
        sk->moving = false;
    }
    {
        SpinGuard g(o->lock);
        drop[1] = o->rx_take_all_locked();
        __atomic_store_n(&o->host, theirs, __ATOMIC_RELEASE);
        o->reading = false;
        o->moving = false;
    }
    msgs_free(drop[0]);
    msgs_free(drop[1]);
    // Blocked calls start again on the host socket; pollers look again.
    sk->notify(kAllEvents | kTokenFree);
    o->notify(kAllEvents | kTokenFree);
    return mine;
}

Result<size_t> UnixSocket::host_stream_send(PalHandle* h, const IoSeq& data, Ancillary* anc, int flags) {
    if (!anc || !anc->nfiles)
        return host_send(h, data, nullptr, flags);
    PalHandle* handles[ipc::kMaxPassHandles];
    Handles pass{handles, TRY(ipc::files_pack(anc->files, anc->nfiles, handles, ipc::kMaxPassHandles))};
    auto sent = host_send(h, data, nullptr, flags, &pass);
    if (!sent.ok())
        ipc::files_pack_cancel(handles, pass.count);  // nothing went: the holds in flight come back
    else
        g_pal->stream_close(handles[0]);
    return sent;
}

Result<RecvResult> UnixSocket::host_stream_recv(PalHandle* h, const IoSeq& data, Ancillary* anc, int flags) {
    PalHandle* handles[ipc::kMaxPassHandles];
    Handles got{handles, ipc::kMaxPassHandles};
    RecvResult r = TRY(host_recv(h, data, nullptr, flags, &got));
    if (!got.count)
        return r;
    // Without room for them (read(2), recv(2)) the files are dropped, as Linux drops them.
    fs::File** files = anc ? anc->files : static_cast<fs::File**>(kmalloc(kScmMaxFd * sizeof(fs::File*)));
    if (!files) {
        for (size_t i = 0; i < got.count; i++)
            g_pal->stream_close(handles[i]);
        r.msg_flags |= MSG_CTRUNC;
        return r;
    }
    auto how = (flags & MSG_PEEK) ? ipc::Arrival::Peek : ipc::Arrival::Message;
    auto n = ipc::files_unpack(handles, got.count, how, files, kScmMaxFd);
    if (!n.ok()) {
        log_warning("SCM_RIGHTS: the files another process passed could not be taken (errno %d)", n.error().code);
        r.msg_flags |= MSG_CTRUNC;
    } else if (anc) {
        anc->nfiles = n.value();
    } else {
        for (size_t i = 0; i < n.value(); i++)
            files[i]->unref();
    }
    if (!anc)
        kfree(files);
    return r;
}

Result<void> UnixSocket::remote_connect(const UnixKey& key) {
    UnixSock* sk = m_sk;
    TRY(start_connect(sk));
    PalHandle *mine = nullptr, *theirs = nullptr;
    PalError e = g_pal->socket_pair(PAL_SOCK_STREAM, &mine, &theirs);
    auto listener = e == PAL_OK ? unix_names_connect(key, sk->type, theirs) : Result<SockCreds>(errno_from_pal(e));
    {
        SpinGuard g(sk->lock);
        sk->connecting = false;
        if (listener.ok()) {
            __atomic_store_n(&sk->host, mine, __ATOMIC_RELEASE);
            sk->state = State::Established;
            sk->peer_creds = listener.value();
        }
    }
    if (!listener.ok()) {
        g_pal->stream_close(mine);
        return listener.error();
    }
    sk->notify(kAllEvents);
    return {};
}

Result<void> unix_accept_remote(const UnixKey& key, const SockCreds& creds, PalHandle* h) {
    SockRef listener;
    {
        SpinGuard g(g_names.lock);
        UnixSock* s = nullptr;
        if (key.type < 0) {
            uint64_t dev, ino;
            memcpy(&dev, key.bytes, 8);
            memcpy(&ino, key.bytes + 8, 8);
            s = find_node_locked(dev, ino);
        } else if (key.len <= kSunPathSize) {
            uint8_t sun[kSockaddrUnSize + 1] = {uint8_t(AF_UNIX)};
            memcpy(sun + kPathOffset, key.bytes, key.len);
            s = find_abstract_locked(key.type, sun, uint32_t(kPathOffset + key.len));
        }
        if (s)
            s->ref();
        listener.reset(s);
    }
    UnixSock* o = listener.get();
    UnixSock* n = o ? make<UnixSock>(SOCK_STREAM) : nullptr;
    if (!n) {
        g_pal->stream_close(h);
        return Errno(o ? ENOMEM : ECONNREFUSED);
    }
    n->state = State::Established;
    n->host = h;
    n->peer_creds = creds;
    bool queued = false;
    {
        SpinGuard g(o->lock);
        if (!o->dead && o->type == SOCK_STREAM && o->state == State::Listen && !(o->shutdown & kShutRcv) &&
            o->backlog_len <= size_t(o->max_backlog)) {
            if (UnixAddr* la = o->name()) {
                la->ref();
                __atomic_store_n(&n->addr, la, __ATOMIC_RELEASE);
            }
            o->backlog_append_locked(n);
            queued = true;
        }
    }
    if (!queued) {
        n->release(true);  // its host end closes: the connector reads end of file
        n->unref();
        return Errno(ECONNREFUSED);
    }
    o->notify(kReadable);
    return {};
}

Result<Socket*> unix_socket_adopt(int type, uint32_t flags, PalHandle* h) {
    if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
        return Errno(EINVAL);
    UnixSock* sk = make<UnixSock>(type);
    if (!sk)
        return Errno(ENOMEM);
    sk->state = State::Established;
    sk->host = h;
    UnixSocket* s = make<UnixSocket>(sk, flags);
    if (!s) {
        sk->host = nullptr;
        sk->unref();
        return Errno(ENOMEM);
    }
    return static_cast<Socket*>(s);
}

Result<Socket*> unix_socket_create(int type, int protocol, uint32_t flags) {
    if (protocol && protocol != AF_UNIX)
        return Errno(EPROTONOSUPPORT);
    switch (type) {
    case SOCK_STREAM:
    case SOCK_DGRAM:
    case SOCK_SEQPACKET: break;
    case SOCK_RAW: type = SOCK_DGRAM; break;  // BSD's alias, kept by Linux
    default: return Errno(ESOCKTNOSUPPORT);
    }
    UnixSock* sk = make<UnixSock>(type);
    if (!sk)
        return Errno(ENOMEM);
    UnixSocket* s = make<UnixSocket>(sk, flags);
    if (!s) {
        sk->unref();
        return Errno(ENOMEM);
    }
    return static_cast<Socket*>(s);
}

// unix_socketpair: two sockets, each the other's peer, with each other's credentials.
Result<void> unix_socket_pair(int type, int protocol, uint32_t flags, Socket** a, Socket** b) {
    Socket* sa = TRY(unix_socket_create(type, protocol, flags));
    auto made = unix_socket_create(type, protocol, flags);
    if (!made.ok()) {
        sa->unref();
        return made.error();
    }
    Socket* sb = made.value();
    UnixSock* ka = sock_of(sa);
    UnixSock* kb = sock_of(sb);
    SockCreds creds = current_creds();
    UnixSock* both[2] = {ka, kb};
    for (UnixSock* k : both) {
        UnixSock* other = k == ka ? kb : ka;
        other->ref();
        SpinGuard g(k->lock);
        k->set_peer_locked(other);
        k->peer_creds = creds;
        if (k->type != SOCK_DGRAM)
            k->state = State::Established;
    }
    *a = sa;
    *b = sb;
    return {};
}

}  // namespace carbyne::libos::net
