// Sockets: the file type behind socket(2), and what every address family implements.
//
// sys/socket.cpp is the system-call edge: it checks and copies the application's
// addresses, iovecs and control messages, and turns SCM_RIGHTS file descriptors into file
// references (and back), so the families below see only LibOS values. Two families:
//
//   AF_INET, AF_INET6  host TCP and UDP sockets through the PAL (net/inet.cpp); the host
//                      never blocks, the LibOS waits on the socket's handle and the thread's
//                      event together, so signals end the waits.
//   AF_UNIX            inside the LibOS (net/unix.cpp): stream, datagram and seqpacket
//                      sockets, socketpair, path-bound and abstract names, SCM_RIGHTS and
//                      SCM_CREDENTIALS.
//
// A socket's whole state is in its object, so the multi-process work can move it (a host
// socket's handle passes as a host fd; a UNIX socket shared by two processes will be
// another implementation behind this interface).
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

#include "../fs/file.h"
#include "ioseq.h"

namespace carbyne::libos::net {

// The socket ABI's numbers (the kernel's include/linux/socket.h; the uapi headers do not
// carry them).
inline constexpr int AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17,
                     AF_MAX = 46;
inline constexpr int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_RDM = 4, SOCK_SEQPACKET = 5,
                     SOCK_TYPE_MASK = 0xf;
inline constexpr int MSG_OOB = 0x1, MSG_PEEK = 0x2, MSG_DONTROUTE = 0x4, MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20,
                     MSG_DONTWAIT = 0x40, MSG_EOR = 0x80, MSG_WAITALL = 0x100, MSG_CONFIRM = 0x800,
                     MSG_ERRQUEUE = 0x2000, MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000, MSG_WAITFORONE = 0x10000,
                     MSG_FASTOPEN = 0x20000000, MSG_CMSG_CLOEXEC = 0x40000000;
inline constexpr int SOL_IP = 0, SOL_SOCKET = 1, SOL_TCP = 6, SOL_UDP = 17, SOL_IPV6 = 41;
inline constexpr int SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;
inline constexpr int SO_DEBUG = 1, SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_DONTROUTE = 5,
                     SO_BROADCAST = 6, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_OOBINLINE = 10,
                     SO_NO_CHECK = 11, SO_PRIORITY = 12, SO_LINGER = 13, SO_BSDCOMPAT = 14, SO_REUSEPORT = 15,
                     SO_PASSCRED = 16, SO_PEERCRED = 17, SO_RCVLOWAT = 18, SO_SNDLOWAT = 19,
                     SO_RCVTIMEO_OLD = 20, SO_SNDTIMEO_OLD = 21, SO_BINDTODEVICE = 25, SO_TIMESTAMP_OLD = 29,
                     SO_ACCEPTCONN = 30, SO_PEERSEC = 31, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33,
                     SO_PASSSEC = 34, SO_MARK = 36, SO_PROTOCOL = 38, SO_DOMAIN = 39, SO_RXQ_OVFL = 40,
                     SO_PEEK_OFF = 42, SO_BUSY_POLL = 46, SO_INCOMING_CPU = 49, SO_RCVTIMEO_NEW = 66,
                     SO_SNDTIMEO_NEW = 67;
inline constexpr int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;

// A socket address as the application gives it (struct sockaddr_* bytes) and its length.
struct SockAddr {
    static constexpr uint32_t kMax = 128;  // sizeof(struct sockaddr_storage)
    uint32_t len = 0;
    alignas(8) uint8_t bytes[kMax];

    uint16_t family() const { return len >= 2 ? uint16_t(bytes[0] | bytes[1] << 8) : 0; }
};

inline constexpr size_t kScmMaxFd = 253;  // SCM_MAX_FD: files in one SCM_RIGHTS message

// Credentials of SCM_CREDENTIALS and SO_PEERCRED (struct ucred).
struct SockCreds {
    int32_t pid;
    uint32_t uid, gid;
};

// The ancillary data of one message, in LibOS form. SCM_RIGHTS files are references this
// object owns: a send moves them into the socket (count becomes 0), a receive gets them and
// sys/socket.cpp installs them as descriptors; release() drops whatever is left.
struct Ancillary {
    fs::File* files[kScmMaxFd];
    size_t nfiles = 0;
    bool has_creds = false;  // send: the sender gave SCM_CREDENTIALS; recv: fill them in
    SockCreds creds{};

    void release();
};

// recv: out-flags (the MSG_* bits of msg_flags) and the sender's address.
struct RecvResult {
    size_t size = 0;        // bytes stored (with MSG_TRUNC in flags: a datagram's real length)
    uint32_t msg_flags = 0; // MSG_TRUNC, MSG_CTRUNC, MSG_EOR...
};

class Socket : public fs::File {
public:
    Socket(int family, int type, int protocol, uint32_t flags);

    fs::FileKind kind() const override { return fs::FileKind::Socket; }
    int family() const { return m_family; }
    int type() const { return m_type; }  // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
    int protocol() const { return m_protocol; }

