// The console: the host's stdin, stdout and stderr as a character device.
#include <libos/heap.h>
#include <libos/pal.h>
#include <linux/fcntl.h>

#include "vfs.h"

namespace carbyne::libos::fs {

namespace {

class Console final : public File {
public:
    Console(PalHandle* h, uint32_t flags) : File(flags, "/dev/console"), m_handle(h) {}
    ~Console() override { g_pal->stream_close(m_handle); }

    Result<size_t> read(IoBuf buf, size_t size) override {
        TRY(io_check(buf, size));
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

private:
    PalHandle* m_handle;
};

}  // namespace

Result<File*> console_open(PalConsole which) {
    PalHandle* h = nullptr;
    TRY(pal_result(g_pal->console_open(which, &h)));
    File* f = make<Console>(h, which == PAL_CONSOLE_IN ? uint32_t(O_RDONLY) : uint32_t(O_WRONLY));
    if (!f) {
        g_pal->stream_close(h);
        return Errno(ENOMEM);
    }
    return f;
}

}  // namespace carbyne::libos::fs
