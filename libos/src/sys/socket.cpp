// socket, socketpair, bind, listen, accept, accept4, connect, shutdown, getsockname,
// getpeername, setsockopt, getsockopt, sendto, recvfrom, sendmsg, recvmsg, sendmmsg,
// recvmmsg: the system-call edge of net/socket.h. Addresses, iovecs and control messages
// are checked and copied here; SCM_RIGHTS descriptors become file references going in and
// descriptors coming out.
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/user.h>
#include <linux/fcntl.h>

#include "../net/socket.h"
#include "../proc/process.h"
#include "../proc/wait.h"
#include "timespec.h"
#include "syscall.h"

namespace carbyne::libos {

using net::Ancillary;
using net::IoSeg;
using net::IoSegs;
using net::IoSeq;
using net::RecvResult;
using net::SockAddr;
using net::Socket;

namespace {

constexpr int kSockMax = 11;                       // SOCK_MAX
constexpr uint32_t kSockNonblock = O_NONBLOCK;     // SOCK_NONBLOCK
constexpr uint32_t kSockCloexec = O_CLOEXEC;       // SOCK_CLOEXEC
constexpr size_t kCmsgHdr = 16;                    // struct cmsghdr: len (8), level, type
constexpr size_t kControlMax = 20480;              // net.core.optmem_max
constexpr uint32_t kOptionMax = 256;               // the largest option copied in or out here

size_t cmsg_align(size_t n) { return (n + 7) & ~size_t(7); }

// struct msghdr and struct mmsghdr as the application lays them out.
struct UserMsghdr {
    uint64_t name;
    int32_t namelen;
    int32_t pad0;
    uint64_t iov;
    uint64_t iovlen;
    uint64_t control;
    uint64_t controllen;
    int32_t flags;
    int32_t pad1;
};
static_assert(sizeof(UserMsghdr) == 56);
constexpr size_t kMmsghdrSize = 64;  // struct mmsghdr: msghdr + msg_len (+ padding)

struct CmsgHdr {
    uint64_t len;
    int32_t level;
    int32_t type;
};

Result<Socket*> as_socket(FileRef& f) {
    if (f->kind() != fs::FileKind::Socket)
        return Errno(ENOTSOCK);
    return static_cast<Socket*>(f.get());
}

// An address from the application (move_addr_to_kernel).
Result<void> addr_in(uint64_t user, int64_t len, SockAddr* out) {
    if (len < 0 || uint64_t(len) > SockAddr::kMax)
        return Errno(EINVAL);
    out->len = uint32_t(len);
    if (len)
        TRY(copy_from_user(out->bytes, user, size_t(len)));
    return {};
}

// An address to the application: at most *user_len bytes, and the real length stored
// back (move_addr_to_user).
Result<void> addr_out(const SockAddr& a, uint64_t user, uint64_t user_len) {
    if (!user_len)
        return {};
    int32_t room = TRY(UserPtr<int32_t>(user_len).read());
    if (room < 0)
        return Errno(EINVAL);
    uint32_t n = uint32_t(room) < a.len ? uint32_t(room) : a.len;
    if (n)
        TRY(copy_to_user(user, a.bytes, n));
    return UserPtr<int32_t>(user_len).write(int32_t(a.len));
}

// Installs `s` (its reference moves) as a new descriptor.
Result<long> install_socket(Socket* s, bool cloexec) { return long(TRY(g_process.fds.install(s, 0, cloexec))); }

Result<long> do_accept(int fd, uint64_t user_addr, uint64_t user_len, uint32_t flags) {
    if (flags & ~(kSockNonblock | kSockCloexec))
        return Errno(EINVAL);
    FileRef f = TRY(g_process.fds.get(fd));
    Socket* s = TRY(as_socket(f));
    // The address length is read after a connection is taken, as Linux does: a bad one
    // loses that connection (EFAULT).
    auto fd_new = g_process.fds.reserve(0);
    if (!fd_new.ok())
        return fd_new.error();
    SockAddr peer;
    auto accepted = s->accept(flags & kSockNonblock, user_addr ? &peer : nullptr);
    if (!accepted.ok()) {
        g_process.fds.cancel(fd_new.value());
        return accepted.error();
    }
    if (user_addr) {
        auto copied = addr_out(peer, user_addr, user_len);
        if (!copied.ok()) {
            g_process.fds.cancel(fd_new.value());
            accepted.value()->unref();
            return copied.error();
        }
    }
    g_process.fds.commit(fd_new.value(), accepted.value(), (flags & kSockCloexec) != 0);
    return long(fd_new.value());
}

// The send side of SCM_RIGHTS and SCM_CREDENTIALS from the application's control buffer.
Result<void> control_in(Socket* s, uint64_t control, uint64_t controllen, Ancillary* anc) {
    if (!controllen)
        return {};
    if (controllen > kControlMax)
        return Errno(ENOBUFS);
    if (controllen < kCmsgHdr)
        return Errno(EINVAL);
    uint8_t* buf = static_cast<uint8_t*>(kmalloc(controllen));
    if (!buf)
        return Errno(ENOMEM);
    HeapGuard guard{buf};
    TRY(copy_from_user(buf, control, controllen));
    for (size_t at = 0; at + kCmsgHdr <= controllen;) {
        CmsgHdr h;
        memcpy(&h, buf + at, sizeof(h));
        if (h.len < kCmsgHdr || h.len > controllen - at)
            return Errno(EINVAL);
        size_t data_len = h.len - kCmsgHdr;
        const uint8_t* data = buf + at + kCmsgHdr;
        if (h.level == net::SOL_SOCKET) {
            if (s->family() != net::AF_UNIX)
                return Errno(EINVAL);  // sock_cmsg_send knows no SCM_RIGHTS for these
            if (h.type == net::SCM_RIGHTS) {
                size_t n = data_len / sizeof(int32_t);
                if (n == 0 || anc->nfiles + n > net::kScmMaxFd)
                    return Errno(EINVAL);
                for (size_t i = 0; i < n; i++) {
                    int32_t fd;
                    memcpy(&fd, data + i * 4, 4);
                    FileRef f = TRY(g_process.fds.get(fd));
                    f->ref();
                    anc->files[anc->nfiles++] = f.get();
                }
            } else if (h.type == net::SCM_CREDENTIALS) {
                if (data_len != sizeof(net::SockCreds))
                    return Errno(EINVAL);
                net::SockCreds c;
                memcpy(&c, data, sizeof(c));
                bool privileged = g_process.uid == 0;
                if ((c.pid != g_process.pid && !privileged) ||
                    ((c.uid != g_process.uid || c.gid != g_process.gid) && !privileged))
                    return Errno(EPERM);
                anc->has_creds = true;
                anc->creds = c;
            } else {
                return Errno(EINVAL);
            }
        }
        // Other levels (IP_PKTINFO, IP_TOS...) are not passed on.
        at += cmsg_align(h.len);
    }
    return {};
}

// The receive side: SCM_CREDENTIALS, then SCM_RIGHTS as new descriptors, into the
// application's control buffer (put_cmsg, scm_detach_fds). Returns the bytes used; files
// that do not fit are dropped and MSG_CTRUNC set.
Result<size_t> control_out(Ancillary* anc, uint64_t control, uint64_t controllen, int flags, uint32_t* msg_flags) {
    size_t used = 0;
    if (anc->has_creds) {
        size_t need = kCmsgHdr + sizeof(net::SockCreds);
        if (controllen < kCmsgHdr) {
            *msg_flags |= net::MSG_CTRUNC;
        } else {
            size_t n = need;
            if (controllen < need) {
                *msg_flags |= net::MSG_CTRUNC;
                n = controllen;  // put_cmsg: the header says what fits
            }
            uint8_t buf[kCmsgHdr + sizeof(net::SockCreds)];
            CmsgHdr h = {n, net::SOL_SOCKET, net::SCM_CREDENTIALS};
            memcpy(buf, &h, sizeof(h));
            memcpy(buf + kCmsgHdr, &anc->creds, sizeof(anc->creds));
            TRY(copy_to_user(control, buf, n));
            used = cmsg_align(n) < controllen ? cmsg_align(n) : controllen;
        }
    }
    if (!anc->nfiles)
        return used;
    size_t room = controllen - used;
    size_t fit = room > kCmsgHdr ? (room - kCmsgHdr) / sizeof(int32_t) : 0;
    size_t n = anc->nfiles < fit ? anc->nfiles : fit;
    if (n < anc->nfiles)
        *msg_flags |= net::MSG_CTRUNC;
    int32_t fds[net::kScmMaxFd];
    size_t installed = 0;
    bool cloexec = (flags & net::MSG_CMSG_CLOEXEC) != 0;
    Result<void> result;
    for (; installed < n; installed++) {
        auto fd = g_process.fds.reserve(0);
        if (!fd.ok()) {
            *msg_flags |= net::MSG_CTRUNC;
            break;
        }
        fds[installed] = fd.value();
    }
    if (installed) {
        CmsgHdr h = {kCmsgHdr + installed * sizeof(int32_t), net::SOL_SOCKET, net::SCM_RIGHTS};
        auto a = copy_to_user(control + used, &h, sizeof(h));
        auto b = a.ok() ? copy_to_user(control + used + kCmsgHdr, fds, installed * sizeof(int32_t)) : a;
        if (!b.ok()) {
            for (size_t i = 0; i < installed; i++)
                g_process.fds.cancel(fds[i]);
            anc->release();
            return b.error();
        }
        for (size_t i = 0; i < installed; i++) {
            g_process.fds.commit(fds[i], anc->files[i], cloexec);
            anc->files[i] = nullptr;
        }
        size_t space = cmsg_align(h.len);
        used += space < room ? space : room;
    }
    // The files not installed are dropped (their references released).
    for (size_t i = installed; i < anc->nfiles; i++)
        anc->files[i]->unref();
    anc->nfiles = 0;
    return used;
}

Result<long> do_sendmsg(Socket* s, uint64_t user_msg, int flags) {
    UserMsghdr m;
    TRY(copy_from_user(&m, user_msg, sizeof(m)));
    if (m.iovlen > uint64_t(net::kIovMax))
        return Errno(EMSGSIZE);
    SockAddr to;
    if (m.name && m.namelen)
        TRY(addr_in(m.name, m.namelen, &to));
    IoSegs segs;
    IoSeq data = TRY(segs.import(m.iov, m.iovlen));
    Ancillary* anc = static_cast<Ancillary*>(kmalloc(sizeof(Ancillary)));
    if (!anc)
        return Errno(ENOMEM);
    HeapGuard anc_guard{anc};
    anc->nfiles = 0;
    anc->has_creds = false;
    auto control = control_in(s, m.control, m.controllen, anc);
    if (!control.ok()) {
        anc->release();
        return control.error();
    }
    bool with_anc = anc->nfiles || anc->has_creds;
    auto r = s->send_and_signal(data, (m.name && m.namelen) ? &to : nullptr, with_anc ? anc : nullptr, flags);
    anc->release();
    return long(TRY(r));
}

Result<long> do_recvmsg(Socket* s, uint64_t user_msg, int flags) {
    UserMsghdr m;
    TRY(copy_from_user(&m, user_msg, sizeof(m)));
    if (m.iovlen > uint64_t(net::kIovMax))
        return Errno(EMSGSIZE);
    if (m.namelen < 0)
        return Errno(EINVAL);
    IoSegs segs;
    IoSeq data = TRY(segs.import(m.iov, m.iovlen));
    Ancillary* anc = static_cast<Ancillary*>(kmalloc(sizeof(Ancillary)));
    if (!anc)
        return Errno(ENOMEM);
    HeapGuard anc_guard{anc};
    anc->nfiles = 0;
    anc->has_creds = false;
    SockAddr from;
    from.len = 0;
    RecvResult r = TRY(s->recv(data, m.name ? &from : nullptr, anc, flags));
    uint32_t msg_flags = r.msg_flags | (uint32_t(flags) & uint32_t(net::MSG_CMSG_CLOEXEC));
    auto used = control_out(anc, m.control, m.control ? m.controllen : 0, flags, &msg_flags);
    if (!used.ok()) {
        anc->release();
        return used.error();
    }
    // msg_namelen, msg_controllen and msg_flags go back; the name itself up to namelen.
    int32_t namelen = 0;
    if (m.name) {
        uint32_t n = uint32_t(m.namelen) < from.len ? uint32_t(m.namelen) : from.len;
        if (n)
            TRY(copy_to_user(m.name, from.bytes, n));
        namelen = int32_t(from.len);
    }
    TRY(copy_to_user(user_msg + offsetof(UserMsghdr, namelen), &namelen, sizeof(namelen)));
    uint64_t controllen = used.value();
    TRY(copy_to_user(user_msg + offsetof(UserMsghdr, controllen), &controllen, sizeof(controllen)));
    int32_t out_flags = int32_t(msg_flags);
    TRY(copy_to_user(user_msg + offsetof(UserMsghdr, flags), &out_flags, sizeof(out_flags)));
    return long(r.size);
}

}  // namespace

namespace {

// socket(2)'s and socketpair(2)'s family and type: the type without its SOCK_NONBLOCK |
// SOCK_CLOEXEC bits, which go to *flags.
Result<int> socket_type(int family, int type_arg, uint32_t* flags) {
    *flags = uint32_t(type_arg) & ~uint32_t(net::SOCK_TYPE_MASK);
    if (*flags & ~(kSockNonblock | kSockCloexec))
        return Errno(EINVAL);
    if (family < 0 || family >= net::AF_MAX)
        return Errno(EAFNOSUPPORT);
    int type = type_arg & net::SOCK_TYPE_MASK;
    if (type >= kSockMax)
        return Errno(EINVAL);
    return type;
}

}  // namespace

Result<long> sys_socket(const SyscallArgs& a) {
    uint32_t flags;
    int type = TRY(socket_type(a.i32(0), a.i32(1), &flags));
    Socket* s = TRY(net::socket_create(a.i32(0), type, a.i32(2), flags & kSockNonblock));
    return install_socket(s, (flags & kSockCloexec) != 0);
}

Result<long> sys_socketpair(const SyscallArgs& a) {
    uint32_t flags;
    int type = TRY(socket_type(a.i32(0), a.i32(1), &flags));
    Socket* s0;
    Socket* s1;
    TRY(net::socket_create_pair(a.i32(0), type, a.i32(2), flags & kSockNonblock, &s0, &s1));
    auto drop = [&] {
        s0->unref();
        s1->unref();
    };
    auto fd0 = g_process.fds.reserve(0);
    if (!fd0.ok()) {
        drop();
        return fd0.error();
    }
    auto fd1 = g_process.fds.reserve(0);
    if (!fd1.ok()) {
        g_process.fds.cancel(fd0.value());
        drop();
        return fd1.error();
    }
    int32_t fds[2] = {fd0.value(), fd1.value()};
    auto copied = copy_to_user(a.u64(3), fds, sizeof(fds));
    if (!copied.ok()) {
        g_process.fds.cancel(fds[0]);
        g_process.fds.cancel(fds[1]);
        drop();
        return copied.error();
    }
    bool cloexec = (flags & kSockCloexec) != 0;
    g_process.fds.commit(fds[0], s0, cloexec);
    g_process.fds.commit(fds[1], s1, cloexec);
    return 0;
}

Result<long> sys_bind(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    SockAddr addr;
    TRY(addr_in(a.u64(1), a.i32(2), &addr));
    TRY(s->bind(addr));
    return 0;
}

Result<long> sys_listen(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    int backlog = a.i32(1);
    if (backlog < 0 || backlog > 4096)
        backlog = 4096;  // net.core.somaxconn
    TRY(s->listen(backlog));
    return 0;
}

Result<long> sys_accept(const SyscallArgs& a) { return do_accept(a.fd(0), a.u64(1), a.u64(2), 0); }

Result<long> sys_accept4(const SyscallArgs& a) { return do_accept(a.fd(0), a.u64(1), a.u64(2), a.u32(3)); }

Result<long> sys_connect(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    SockAddr addr;
    TRY(addr_in(a.u64(1), a.i32(2), &addr));
    TRY(s->connect(addr));
    return 0;
}

Result<long> sys_shutdown(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    int how = a.i32(1);
    if (how < net::SHUT_RD || how > net::SHUT_RDWR)
        return Errno(EINVAL);
    TRY(s->shutdown(how));
    return 0;
}

namespace {

Result<long> do_name(const SyscallArgs& a, bool peer) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    SockAddr addr;
    TRY(peer ? s->peer_name(&addr) : s->local_name(&addr));
    TRY(addr_out(addr, a.u64(1), a.u64(2)));
    return 0;
}

}  // namespace

