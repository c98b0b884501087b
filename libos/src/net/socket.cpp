// What every socket shares (see socket.h): creation by family, the common options, and
// read/write as recv/send.
#include "socket.h"

#include <carbyne/string.h>
#include <linux/fcntl.h>

#include "../fs/anon_inode.h"
#include "../proc/process.h"
#include "../proc/wait.h"
#include "../signal/signal.h"

namespace carbyne::libos::net {

namespace {

constexpr int kSigPipe = 13;

struct Timeval {
    int64_t sec, usec;
};

// SO_RCVTIMEO/SO_SNDTIMEO (sock_set_timeout): 0 is "no timeout"; a negative time is "do
// not wait", kept as 1 ns.
Result<uint64_t> timeout_from(const void* value, uint32_t len) {
    if (len < sizeof(Timeval))
        return Errno(EINVAL);
    Timeval tv;
    memcpy(&tv, value, sizeof(tv));
    if (tv.usec < 0 || tv.usec >= 1000000)
        return Errno(EDOM);
    if (tv.sec < 0)
        return uint64_t(1);
    if (uint64_t(tv.sec) > (~uint64_t{0} - 1000000000) / 1000000000)
        return uint64_t(0);  // beyond any deadline: no timeout
    return uint64_t(tv.sec) * 1000000000 + uint64_t(tv.usec) * 1000;
}

uint32_t put_int(void* value, uint32_t len, int v) {
    uint32_t n = len < sizeof(int) ? len : uint32_t(sizeof(int));
    memcpy(value, &v, n);
    return n;
}

}  // namespace

void Ancillary::release() {
    for (size_t i = 0; i < nfiles; i++)
        files[i]->unref();
    nfiles = 0;
}

Socket::Socket(int family, int type, int protocol, uint32_t flags)
    : File(O_RDWR | flags, nullptr), m_family(family), m_type(type), m_protocol(protocol),
      m_ino(fs::anon_inode_number()) {}

Result<void> Socket::set_option(int level, int name, const void* value, uint32_t len) {
    if (level != SOL_SOCKET)
        return Errno(ENOPROTOOPT);
    switch (name) {
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
        m_rcvtimeo_ns = TRY(timeout_from(value, len));
        return {};
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW:
        m_sndtimeo_ns = TRY(timeout_from(value, len));
        return {};
    case SO_TYPE:
    case SO_PROTOCOL:
    case SO_DOMAIN:
        return Errno(ENOPROTOOPT);  // read-only, as Linux answers
    default:
        return Errno(ENOPROTOOPT);
    }
}

Result<uint32_t> Socket::get_option(int level, int name, void* value, uint32_t len) {
    if (level != SOL_SOCKET)
        return Errno(EOPNOTSUPP);
    switch (name) {
    case SO_TYPE: return put_int(value, len, m_type);
    case SO_PROTOCOL: return put_int(value, len, m_protocol);
    case SO_DOMAIN: return put_int(value, len, m_family);
    case SO_RCVTIMEO_OLD:
    case SO_RCVTIMEO_NEW:
    case SO_SNDTIMEO_OLD:
    case SO_SNDTIMEO_NEW: {
        uint64_t ns = (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW) ? m_rcvtimeo_ns : m_sndtimeo_ns;
        Timeval tv = {int64_t(ns / 1000000000), int64_t(ns % 1000000000 / 1000)};
        if (ns == 1)
            tv = {0, 0};
        uint32_t n = len < sizeof(tv) ? len : uint32_t(sizeof(tv));
        memcpy(value, &tv, n);
        return n;
    }
    default:
        return Errno(ENOPROTOOPT);
    }
}

Result<size_t> Socket::read(fs::IoBuf buf, size_t size) {
    IoSeg seg{buf, size};
    RecvResult r = TRY(recv(IoSeq::single(&seg), nullptr, nullptr, 0));
    return r.size;
}

Result<size_t> Socket::write(fs::IoBuf buf, size_t size) {
    IoSeg seg{buf, size};
    return send_and_signal(IoSeq::single(&seg), nullptr, nullptr, 0);
}

Result<size_t> Socket::send_and_signal(const IoSeq& data, const SockAddr* to, Ancillary* anc, int flags) {
    auto r = send(data, to, anc, flags);
    if (!r.ok() && r.error() == Errno(EPIPE) && !(flags & MSG_NOSIGNAL) && m_type == SOCK_STREAM)
        (void)signal_send(current_thread(), kSigPipe, signal_user_info(kSigPipe));
    return r;
}

Result<void> Socket::stat(fs::Stat* out) {
    fs::anon_inode_stat(m_ino, out);
    out->mode = S_IFSOCK | 0777;  // sockfs inodes, as Linux shows them
    out->dev = 0x8;
    out->blksize = 4096;
    return {};
}

uint64_t Socket::recv_deadline() const { return m_rcvtimeo_ns ? deadline_after(m_rcvtimeo_ns) : kNoDeadline; }

uint64_t Socket::send_deadline() const { return m_sndtimeo_ns ? deadline_after(m_sndtimeo_ns) : kNoDeadline; }

Errno Socket::wait_error(Errno e, bool timed) {
    if (e == Errno(ETIMEDOUT))
        return Errno(EAGAIN);
    if (e == Errno(ERESTARTSYS) && timed)
        return Errno(EINTR);
    return e;
}

bool Socket::nonblocking(int msg_flags) const { return (flags() & O_NONBLOCK) || (msg_flags & MSG_DONTWAIT); }

Result<long> socket_readv(fs::File* f, uint64_t iov_addr, size_t count) {
    IoSegs segs;
    IoSeq seq = TRY(segs.import(iov_addr, count));
    RecvResult r = TRY(static_cast<Socket*>(f)->recv(seq, nullptr, nullptr, 0));
    return long(r.size);
}

Result<long> socket_writev(fs::File* f, uint64_t iov_addr, size_t count) {
    IoSegs segs;
    IoSeq seq = TRY(segs.import(iov_addr, count));
    return long(TRY(static_cast<Socket*>(f)->send_and_signal(seq, nullptr, nullptr, 0)));
}

Result<Socket*> socket_create(int family, int type, int protocol, uint32_t flags) {
    switch (family) {
    case AF_UNIX: return unix_socket_create(type, protocol, flags);
    case AF_INET:
    case AF_INET6: return inet_socket_create(family, type, protocol, flags);
    default: return Errno(EAFNOSUPPORT);
    }
}

Result<void> socket_create_pair(int family, int type, int protocol, uint32_t flags, Socket** a, Socket** b) {
    switch (family) {
    case AF_UNIX: return unix_socket_pair(type, protocol, flags, a, b);
    case AF_INET:
    case AF_INET6: return Errno(EOPNOTSUPP);
    default: return Errno(EAFNOSUPPORT);
    }
}

}  // namespace carbyne::libos::net
