// Pseudo-terminal pairs and their line discipline (pty.h).
#include "pty.h"

#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/poll.h>

#include "../proc/process.h"
#include "../proc/wait.h"
#include "../signal/signal.h"
#include "vfs.h"

// asm-generic/termios.h, which also defines the old struct termio.
struct winsize {
    unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel;
};

namespace carbyne::libos::fs {

namespace {

constexpr size_t kBufSize = 4096;  // N_TTY_BUF_SIZE: each direction's buffer
constexpr int kMaxPtys = 256;
constexpr uint32_t kTtyGid = 5;
constexpr int kSiKernel = 0x80;

// A byte queue.
struct Ring {
    uint8_t data[kBufSize];
    size_t head = 0, count = 0;

    size_t room() const { return kBufSize - count; }
    void push(uint8_t c) {
        if (count < kBufSize)
            data[(head + count++) % kBufSize] = c;
    }
    size_t pop(uint8_t* out, size_t n) {
        n = n < count ? n : count;
        for (size_t i = 0; i < n; i++)
            out[i] = data[(head + i) % kBufSize];
        head = (head + n) % kBufSize;
        count -= n;
        return n;
    }
    void clear() { head = count = 0; }
};

struct Pty {
    int index;
    uint32_t uid;
    int refs = 0;  // the ends open, and the controlling-terminal link
    Spinlock lock{LockRank::Pty};
    // Under lock.
    struct termios tio;
    struct winsize ws = {};
    bool locked = true;
    bool ctty = false;  // the process's controlling terminal
    int pgrp = 0;       // its foreground process group, while it is one
    Ring input;         // to the slave: what a read may take (canonical: complete lines)
    uint16_t lines[kBufSize];  // canonical: the lengths of the complete lines in `input`
    size_t line_head = 0, line_count = 0;
    uint8_t edit[kBufSize];    // canonical: the line being edited
    size_t edit_len = 0;
    Ring output;  // to the master
    int masters = 0, slaves = 0;
    bool slave_opened = false;
    WaitQueue master_queue;  // readers and writers of the master, poll
    WaitQueue slave_queue;
};

constinit Spinlock g_table_lock{LockRank::PtyTable};
Pty* g_ptys[kMaxPtys];

void default_termios(struct termios* t) {
    memset(t, 0, sizeof(*t));
    t->c_iflag = ICRNL | IXON | IUTF8;
    t->c_oflag = OPOST | ONLCR;
    t->c_cflag = B38400 | CS8 | CREAD | HUPCL;
    t->c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
    const uint8_t cc[] = {3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0};
    memcpy(t->c_cc, cc, sizeof(cc));  // INTR QUIT ERASE KILL EOF TIME MIN SWTC START STOP SUSP EOL REPRINT DISCARD WERASE LNEXT EOL2
}

void pty_put(Pty* p) {
    bool last;
    {
        SpinGuard g(g_table_lock);
        last = --p->refs == 0;
        if (last)
            g_ptys[p->index] = nullptr;
    }
    if (last)
        destroy(p);
}

// The process's controlling terminal, or nullptr. Under g_table_lock.
Pty* controlling_locked() {
    for (Pty* p : g_ptys)
        if (p && p->ctty)
            return p;
    return nullptr;
}

// Makes `p` the controlling terminal unless the process has one already; returns the one
// it has now. The link holds a reference (TIOCNOTTY drops it).
Pty* claim_controlling(Pty* p) {
    SpinGuard g(g_table_lock);
    if (Pty* c = controlling_locked())
        return c;
    SpinGuard gp(p->lock);
    p->ctty = true;
    p->pgrp = g_process.pid;
    p->refs++;
    return p;
}

// -- The line discipline (under p->lock) -------------------------------------------------

bool canonical(const Pty* p) { return p->tio.c_lflag & ICANON; }

void output_byte(Pty* p, uint8_t c) {
    if (p->tio.c_oflag & OPOST) {
        if (c == '\n' && (p->tio.c_oflag & ONLCR)) {
            p->output.push('\r');
        } else if (c == '\r' && (p->tio.c_oflag & OCRNL)) {
            c = '\n';
        }
    }
    p->output.push(c);
}

void echo(Pty* p, uint8_t c) {
    uint32_t l = p->tio.c_lflag;
    if (!(l & ECHO) && !(c == '\n' && (l & ECHONL) && (l & ICANON)))
        return;
    if ((l & ECHOCTL) && c < 0x20 && c != '\n' && c != '\t') {
        output_byte(p, '^');
        output_byte(p, uint8_t(c ^ 0x40));
        return;
    }
    output_byte(p, c);
}

void erase_one(Pty* p) {
    if (!p->edit_len)
        return;
    uint8_t c = p->edit[--p->edit_len];
    if ((p->tio.c_lflag & ECHO) && (p->tio.c_lflag & ECHOE)) {
        int width = (p->tio.c_lflag & ECHOCTL) && c < 0x20 && c != '\t' ? 2 : 1;
        for (int i = 0; i < width; i++) {
            output_byte(p, '\b');
            output_byte(p, ' ');
            output_byte(p, '\b');
        }
    }
}

// The line being edited becomes readable (`with` appended: the newline or VEOL).
void complete_line(Pty* p, int with) {
    if (with >= 0 && p->edit_len < kBufSize)
        p->edit[p->edit_len++] = uint8_t(with);
    for (size_t i = 0; i < p->edit_len; i++)
        p->input.push(p->edit[i]);
    p->lines[(p->line_head + p->line_count++) % kBufSize] = uint16_t(p->edit_len);
    p->edit_len = 0;
}

void flush_input(Pty* p) {
    p->input.clear();
    p->line_head = p->line_count = 0;
    p->edit_len = 0;
}

// How many bytes of input one more byte may need: a canonical line has room up to the
// buffer's end, less one for the line end.
bool input_room(const Pty* p) {
    return canonical(p) ? p->input.count + p->edit_len + 1 < kBufSize : p->input.room() > 0;
}

// One byte written to the master; returns the signal it raises (0 for none).
int receive(Pty* p, uint8_t c) {
    const struct termios& t = p->tio;
    if (t.c_iflag & ISTRIP)
        c &= 0x7f;
    if (c == '\r') {
        if (t.c_iflag & IGNCR)
            return 0;
        if (t.c_iflag & ICRNL)
            c = '\n';
    } else if (c == '\n' && (t.c_iflag & INLCR)) {
        c = '\r';
    }
    if (t.c_lflag & ISIG) {
        int sig = c == t.c_cc[VINTR] ? 2 : c == t.c_cc[VQUIT] ? 3 : c == t.c_cc[VSUSP] ? 20 : 0;
        if (sig && c) {
            if (!(t.c_lflag & NOFLSH)) {
                flush_input(p);
                p->output.clear();  // what the master had not read yet goes too, as on Linux
            }
            echo(p, c);
            return sig;
        }
    }
    if (canonical(p)) {
        if (c == t.c_cc[VERASE] && c) {
            erase_one(p);
        } else if (c == t.c_cc[VWERASE] && c && (t.c_lflag & IEXTEN)) {
            while (p->edit_len && p->edit[p->edit_len - 1] == ' ')
                erase_one(p);
            while (p->edit_len && p->edit[p->edit_len - 1] != ' ')
                erase_one(p);
        } else if (c == t.c_cc[VKILL] && c) {
            if ((t.c_lflag & ECHOKE) && (t.c_lflag & ECHOE)) {
                while (p->edit_len)
                    erase_one(p);
            } else {
                p->edit_len = 0;
                echo(p, c);
                if (t.c_lflag & ECHOK)
                    echo(p, '\n');
            }
        } else if (c == t.c_cc[VEOF] && c) {
            complete_line(p, -1);  // a read gets the line as it is: nothing at all is end of file
        } else if (c == '\n' || (c == t.c_cc[VEOL] && c) || (c == t.c_cc[VEOL2] && c)) {
            echo(p, c);
            complete_line(p, c);
        } else {
            if (p->edit_len + 1 < kBufSize) {
                p->edit[p->edit_len++] = c;
                echo(p, c);
            }
        }
        return 0;
    }
    p->input.push(c);
    echo(p, c);
    return 0;
}

// What a slave read may take now: the first line (canonical), or the input.
size_t slave_readable(const Pty* p) {
    if (!canonical(p))
        return p->input.count;
    return p->line_count ? p->lines[p->line_head] : 0;
}

void send_signal(int sig) {
    SigInfo info;
    memset(&info, 0, sizeof(info));
    info.signo = sig;
    info.code = kSiKernel;
    (void)signal_send(nullptr, sig, info);
}

// -- The two sides --------------------------------------------------------------------------

class PtyEnd : public File {
public:
    PtyEnd(Pty* p, uint32_t flags, const char* path, bool master, const Stat& st)
        : File(flags, path), m_pty(p), m_master(master), m_stat(st) {}
    ~PtyEnd() override {
        poll_release();
        bool hangup;
        {
            SpinGuard g(m_pty->lock);
            if (m_master)
                m_pty->masters--;
            else
                m_pty->slaves--;
            hangup = m_master ? m_pty->masters == 0 : m_pty->slaves == 0;
        }
        if (hangup)
            (m_master ? m_pty->slave_queue : m_pty->master_queue).wake(POLLIN | POLLOUT | POLLHUP | POLLERR);
        pty_put(m_pty);
    }