Result<long> sys_getsockname(const SyscallArgs& a) { return do_name(a, false); }

Result<long> sys_getpeername(const SyscallArgs& a) { return do_name(a, true); }

Result<long> sys_setsockopt(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    int32_t len = a.i32(4);
    if (len < 0)
        return Errno(EINVAL);
    uint8_t value[kOptionMax];
    uint32_t n = uint32_t(len) < kOptionMax ? uint32_t(len) : kOptionMax;
    if (n)
        TRY(copy_from_user(value, a.u64(3), n));
    TRY(s->set_option(a.i32(1), a.i32(2), value, n));
    return 0;
}

Result<long> sys_getsockopt(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    int32_t len = TRY(UserPtr<int32_t>(a.u64(4)).read());
    if (len < 0)
        return Errno(EINVAL);
    uint8_t value[kOptionMax];
    memset(value, 0, sizeof(value));
    uint32_t room = uint32_t(len) < kOptionMax ? uint32_t(len) : kOptionMax;
    uint32_t n = TRY(s->get_option(a.i32(1), a.i32(2), value, room));
    if (n)
        TRY(copy_to_user(a.u64(3), value, n));
    TRY(UserPtr<int32_t>(a.u64(4)).write(int32_t(n)));
    return 0;
}

Result<long> sys_sendto(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    int flags = a.i32(3);
    SockAddr to;
    bool has_to = a.u64(4) != 0;
    if (has_to)
        TRY(addr_in(a.u64(4), a.i32(5), &to));
    size_t len = a.u64(2) > 0x7ffff000 ? 0x7ffff000 : size_t(a.u64(2));  // MAX_RW_COUNT
    IoSeg seg{fs::IoBuf::app(a.u64(1)), len};
    return long(TRY(s->send_and_signal(IoSeq::single(&seg), has_to ? &to : nullptr, nullptr, flags)));
}

