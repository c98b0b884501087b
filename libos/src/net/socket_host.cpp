// The I/O of sockets whose transport is a host socket (socket.h: host_send, host_recv):
// inet sockets, and UNIX sockets once processes share them.
#include <libos/heap.h>
#include <libos/pal.h>

#include "../proc/wait.h"
#include "poll.h"
#include "socket.h"

namespace carbyne::libos::net {

namespace {

constexpr size_t kStackIov = 16;

uint32_t pal_msg_flags(int flags) {
    return ((flags & MSG_PEEK) ? PAL_MSG_PEEK : 0) | ((flags & MSG_OOB) ? PAL_MSG_OOB : 0) |
           ((flags & MSG_MORE) ? PAL_MSG_MORE : 0) | ((flags & MSG_TRUNC) ? PAL_MSG_TRUNC : 0);
}

// The PalIoVecs of `data` from byte `at` on (user buffers checked), in `small` when they
// fit, else in a heap array the caller frees.
class PalIov {
public:
    ~PalIov() {
        if (m_vec != m_small)
            kfree(m_vec);
    }
    // `check`: false when the host will not touch the buffers (MSG_TRUNC on a stream
    // socket discards the bytes).
    Result<void> build(const IoSeq& data, size_t at, bool check = true) {
        size_t need = data.count();
        if (need > kStackIov) {
            m_vec = static_cast<PalIoVec*>(kmalloc(need * sizeof(PalIoVec)));
            if (!m_vec) {
                m_vec = m_small;
                return Errno(ENOMEM);
            }
        }
        m_count = 0;
        for (size_t i = 0; i < data.count(); i++) {
            const IoSeg& s = data.segs()[i];
            if (at >= s.size) {
                at -= s.size;
                continue;
            }
            if (check)
                TRY(fs::io_check(s.buf + at, s.size - at));
            m_vec[m_count++] = PalIoVec{reinterpret_cast<void*>(s.buf.addr + at), s.size - at};
            at = 0;
        }
        return {};
    }
    const PalIoVec* vec() const { return m_vec; }
    size_t count() const { return m_count; }

private:
    PalIoVec m_small[kStackIov];
    PalIoVec* m_vec = m_small;
    size_t m_count = 0;
};

}  // namespace

Result<size_t> Socket::host_send(PalHandle* h, const IoSeq& data, const PalSockAddr* to, int flags,
                                 const Handles* pass) {
    uint64_t deadline = kNoDeadline;
    bool timed = false;
    size_t sent = 0;
    for (;;) {
        PalIov iov;
        TRY(iov.build(data, sent));
        size_t done = 0;
        PalError e = pass && pass->count
                         ? g_pal->socket_send_handles(h, iov.vec(), iov.count(), pass->h, pass->count,
                                                      pal_msg_flags(flags), &done)
                         : g_pal->socket_send(h, iov.vec(), iov.count(), to, pal_msg_flags(flags), &done);
        if (e == PAL_OK) {
            sent += done;
            pass = nullptr;  // they went with the first byte
            // A blocking stream send goes on until all is taken (Linux's sk_stream_wait_memory).
            if (sent == data.total() || type() != SOCK_STREAM || nonblocking(flags))
                return sent;
            continue;
        }
        if (e != PAL_E_AGAIN)
            return sent ? Result<size_t>(sent) : pal_result(e).error();
        if (nonblocking(flags))
            return sent ? Result<size_t>(sent) : Errno(EAGAIN);
        if (!timed) {
            deadline = send_deadline();
            timed = true;
        }
        auto w = host_wait(h, PAL_WAIT_WRITE, deadline);
        if (!w.ok())
            return sent ? Result<size_t>(sent) : w.error();
    }
}

Result<RecvResult> Socket::host_recv(PalHandle* h, const IoSeq& data, PalSockAddr* from, int flags,
                                     Handles* got) {
    uint64_t deadline = kNoDeadline;
    bool timed = false;
    RecvResult out;
    bool waitall = (flags & MSG_WAITALL) && type() == SOCK_STREAM && !(flags & MSG_PEEK);
    size_t room = got ? got->count : 0;
    if (got)
        got->count = 0;
    for (;;) {
        PalIov iov;
        TRY(iov.build(data, out.size, !((flags & MSG_TRUNC) && type() == SOCK_STREAM)));
        size_t done = 0;
        uint32_t out_flags = 0;
        size_t came = 0;
        PalError e = got ? g_pal->socket_recv_handles(h, iov.vec(), iov.count(), pal_msg_flags(flags), &done,
                                                      &out_flags, got->h, room, &came)
                         : g_pal->socket_recv(h, iov.vec(), iov.count(), out.size == 0 ? from : nullptr,
                                              pal_msg_flags(flags), &done, &out_flags);
        if (e == PAL_OK) {
            out.size += done;
            if (out_flags & PAL_MSG_TRUNC)
                out.msg_flags |= MSG_TRUNC;
            if (out_flags & PAL_MSG_CTRUNC)
                out.msg_flags |= MSG_CTRUNC;
            if (came) {
                got->count = came;
                return out;  // the host stopped after the bytes they came with
            }
            if (!waitall || done == 0 || out.size == data.total() || nonblocking(flags))
                return out;
            continue;
        }
        if (e != PAL_E_AGAIN)
            return out.size ? Result<RecvResult>(out) : pal_result(e).error();
        if (nonblocking(flags))
            return out.size ? Result<RecvResult>(out) : Errno(EAGAIN);
        // Shut for reading (a datagram socket's own shutdown too): a call that would
        // wait returns 0, as Linux's; the host's non-blocking one says EAGAIN.
        if (host_ready_now(h, PAL_WAIT_RDHUP) & (PAL_WAIT_RDHUP | PAL_WAIT_HANGUP))
            return out;
        if (!timed) {
            deadline = recv_deadline();
            timed = true;
        }
        auto w = host_wait(h, PAL_WAIT_READ, deadline);
        if (!w.ok())
            return out.size ? Result<RecvResult>(out) : w.error();
    }
}

Result<void> Socket::host_wait(PalHandle* h, uint32_t want, uint64_t deadline) {
    uint32_t got = 0;
    auto r = thread_block_on(1, &h, &want, &got, deadline);
    if (!r.ok())
        return wait_error(r.error(), deadline != kNoDeadline);
    return {};
}

}  // namespace carbyne::libos::net