    virtual Result<void> bind(const SockAddr& addr) = 0;
    virtual Result<void> listen(int backlog) = 0;
    // A connection from the queue (blocking unless this socket is O_NONBLOCK); `flags`
    // (O_NONBLOCK) are the new socket's; `peer` (may be nullptr) gets its address.
    virtual Result<Socket*> accept(uint32_t flags, SockAddr* peer) = 0;
    virtual Result<void> connect(const SockAddr& addr) = 0;
    // MSG_* flags as the application gave them (MSG_DONTWAIT, MSG_NOSIGNAL, MSG_PEEK...).
    // A send to a closed connection returns EPIPE; the caller raises SIGPIPE unless
    // MSG_NOSIGNAL. `anc` may be nullptr.
    virtual Result<size_t> send(const IoSeq& data, const SockAddr* to, Ancillary* anc, int flags) = 0;
    // send(), then SIGPIPE for an EPIPE of a stream socket unless MSG_NOSIGNAL (datagram
    // and seqpacket sockets give EPIPE alone, as Linux): what every send path calls.
    Result<size_t> send_and_signal(const IoSeq& data, const SockAddr* to, Ancillary* anc, int flags);
    virtual Result<RecvResult> recv(const IoSeq& data, SockAddr* from, Ancillary* anc, int flags) = 0;
    virtual Result<void> shutdown(int how) = 0;
    virtual Result<void> local_name(SockAddr* out) = 0;
    virtual Result<void> peer_name(SockAddr* out) = 0;

    // setsockopt/getsockopt with the option's bytes in LibOS memory. The base answers the
    // options every family shares (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_RCVTIMEO,
    // SO_SNDTIMEO); a family answers its own and calls the base for the rest.
    virtual Result<void> set_option(int level, int name, const void* value, uint32_t len);
    // Fills `value` (room for `len` bytes) and returns the option's length.
    virtual Result<uint32_t> get_option(int level, int name, void* value, uint32_t len);
    // SIOCOUTQ: bytes sent and not yet taken by the peer.
    virtual Result<uint64_t> unsent_bytes() { return Errno(EINVAL); }

    // read/write/readv/writev: recv/send with no flags.
    Result<size_t> read(fs::IoBuf buf, size_t size) override;
    Result<size_t> write(fs::IoBuf buf, size_t size) override;
    Result<size_t> pread(fs::IoBuf, size_t, uint64_t) override { return Errno(ESPIPE); }
    Result<size_t> pwrite(fs::IoBuf, size_t, uint64_t) override { return Errno(ESPIPE); }
    Result<int64_t> seek(int64_t, int) override { return Errno(ESPIPE); }
    Result<void> stat(fs::Stat* out) override;

protected:
    // The deadline of a blocking receive or send from SO_RCVTIMEO/SO_SNDTIMEO (kNoDeadline
    // when unset), and the error a wait for it ends with: EAGAIN at the deadline; a signal
    // gives ERESTARTSYS with no timeout set, EINTR with one (Linux's sock_intr_errno).
    uint64_t recv_deadline() const;
    uint64_t send_deadline() const;
    static Errno wait_error(Errno e, bool timed);
    bool nonblocking(int msg_flags) const;

    // Sending and receiving through a host socket `h` (socket_host.cpp), with this socket's
    // O_NONBLOCK, timeouts and type: a blocking stream send goes on until all is taken,
    // MSG_WAITALL until all has come. `to` and `from` may be nullptr; `from` gets the first
    // sender's address. `pass` (a host AF_UNIX socket's) are handles sent with the first
    // byte; `got` receives those that come with what is read (a receive stops after them).
    struct Handles {
        PalHandle** h;
        size_t count;  // recv: the room in h, then how many came
    };
    Result<size_t> host_send(PalHandle* h, const IoSeq& data, const PalSockAddr* to, int flags,
                             const Handles* pass = nullptr);
    Result<RecvResult> host_recv(PalHandle* h, const IoSeq& data, PalSockAddr* from, int flags,
                                 Handles* got = nullptr);
    // A wait until `h` is ready for `want`, the thread is woken or the deadline passes (the
    // caller tries again); what it is ready for now: host_ready_now (poll.h).
    static Result<void> host_wait(PalHandle* h, uint32_t want, uint64_t deadline);

private:
    int m_family, m_type, m_protocol;
    uint64_t m_ino;
    uint64_t m_rcvtimeo_ns = 0;  // 0: none
    uint64_t m_sndtimeo_ns = 0;
};

// readv/writev on a file of kind Socket: one recv/send over the whole vector.
Result<long> socket_readv(fs::File* f, uint64_t iov_addr, size_t count);
Result<long> socket_writev(fs::File* f, uint64_t iov_addr, size_t count);

// socket(2): EAFNOSUPPORT, EPROTONOSUPPORT, ESOCKTNOSUPPORT (EINVAL) as Linux answers.
// `type` is without SOCK_NONBLOCK/SOCK_CLOEXEC; `flags` is O_NONBLOCK or 0.
Result<Socket*> socket_create(int family, int type, int protocol, uint32_t flags);
// socketpair(2): AF_UNIX only (EOPNOTSUPP for AF_INET*, as Linux).
Result<void> socket_create_pair(int family, int type, int protocol, uint32_t flags, Socket** a, Socket** b);

// The families (inet.cpp, unix.cpp).
Result<Socket*> inet_socket_create(int family, int type, int protocol, uint32_t flags);
// A fork child's end of a host socket its parent shares (File::share_host); takes `h`.
Result<Socket*> inet_socket_adopt(int family, int type, int protocol, uint32_t flags, PalHandle* h);
Result<Socket*> unix_socket_create(int type, int protocol, uint32_t flags);
// A child's end of a UNIX stream socket its parent shared (UnixSocket::share_host): the
// host socket `h` is its transport.
Result<Socket*> unix_socket_adopt(int type, uint32_t flags, PalHandle* h);
Result<void> unix_socket_pair(int type, int protocol, uint32_t flags, Socket** a, Socket** b);

}  // namespace carbyne::libos::net