Result<long> sys_recvfrom(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    size_t len = a.u64(2) > 0x7ffff000 ? 0x7ffff000 : size_t(a.u64(2));
    IoSeg seg{fs::IoBuf::app(a.u64(1)), len};
    SockAddr from;
    from.len = 0;
    bool want_from = a.u64(4) != 0;
    RecvResult r = TRY(s->recv(IoSeq::single(&seg), want_from ? &from : nullptr, nullptr, a.i32(3)));
    if (want_from && from.len)
        TRY(addr_out(from, a.u64(4), a.u64(5)));
    else if (want_from && a.u64(5))
        TRY(UserPtr<int32_t>(a.u64(5)).write(0));
    return long(r.size);
}

Result<long> sys_sendmsg(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    return do_sendmsg(s, a.u64(1), a.i32(2));
}

Result<long> sys_recvmsg(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    return do_recvmsg(s, a.u64(1), a.i32(2));
}

Result<long> sys_sendmmsg(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    uint32_t vlen = a.u32(2);
    if (vlen > uint32_t(net::kIovMax))
        vlen = uint32_t(net::kIovMax);
    int flags = a.i32(3);
    uint32_t sent = 0;
    for (; sent < vlen; sent++) {
        uint64_t entry = a.u64(1) + uint64_t(sent) * kMmsghdrSize;
        auto r = do_sendmsg(s, entry, flags);
        if (!r.ok())
            return sent ? Result<long>(long(sent)) : r.error();
        uint32_t n = uint32_t(r.value());
        TRY(copy_to_user(entry + sizeof(UserMsghdr), &n, sizeof(n)));
    }
    return long(sent);
}

Result<long> sys_recvmmsg(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    Socket* s = TRY(as_socket(f));
    uint32_t vlen = a.u32(2);
    if (vlen > uint32_t(net::kIovMax))
        vlen = uint32_t(net::kIovMax);
    int flags = a.i32(3);
    uint64_t deadline = kNoDeadline;
    if (a.u64(4))
        deadline = deadline_after(TRY(read_timespec(a.u64(4))));
    uint32_t got = 0;
    for (; got < vlen; got++) {
        uint64_t entry = a.u64(1) + uint64_t(got) * kMmsghdrSize;
        auto r = do_recvmsg(s, entry, flags);
        if (!r.ok())
            return got ? Result<long>(long(got)) : r.error();
        uint32_t n = uint32_t(r.value());
        TRY(copy_to_user(entry + sizeof(UserMsghdr), &n, sizeof(n)));
        if (flags & net::MSG_WAITFORONE)
            flags |= net::MSG_DONTWAIT;
        // The timeout is looked at after each datagram only, as Linux does.
        if (deadline != kNoDeadline && monotonic_now() >= deadline) {
            got++;
            break;
        }
    }
    return long(got);
}

}  // namespace carbyne::libos
