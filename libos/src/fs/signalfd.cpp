// signalfd (see signalfd.h): reads take pending signals of the mask off the reading
// thread's and the process's pending sets, as signal delivery would.
#include "signalfd.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <linux/fcntl.h>
#include <linux/poll.h>

#include "../proc/wait.h"
#include "../signal/signal.h"
#include "anon_inode.h"

namespace carbyne::libos::fs {

namespace {

// struct signalfd_siginfo
struct SignalfdInfo {
    uint32_t signo;
    int32_t err;
    int32_t code;
    uint32_t pid, uid;
    int32_t fd;
    uint32_t tid, band, overrun, trapno;
    int32_t status, int_value;
    uint64_t ptr, utime, stime, addr;
    uint16_t addr_lsb;
    uint8_t pad[128 - 82];
};
static_assert(sizeof(SignalfdInfo) == 128);

SignalfdInfo convert(int sig, const SigInfo& info) {
    SignalfdInfo out;
    memset(&out, 0, sizeof(out));
    out.signo = uint32_t(sig);
    out.err = info.err;
    out.code = info.code;
    constexpr int kSiTimer = -2;
    if (info.code == kSiTimer) {
        out.tid = uint32_t(info.timer.id);
        out.overrun = uint32_t(info.timer.overrun);
        out.int_value = int32_t(info.timer.value);
        out.ptr = info.timer.value;
    } else if (info.code <= 0) {  // kill, tgkill, sigqueue
        out.pid = uint32_t(info.kill.pid);
        out.uid = info.kill.uid;
        out.int_value = int32_t(info.kill.value);
        out.ptr = info.kill.value;
    } else {
        out.addr = info.addr;
    }
    return out;
}

class SignalFile final : public File {
public:
    SignalFile(uint64_t mask, uint32_t flags) : File(flags, "anon_inode:[signalfd]"), m_ino(anon_inode_number()) {
        set_mask(mask);
    }

    FileKind kind() const override { return FileKind::SignalFd; }

    void set_mask(uint64_t mask) {
        constexpr uint64_t kUnblockable = sig_bit(9) | sig_bit(19);
        __atomic_store_n(&m_mask, mask & ~kUnblockable, __ATOMIC_RELEASE);
        signal_wait_queue().wake(~0u);  // readers look again
    }

    Result<size_t> read(IoBuf buf, size_t size) override {
        if (size < sizeof(SignalfdInfo))
            return Errno(EINVAL);
        size_t done = 0;
        while (done + sizeof(SignalfdInfo) <= size) {
            int sig;
            SigInfo info;
            if (!signal_take(mask(), &sig, &info)) {
                if (done)
                    break;
                if (flags() & O_NONBLOCK)
                    return Errno(EAGAIN);
                TRY(wait_until(signal_wait_queue(), 0, kNoDeadline, [this] { return poll_events() != 0; }));
                continue;
            }
            SignalfdInfo out = convert(sig, info);
            auto r = io_copy_out(buf + done, &out, sizeof(out));
            if (!r.ok()) {
                (void)signal_send(nullptr, sig, info);  // pending again, not lost
                if (done)
                    break;
                return r.error();
            }
            done += sizeof(out);
        }
        return done;
    }

    uint32_t poll_events() override { return (signal_pending_set() & mask()) ? POLLIN | POLLRDNORM : 0; }
    WaitQueue* poll_queue() override { return &signal_wait_queue(); }

    Result<void> stat(Stat* out) override {
        anon_inode_stat(m_ino, out);
        return {};
    }

private:
    uint64_t mask() const { return __atomic_load_n(&m_mask, __ATOMIC_ACQUIRE); }

    uint64_t m_ino;
    uint64_t m_mask = 0;
};

}  // namespace

Result<File*> signalfd_create(uint64_t mask, uint32_t flags) {
    File* f = make<SignalFile>(mask, O_RDWR | (flags & O_NONBLOCK));
    if (!f)
        return Errno(ENOMEM);
    return f;
}

Result<void> signalfd_set_mask(File* f, uint64_t mask) {
    if (f->kind() != FileKind::SignalFd)
        return Errno(EINVAL);
    static_cast<SignalFile*>(f)->set_mask(mask);
    return {};
}

}  // namespace carbyne::libos::fs
