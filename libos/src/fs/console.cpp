// The console: the host's stdin, stdout and stderr as a character device.
#include <libos/heap.h>
#include <libos/pal.h>
#include <linux/fcntl.h>

#include "../net/poll.h"
#include "../proc/wait.h"
#include "vfs.h"

namespace carbyne::libos::fs {

namespace {

class Console final : public File {
public:
    Console(PalHandle* h, PalConsole which, uint32_t flags)
        : File(flags, "/dev/console"), m_handle(h), m_which(which) {
        // A regular file or directory behind it is always ready, as Linux polls one; anything
        // else (a terminal, a pipe, a socket, a device) is asked of the host.
        PalStreamAttr attr;
        m_pollable = g_pal->stream_attributes(h, &attr) != PAL_OK ||
                     (attr.type != PAL_TYPE_FILE && attr.type != PAL_TYPE_DIR);
    }
    ~Console() override {
        poll_release();  // epoll waits on m_handle itself
        g_pal->stream_close(m_handle);
    }

    Result<size_t> read(IoBuf buf, size_t size) override {
        TRY(io_check(buf, size));
        if (m_pollable && size)
            TRY(wait_readable());
        size_t done = 0;
        TRY(pal_result(g_pal->stream_read(m_handle, PAL_NO_OFFSET, reinterpret_cast<void*>(buf.addr), size, &done)));
        return done;
    }
    Result<size_t> write(IoBuf buf, size_t size) override {
        TRY(io_check(buf, size));
        size_t done = 0;
        TRY(pal_result(
            g_pal->stream_write(m_handle, PAL_NO_OFFSET, reinterpret_cast<const void*>(buf.addr), size, &done)));
        return done;
    }
    Result<void> stat(Stat* out) override {
        // What the host's descriptor really is (a terminal, a pipe, a file), as Linux shows.
        PalStreamAttr attr;
        TRY(pal_result(g_pal->stream_attributes(m_handle, &attr)));
        stat_from_pal(attr, out);
        return {};
    }
    bool is_console() const override { return true; }
    // fork: the child opens the same console again (stdin, stdout or stderr).
    int console_index() const override { return int(m_which); }

    uint32_t poll_events() override {
        if (!m_pollable)
            return File::poll_events();
        return host_events(0);
    }
    PalHandle* poll_handle() override { return m_pollable ? m_handle : nullptr; }

private:
    // The POLL* bits the host reports, waiting at most `timeout_ns` (0: not at all).
    uint32_t host_events(uint64_t timeout_ns) {
        uint32_t want = PAL_WAIT_READ | PAL_WAIT_WRITE, got = 0;
        if (g_pal->wait_for_many(1, &m_handle, &want, &got, timeout_ns) != PAL_OK)
            return 0;
        return net::poll_events_from_pal(got);
    }

    // Waits until the host has something to read (or end of file), so that a signal ends a
    // blocking read (EINTR, or a restart under SA_RESTART) instead of the host read holding
    // the thread. FIXME: another reader may take the input between this wait and the host
    // read, which then blocks without a signal ending it.
    Result<void> wait_readable() {
        for (;;) {
            uint32_t want = PAL_WAIT_READ, got = 0;
            if (flags() & O_NONBLOCK) {
                if (g_pal->wait_for_many(1, &m_handle, &want, &got, 0) != PAL_OK || !got)
                    return Errno(EAGAIN);
                return {};
            }
            TRY(thread_block_on(1, &m_handle, &want, &got, kNoDeadline));
            if (got)
                return {};
        }
    }

    PalHandle* m_handle;
    PalConsole m_which;
    bool m_pollable;
};

}  // namespace

Result<File*> console_open(PalConsole which) {
    PalHandle* h = nullptr;
    TRY(pal_result(g_pal->console_open(which, &h)));
    File* f = make<Console>(h, which, which == PAL_CONSOLE_IN ? uint32_t(O_RDONLY) : uint32_t(O_WRONLY));
    if (!f) {
        g_pal->stream_close(h);
        return Errno(ENOMEM);
    }
    return f;
}

}  // namespace carbyne::libos::fs