    Result<size_t> read(IoBuf buf, size_t size) override;
    Result<size_t> write(IoBuf buf, size_t size) override;
    uint32_t poll_events() override;
    WaitQueue* poll_queue() override { return m_master ? &m_pty->master_queue : &m_pty->slave_queue; }
    Result<uint64_t> readable_bytes() override {
        SpinGuard g(m_pty->lock);
        return m_master ? m_pty->output.count : slave_readable(m_pty);
    }
    // The device node's, as /dev shows it (ttyname compares the two).
    Result<void> stat(Stat* out) override {
        *out = m_stat;
        return {};
    }
    Result<int64_t> seek(int64_t, int) override { return Errno(ESPIPE); }
    Result<long> ioctl(uint32_t request, uint64_t arg) override;

private:
    bool nonblock() const { return (flags() & O_NONBLOCK) != 0; }

    Pty* m_pty;
    bool m_master;
    Stat m_stat;
};

Result<size_t> PtyEnd::read(IoBuf buf, size_t size) {
    Pty* p = m_pty;
    uint8_t chunk[kBufSize];
    size_t want = size < sizeof(chunk) ? size : sizeof(chunk);
    size_t got = 0;
    bool hung_up = false;
    auto take = [&] {
        SpinGuard g(p->lock);
        if (m_master) {
            got = p->output.pop(chunk, want);
            hung_up = !got && p->slaves == 0 && p->slave_opened;
            return got > 0 || hung_up;
        }
        hung_up = p->masters == 0;
        if (canonical(p)) {
            if (!p->line_count)
                return hung_up;
            uint16_t& line = p->lines[p->line_head];
            got = p->input.pop(chunk, want < line ? want : line);
            line = uint16_t(line - got);
            if (!line) {
                p->line_head = (p->line_head + 1) % kBufSize;
                p->line_count--;
            }
            return true;
        }
        size_t min = p->tio.c_cc[VMIN];
        if (p->input.count >= (min < want ? min : want) || p->input.count >= want || hung_up) {
            got = p->input.pop(chunk, want);
            return true;
        }
        return false;
    };
    if (!want)
        return size_t(0);
    if (!take()) {
        if (nonblock())
            return Errno(EAGAIN);
        // VTIME (tenths of a second) ends a non-canonical wait with what there is.
        uint64_t deadline = kNoDeadline;
        if (!m_master && !canonical(p) && p->tio.c_cc[VTIME])
            deadline = deadline_after(uint64_t(p->tio.c_cc[VTIME]) * 100000000ull);
        auto waited = wait_until(m_master ? p->master_queue : p->slave_queue, POLLIN | POLLHUP, deadline, take);
        if (!waited.ok()) {
            if (waited.error().code != ETIMEDOUT)
                return waited.error();
            SpinGuard g(p->lock);
            got = p->input.pop(chunk, want);
        }
    }
    (m_master ? p->slave_queue : p->master_queue).wake(POLLOUT);
    if (!got && m_master && hung_up)
        return Errno(EIO);  // the slave side is gone
    TRY(io_copy_out(buf, chunk, got));
    return got;
}

Result<size_t> PtyEnd::write(IoBuf buf, size_t size) {
    Pty* p = m_pty;
    size_t done = 0;
    uint8_t chunk[256];
    while (done < size) {
        size_t n = size - done < sizeof(chunk) ? size - done : sizeof(chunk);
        TRY(io_copy_in(chunk, buf + done, n));
        size_t used = 0;
        int sig = 0;
        bool gone = false;
        auto put = [&] {
            SpinGuard g(p->lock);
            gone = !m_master && p->masters == 0;  // a slave writes to nobody once the master is gone
            if (gone)
                return true;
            while (used < n && (m_master ? input_room(p) : p->output.room() >= 2)) {
                if (m_master) {
                    int raised = receive(p, chunk[used]);
                    if (raised && p->ctty)
                        sig = raised;
                } else {
                    output_byte(p, chunk[used]);
                }
                used++;
            }
            return used > 0;
        };
        if (!put()) {
            if (nonblock())
                return done ? Result<size_t>(done) : Errno(EAGAIN);
            auto waited = wait_until(m_master ? p->master_queue : p->slave_queue, POLLOUT | POLLHUP, kNoDeadline, put);
            if (!waited.ok())
                return done ? Result<size_t>(done) : waited.error();
        }
        if (gone)
            return done ? Result<size_t>(done) : Errno(EIO);
        p->master_queue.wake(POLLIN);
        p->slave_queue.wake(POLLIN);
        if (sig)
            send_signal(sig);
        done += used;
    }
    return done;
}

uint32_t PtyEnd::poll_events() {
    Pty* p = m_pty;
    SpinGuard g(p->lock);
    if (m_master) {
        uint32_t ev = (p->output.count ? POLLIN | POLLRDNORM : 0) | (input_room(p) ? POLLOUT | POLLWRNORM : 0);
        if (p->slave_opened && p->slaves == 0)
            ev |= POLLHUP;
        return ev;
    }
    if (p->masters == 0)
        return POLLIN | POLLRDNORM | POLLOUT | POLLHUP;
    return (slave_readable(p) ? POLLIN | POLLRDNORM : 0) | (p->output.room() >= 2 ? POLLOUT | POLLWRNORM : 0);
}

// The slave of pair `index` opened again by its /dev/pts path (TIOCGPTPEER, /dev/tty).
Result<File*> reopen_slave(int index, uint32_t flags);

Result<long> PtyEnd::ioctl(uint32_t request, uint64_t arg) {
    Pty* p = m_pty;
    switch (request) {
    case TCGETS: {
        struct termios t;
        {
            SpinGuard g(p->lock);
            t = p->tio;
        }
        TRY(UserPtr<struct termios>(arg).write(t));
        return 0;
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF: {
        struct termios t = TRY(UserPtr<struct termios>(arg).read());
        {
            SpinGuard g(p->lock);
            bool was_canonical = canonical(p);
            if (request == TCSETSF)
                flush_input(p);
            p->tio = t;
            if (was_canonical && !canonical(p)) {
                for (size_t i = 0; i < p->edit_len; i++)  // a line in the making becomes input
                    p->input.push(p->edit[i]);
                p->edit_len = 0;
                p->line_head = p->line_count = 0;
            } else if (!was_canonical && canonical(p) && p->input.count) {
                p->line_head = 0;
                p->lines[0] = uint16_t(p->input.count);
                p->line_count = 1;
            }
        }
        p->slave_queue.wake(POLLIN | POLLOUT);
        p->master_queue.wake(POLLIN | POLLOUT);
        return 0;
    }
    case TIOCGWINSZ: {
        struct winsize w;
        {
            SpinGuard g(p->lock);
            w = p->ws;
        }
        TRY(UserPtr<struct winsize>(arg).write(w));
        return 0;
    }
    case TIOCSWINSZ: {
        struct winsize w = TRY(UserPtr<struct winsize>(arg).read());
        bool changed, ctty;
        {
            SpinGuard g(p->lock);
            changed = memcmp(&w, &p->ws, sizeof(w)) != 0;
            p->ws = w;
            ctty = p->ctty;
        }
        if (changed && ctty)
            send_signal(28);  // SIGWINCH to the foreground process group: the process
        return 0;
    }
    case TIOCOUTQ: {
        int n;
        {
            SpinGuard g(p->lock);
            n = int(m_master ? p->input.count : p->output.count);
        }
        TRY(UserPtr<int>(arg).write(n));
        return 0;
    }
    case TCFLSH: {
        if (arg > 2)
            return Errno(EINVAL);
        SpinGuard g(p->lock);
        bool in = arg == 0 || arg == 2, out = arg == 1 || arg == 2;
        if (m_master)
            in = out = in || out;  // the master's view of the two queues
        if (in)
            flush_input(p);
        if (out)
            p->output.clear();
        return 0;
    }
    case TCXONC:
    case TCSBRK:
    case TCSBRKP:
    case TIOCEXCL:
    case TIOCNXCL: return 0;
    case TIOCGETD: TRY(UserPtr<int>(arg).write(0)); return 0;  // N_TTY
    case TIOCGPTN:
        if (!m_master)
            return Errno(ENOTTY);
        TRY(UserPtr<uint32_t>(arg).write(uint32_t(p->index)));
        return 0;
    case TIOCSPTLCK: {
        if (!m_master)
            return Errno(ENOTTY);
        int lock = TRY(UserPtr<int>(arg).read());
        SpinGuard g(p->lock);
        p->locked = lock != 0;
        return 0;
    }
    case TIOCGPTLCK: {
        if (!m_master)
            return Errno(ENOTTY);
        int locked;
        {
            SpinGuard g(p->lock);
            locked = p->locked;
        }
        TRY(UserPtr<int>(arg).write(locked));
        return 0;
    }
    case TIOCGPTPEER: {
        if (!m_master)
            return Errno(ENOTTY);
        File* slave = TRY(reopen_slave(p->index, uint32_t(arg) | O_NOCTTY));
        return TRY(g_process.fds.install(slave, 0, (arg & O_CLOEXEC) != 0));
    }
    case TIOCSCTTY:
        if (claim_controlling(p) != p)
            return Errno(EPERM);  // one controlling terminal already
        return 0;
    case TIOCNOTTY: {
        {
            SpinGuard g(p->lock);
            if (!p->ctty)
                return Errno(ENOTTY);
            p->ctty = false;
            p->pgrp = 0;
        }
        // The session leader gives it up: its foreground group, the process, gets SIGHUP
        // and SIGCONT, as on Linux.
        send_signal(1);
        send_signal(18);
        pty_put(p);
        return 0;
    }
    case TIOCGPGRP:
    case TIOCGSID: {
        int id;
        {
            SpinGuard g(p->lock);
            if (!p->ctty)
                return Errno(ENOTTY);
            id = request == TIOCGPGRP ? p->pgrp : g_process.pid;
        }
        TRY(UserPtr<int>(arg).write(id));
        return 0;
    }
    case TIOCSPGRP: {
        int pgrp = TRY(UserPtr<int>(arg).read());
        SpinGuard g(p->lock);
        if (!p->ctty)
            return Errno(ENOTTY);
        if (pgrp < 0)
            return Errno(EINVAL);
        if (pgrp != g_process.pid)
            return Errno(EPERM);  // no other process group in the session
        p->pgrp = pgrp;
        return 0;
    }
    default: return Errno(ENOTTY);
    }
}

Result<File*> make_slave(Pty* p, uint32_t flags, const Stat& st) {
    char path[32];
    format(path, sizeof(path), "/dev/pts/%d", p->index);
    {
        SpinGuard g(g_table_lock);
        p->refs++;
    }
    File* f = make<PtyEnd>(p, flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC), path, false, st);
    if (!f) {
        pty_put(p);
        return Errno(ENOMEM);
    }
    SpinGuard g(p->lock);
    p->slaves++;
    p->slave_opened = true;
    return f;
}

Result<File*> reopen_slave(int index, uint32_t flags) {
    auto* r = static_cast<Resolved*>(kmalloc(sizeof(Resolved)));
    if (!r)
        return Errno(ENOMEM);
    HeapGuard guard{r};
    char path[32];
    format(path, sizeof(path), "/dev/pts/%d", index);
    TRY(vfs_resolve_with("/", path, true, kResolveNoSearchCheck, r));
    if (!r->exists)
        return Errno(EIO);
    return vfs_open(*r, flags, 0);
}

}  // namespace

Result<File*> pty_open_master(uint32_t flags, const Stat& st) {
    Pty* p = make<Pty>();
    if (!p)
        return Errno(ENOMEM);
    default_termios(&p->tio);
    p->uid = g_process.uid;
    {
        SpinGuard g(g_table_lock);
        int index = -1;
        for (int i = 0; i < kMaxPtys && index < 0; i++)
            if (!g_ptys[i])
                index = i;
        if (index < 0) {
            destroy(p);
            return Errno(ENOSPC);
        }
        p->index = index;
        p->refs = 1;
        g_ptys[index] = p;
    }
    File* f = make<PtyEnd>(p, flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC), "/dev/ptmx", true, st);
    if (!f) {
        pty_put(p);
        return Errno(ENOMEM);
    }
    SpinGuard g(p->lock);
    p->masters = 1;
    return f;
}

Result<File*> pty_open_slave(int index, uint32_t flags, const Stat& st) {
    Pty* p = nullptr;
    {
        SpinGuard g(g_table_lock);
        if (index >= 0 && index < kMaxPtys)
            p = g_ptys[index];
        if (!p || !p->masters)
            return Errno(ENOENT);
        p->refs++;  // held across the open below
    }
    bool locked;
    {
        SpinGuard g(p->lock);
        locked = p->locked;
    }
    Result<File*> opened = locked ? Result<File*>(Errno(EIO)) : make_slave(p, flags, st);
    if (opened.ok() && !(flags & O_NOCTTY))
        (void)claim_controlling(p);  // the session leader without one gets this one
    pty_put(p);
    return opened;
}

size_t pty_list(int* out, size_t max) {
    SpinGuard g(g_table_lock);
    size_t n = 0;
    for (int i = 0; i < kMaxPtys; i++) {
        if (g_ptys[i] && g_ptys[i]->masters) {
            if (n < max)
                out[n] = i;
            n++;
        }
    }
    return n;
}

bool pty_exists(int index) {
    SpinGuard g(g_table_lock);
    return index >= 0 && index < kMaxPtys && g_ptys[index] && g_ptys[index]->masters;
}

bool pty_owner(int index, uint32_t* uid, uint32_t* gid) {
    SpinGuard g(g_table_lock);
    if (index < 0 || index >= kMaxPtys || !g_ptys[index])
        return false;
    *uid = g_ptys[index]->uid;
    *gid = kTtyGid;
    return true;
}

Result<File*> pty_open_controlling(uint32_t flags) {
    int index = -1;
    {
        SpinGuard g(g_table_lock);
        if (Pty* c = controlling_locked())
            index = c->index;
    }
    if (index < 0)
        return Errno(ENXIO);
    return reopen_slave(index, flags | O_NOCTTY);
}

}  // namespace carbyne::libos::fs
