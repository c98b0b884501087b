// Pipes (see pipe.h): the ring and its side tokens, the end files, and the opens of FIFOs.
#include "pipe.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <linux/fcntl.h>
#include <linux/poll.h>

#include "../proc/process.h"
#include "../proc/wait.h"
#include "../signal/signal.h"
#include "ioseq.h"
#include "poll.h"

namespace carbyne::libos::net {

namespace {

constexpr size_t kPage = 4096;
constexpr int kSigPipe = 13;
constexpr uint64_t kPipefsDev = 0xf;  // Linux's pipefs is one unnamed device
// A private wake-up bit (no POLL* value): a side's token was handed back.
constexpr uint32_t kTokenFree = 1u << 24;
// On a pipe's open queue: an end of a FIFO opened.
constexpr uint32_t kEndOpened = 1u << 25;
constexpr uint32_t kReadable = POLLIN | POLLRDNORM;
constexpr uint32_t kWritable = POLLOUT | POLLWRNORM;

constinit uint64_t g_next_ino = 1;

size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

// Bytes between two packet boundaries: one packet (an O_DIRECT write of at most a page),
// or a run of ordinary bytes, which later ordinary writes extend.
struct Segment {
    uint32_t size;
    bool packet;
};

}  // namespace

class Pipe {
public:
    // `fifo`: the FIFO node whose pipe this is (its pipe_lock guards the references), or
    // nullptr for a pipe(2) pipe.
    explicit Pipe(fs::FifoNode* fifo) : m_ino(__atomic_fetch_add(&g_next_ino, 1, __ATOMIC_RELAXED)), m_fifo(fifo) {
        uint64_t now = 0;
        g_pal->time_get(PAL_CLOCK_REALTIME, &now);
        m_created_ns = int64_t(now);
    }
    ~Pipe() {
        kfree(m_buf);
        kfree(m_segs);
    }

    // One reference per end file (and per FIFO open in progress). A FIFO's pipe is
    // referenced only under its node's pipe_lock, and the last unref takes it off the node
    // there, so an open never finds a pipe on its way out.
    void ref() { __atomic_add_fetch(&m_refs, 1, __ATOMIC_RELAXED); }
    void unref() {
        if (!m_fifo) {
            if (__atomic_sub_fetch(&m_refs, 1, __ATOMIC_ACQ_REL) == 0)
                destroy(this);
            return;
        }
        bool last;
        {
            SpinGuard g(m_fifo->pipe_lock);
            last = __atomic_sub_fetch(&m_refs, 1, __ATOMIC_ACQ_REL) == 0;
            if (last)
                m_fifo->pipe = nullptr;
        }
        if (last)
            destroy(this);  // with its data, as Linux when no file has the FIFO open
    }

    // A pipe(2) pipe's two ends, before their files exist.
    void attach_both() {
        SpinGuard g(m_lock);
        m_readers = m_writers = 1;
        m_reader_opens = m_writer_opens = 1;
    }

    // Counts a new end of a FIFO in and waits for its partner (pipe.h: fifo_open). Returns
    // the writer-open count from which the end reports POLLHUP (PipeEnd::m_hup_after).
    Result<uint32_t> open_fifo_end(bool reads, bool writes, bool nonblock);

    // The last reader gone: writers fail with EPIPE; the last writer gone: readers see EOF.
    void close_end(bool reads, bool writes) {
        bool no_readers = false, no_writers = false;
        PalHandle* host[2] = {};
        {
            SpinGuard g(m_lock);
            if (reads)
                no_readers = --m_readers == 0;
            if (writes)
                no_writers = --m_writers == 0;
            if (reads && writes)
                __atomic_sub_fetch(&m_duplex_ends, 1, __ATOMIC_RELAXED);
            if (no_readers) {
                host[0] = m_host_read;
                m_host_read = nullptr;
            }
            if (no_writers) {
                host[1] = m_host_write;
                m_host_write = nullptr;
            }
        }
        for (PalHandle* h : host)
            if (h)
                g_pal->stream_close(h);
        if (no_readers)
            wake_write_side(POLLERR);
        if (no_writers)
            wake_read_side(POLLHUP);
    }

    Result<size_t> read(const IoSeq& seq, bool nonblock);
    Result<size_t> write(const IoSeq& seq, bool nonblock, bool packet);
    // tee(2): a copy of up to `size` bytes from the front, nothing consumed; waits as read.
    Result<size_t> peek(void* buf, size_t size, bool nonblock);
    size_t room() {
        SpinGuard g(m_lock);
        return m_capacity - size_t(m_tail - m_head);
    }

    // POLLHUP once no writer is left, unless the count of writer opens is still `hup_after`
    // (a FIFO reader opened with O_NONBLOCK and no writer sees none until one came: Linux's
    // f_pipe; other ends pass 0, which a FIFO's count has left once a writer opened).
    uint32_t poll_read(uint32_t hup_after) {
        if (shared())
            return host_poll(true);
        SpinGuard g(m_lock);
        bool hup = !m_writers && m_writer_opens != hup_after;
        return (m_seg_count ? kReadable : 0) | (hup ? POLLHUP : 0);
    }
    uint32_t poll_write(bool packet) {
        if (shared())
            return host_poll(false);
        SpinGuard g(m_lock);
        size_t room = m_capacity - size_t(m_tail - m_head);
        bool writable = room >= min_size(kPipeBuf, m_capacity) && (can_merge_locked(packet) || m_seg_count < m_slots);
        return (writable ? kWritable : 0) | (m_readers ? 0 : POLLERR);
    }

    size_t readable_bytes() {
        if (shared())
            return 0;  // FIXME: FIONREAD of a pipe shared by processes (the host's count)
        SpinGuard g(m_lock);
        return size_t(m_tail - m_head);
    }
    size_t capacity() {
        SpinGuard g(m_lock);
        return m_capacity;
    }
    Result<long> set_capacity(uint64_t want);

    // Shared by processes: the data goes through a host pipe instead of the ring (the
    // transport changes, the pipe's rules do not). share() moves a local pipe there, ring
    // and all, when a fork carries one of its ends; adopt() makes a child's pipe of the
    // host ends it received. Each process holds the host ends its own end files need, and
    // closes one with its last local reader or writer: the host then gives EOF and EPIPE
    // across processes.
    bool shared() const { return __atomic_load_n(&m_shared, __ATOMIC_ACQUIRE); }
    Result<void> share();
    void adopt(PalHandle* read_end, PalHandle* write_end, bool reads, bool writes);
    PalHandle* host_end(bool reads) {
        SpinGuard g(m_lock);
        return reads ? m_host_read : m_host_write;
    }

    WaitQueue& read_queue() { return m_read_queue; }
    WaitQueue& write_queue() { return m_write_queue; }
    WaitQueue& duplex_queue() { return m_duplex_queue; }
    uint64_t ino() const { return m_ino; }
    int64_t created_ns() const { return m_created_ns; }

private:
    enum class Step { Go, Eof, Empty, Full, Busy, Broken, Moved };

    Result<size_t> host_read(const IoSeq& seq, bool nonblock);
    Result<size_t> host_write(const IoSeq& seq, bool nonblock);
    uint32_t host_poll(bool reads);

    bool can_merge_locked(bool packet) const {
        return !packet && m_seg_count && !m_segs[(m_seg_head + m_seg_count - 1) % m_slots].packet;
    }
    Step try_begin_read(size_t size, uint64_t* pos, size_t* copy, size_t* consume);
    // try_begin_read, waiting (unless nonblock: EAGAIN) while the pipe is empty with
    // writers or the token is taken: Go (the token held) or Eof.
    Result<Step> begin_read(size_t size, bool nonblock, uint64_t* pos, size_t* copy, size_t* consume);
    Step try_begin_write(size_t need, size_t chunk, bool packet, uint64_t* pos, size_t* n);
    void end_read(bool consumed, size_t consume);
    void end_write(bool committed, size_t n, bool packet);
    Result<void> ensure_buffer();
    Result<void> ring_to_seq(uint64_t pos, const IoSeq& seq, size_t at, size_t n);
    Result<void> seq_to_ring(const IoSeq& seq, size_t at, uint64_t pos, size_t n);

    const uint64_t m_ino;
    int64_t m_created_ns;
    fs::FifoNode* const m_fifo;
    int m_refs = 0;

    Spinlock m_lock{LockRank::Pipe};
    // Under m_lock. The data is [m_head, m_tail) (positions count bytes since creation);
    // the buffer is allocated at the first write. The token holder of a side may use
    // m_buf, m_capacity and its own position without the lock: they only change when
    // neither token is held (set_capacity) or by the write token's holder (allocation).
    uint8_t* m_buf = nullptr;
    Segment* m_segs = nullptr;  // m_slots entries, a ring from m_seg_head
    size_t m_capacity = kPipeDefaultSize;
    size_t m_slots = kPipeDefaultSize / kPage;  // at most this many segments, as Linux's pages
    uint64_t m_head = 0, m_tail = 0;
    size_t m_seg_head = 0, m_seg_count = 0;
    int m_readers = 0, m_writers = 0;
    // Opens of each side so far (Linux's r_counter, w_counter): a FIFO open waits for the
    // other side's count to move, so a partner that came and went already counts.
    uint32_t m_reader_opens = 0, m_writer_opens = 0;
    bool m_reading = false, m_writing = false;                // the side tokens
    bool m_read_contended = false, m_write_contended = false; // someone waits for a token

    // One queue per side, woken with the POLL* bits that became true (and kTokenFree when
    // the side's token is handed back): blocked readers wait on the read side's, blocked
    // writers on the write side's, and poll, select and epoll hang on them (the ends'
    // poll_queue()). The ends of FIFOs opened O_RDWR have a queue of their own, which hears
    // every change of either side while any such end is open (atomic: read without
    // m_lock); their blocked reads and writes wait on the sides' queues like any other.
    void wake_read_side(uint32_t events) {
        m_read_queue.wake(events);
        wake_duplex(events);
    }
    void wake_write_side(uint32_t events) {
        m_write_queue.wake(events);
        wake_duplex(events);
    }
    void wake_duplex(uint32_t events) {
        if (__atomic_load_n(&m_duplex_ends, __ATOMIC_RELAXED))
            m_duplex_queue.wake(events);
    }

    int m_duplex_ends = 0;
    bool m_shared = false;                                     // atomic; set once
    PalHandle* m_host_read = nullptr;                          // under m_lock
    PalHandle* m_host_write = nullptr;
    WaitQueue m_read_queue;
    WaitQueue m_write_queue;
    WaitQueue m_duplex_queue;
    WaitQueue m_open_queue;  // FIFO opens waiting for a partner
};

Result<uint32_t> Pipe::open_fifo_end(bool reads, bool writes, bool nonblock) {
    uint32_t seen = 0;  // the partner side's open count when this end came
    uint32_t hup_after = 0;
    bool wait = false;
    // A pipe shared by processes: the ends the other processes hold are not counted here,
    // so an open neither waits for a partner nor is refused for lack of one.
    bool local = !shared();
    {
        SpinGuard g(m_lock);
        if (local && writes && !reads && !m_readers && nonblock)
            return Errno(ENXIO);
        if (reads) {
            m_readers++;
            m_reader_opens++;
        }
        if (writes) {
            m_writers++;
            m_writer_opens++;
        }
        if (reads && writes) {
            __atomic_add_fetch(&m_duplex_ends, 1, __ATOMIC_RELAXED);
        } else if (reads) {
            seen = m_writer_opens;
            wait = !m_writers && !nonblock;
            if (!m_writers && nonblock)
                hup_after = m_writer_opens;  // no POLLHUP until a writer has come
        } else {
            seen = m_reader_opens;
            wait = !m_readers;
        }
    }
    m_open_queue.wake(kEndOpened);
    if (!wait || !local)
        return hup_after;
    auto r = wait_until(m_open_queue, kEndOpened, kNoDeadline, [&] {
        SpinGuard g(m_lock);
        return (reads ? m_writer_opens : m_reader_opens) != seen;
    });
    if (!r.ok()) {
        close_end(reads, writes);
        return r.error();  // ERESTARTSYS: restarted with SA_RESTART, else EINTR
    }
    return hup_after;
}

Pipe::Step Pipe::try_begin_read(size_t size, uint64_t* pos, size_t* copy, size_t* consume) {
    SpinGuard g(m_lock);
    if (m_reading) {
        m_read_contended = true;
        return Step::Busy;
    }
    if (!m_seg_count)
        return m_writers ? Step::Empty : Step::Eof;
    const Segment& s = m_segs[m_seg_head];
    *pos = m_head;
    *copy = min_size(size, s.size);
    *consume = s.packet ? s.size : *copy;  // the rest of a packet is discarded
    m_reading = true;
    return Step::Go;
}

void Pipe::end_read(bool consumed, size_t consume) {
    bool wake_token;
    {
        SpinGuard g(m_lock);
        if (consumed) {
            m_head += consume;
            Segment& s = m_segs[m_seg_head];
            if (s.packet || s.size == consume) {
                m_seg_head = (m_seg_head + 1) % m_slots;
                m_seg_count--;
            } else {
                s.size -= uint32_t(consume);
            }
        }
        m_reading = false;
        wake_token = m_read_contended;
        m_read_contended = false;
    }
    if (wake_token)
        m_read_queue.wake(kTokenFree);
    if (consumed)
        wake_write_side(kWritable);
}

Pipe::Step Pipe::try_begin_write(size_t need, size_t chunk, bool packet, uint64_t* pos, size_t* n) {
    SpinGuard g(m_lock);
    if (!m_readers)
        return Step::Broken;
    if (m_writing) {
        m_write_contended = true;
        return Step::Busy;
    }
    size_t room = m_capacity - size_t(m_tail - m_head);
    if (room < need || (!can_merge_locked(packet) && m_seg_count == m_slots))
        return Step::Full;
    *pos = m_tail;
    *n = min_size(chunk, room);
    m_writing = true;
    return Step::Go;
}

void Pipe::end_write(bool committed, size_t n, bool packet) {
    bool wake_token;
    {
        SpinGuard g(m_lock);
        if (committed) {
            m_tail += n;
            // The reader may have taken the segment planned to be extended: decide now.
            if (can_merge_locked(packet)) {
                m_segs[(m_seg_head + m_seg_count - 1) % m_slots].size += uint32_t(n);
            } else {
                m_segs[(m_seg_head + m_seg_count) % m_slots] = Segment{uint32_t(n), packet};
                m_seg_count++;
            }
        }
        m_writing = false;
        wake_token = m_write_contended;
        m_write_contended = false;
    }
    if (wake_token)
        m_write_queue.wake(kTokenFree);
    if (committed)
        wake_read_side(kReadable);  // every write, as Linux: edge-triggered epoll counts on it
}

// With the write token held.
Result<void> Pipe::ensure_buffer() {
    if (m_buf)
        return {};
    uint8_t* buf = static_cast<uint8_t*>(kmalloc(m_capacity));
    Segment* segs = static_cast<Segment*>(kmalloc(m_slots * sizeof(Segment)));
    if (!buf || !segs) {
        kfree(buf);
        kfree(segs);
        return Errno(ENOMEM);
    }
    SpinGuard g(m_lock);
    m_buf = buf;
    m_segs = segs;
    return {};
}

Result<void> Pipe::ring_to_seq(uint64_t pos, const IoSeq& seq, size_t at, size_t n) {
    size_t off = size_t(pos) & (m_capacity - 1);
    size_t first = min_size(n, m_capacity - off);
    TRY(seq.copy_out(at, m_buf + off, first));
    if (n > first)
        TRY(seq.copy_out(at + first, m_buf, n - first));
    return {};
}

Result<void> Pipe::seq_to_ring(const IoSeq& seq, size_t at, uint64_t pos, size_t n) {
    size_t off = size_t(pos) & (m_capacity - 1);
    size_t first = min_size(n, m_capacity - off);
    TRY(seq.copy_in(m_buf + off, at, first));
    if (n > first)
        TRY(seq.copy_in(m_buf, at + first, n - first));
    return {};
}

Result<Pipe::Step> Pipe::begin_read(size_t size, bool nonblock, uint64_t* pos, size_t* copy, size_t* consume) {
    Step step = try_begin_read(size, pos, copy, consume);
    if (step == Step::Empty && nonblock)
        return Errno(EAGAIN);
    if (step == Step::Empty || step == Step::Busy) {
        // Busy: the token comes back after one copy, so even a non-blocking reader waits.
        TRY(wait_until(m_read_queue, kReadable | POLLHUP | kTokenFree, kNoDeadline, [&] {
            if (shared()) {
                step = Step::Moved;
                return true;
            }
            step = try_begin_read(size, pos, copy, consume);
            return step == Step::Go || step == Step::Eof || (step == Step::Empty && nonblock);
        }));
    }
    if (step == Step::Moved)
        return step;
    if (step != Step::Go && step != Step::Eof)
        return Errno(EAGAIN);
    return step;
}

// One read returns what one segment holds (all the ordinary bytes there are, or one
// packet); it waits only while the pipe is empty and has writers.
Result<size_t> Pipe::read(const IoSeq& seq, bool nonblock) {
    size_t size = seq.total();
    if (!size)
        return size_t(0);
    if (shared())
        return host_read(seq, nonblock);
    uint64_t pos = 0;
    size_t copy = 0, consume = 0;
    Step step = TRY(begin_read(size, nonblock, &pos, &copy, &consume));
    if (step == Step::Moved)
        return host_read(seq, nonblock);
    if (step == Step::Eof)
        return size_t(0);
    auto r = ring_to_seq(pos, seq, 0, copy);
    end_read(r.ok(), consume);
    if (!r.ok())
        return r.error();
    return copy;
}

// Writes of up to PIPE_BUF bytes go in whole; longer ones as room appears (a signal or
// O_NONBLOCK ends them with the count written so far). A packet-mode write is cut into
// page-sized packets.
Result<size_t> Pipe::write(const IoSeq& seq, bool nonblock, bool packet) {
    size_t size = seq.total();
    if (!size)
        return size_t(0);
    if (shared())
        return host_write(seq, nonblock);
    size_t done = 0;
    while (done < size) {
        size_t left = size - done;
        size_t chunk = packet && left > kPage ? kPage : left;
        size_t need = packet ? chunk : (size <= kPipeBuf ? size : 1);
        uint64_t pos = 0;
        size_t n = 0;
        Step step = try_begin_write(need, chunk, packet, &pos, &n);
        if (step == Step::Full && nonblock)
            return done ? Result<size_t>(done) : Errno(EAGAIN);
        if (step == Step::Full || step == Step::Busy) {
            auto w = wait_until(m_write_queue, kWritable | POLLERR | kTokenFree, kNoDeadline, [&] {
                if (shared()) {
                    step = Step::Moved;
                    return true;
                }
                step = try_begin_write(need, chunk, packet, &pos, &n);
                return step == Step::Go || step == Step::Broken || (step == Step::Full && nonblock);
            });
            if (!w.ok())
                return done ? Result<size_t>(done) : w.error();
        }
        if (step == Step::Moved) {
            // The rest goes through the host pipe (a write longer than PIPE_BUF is not
            // atomic anyway).
            if (done)
                return done;
            return host_write(seq, nonblock);
        }
        if (step == Step::Broken) {
            (void)signal_send(current_thread(), kSigPipe, signal_user_info(kSigPipe));
            return done ? Result<size_t>(done) : Errno(EPIPE);
        }
        if (step != Step::Go)
            return done ? Result<size_t>(done) : Errno(EAGAIN);
        auto r = ensure_buffer();
        if (r.ok())
            r = seq_to_ring(seq, done, pos, n);
        end_write(r.ok(), n, packet);
        if (!r.ok())
            return done ? Result<size_t>(done) : r.error();
        done += n;
    }
    return done;
}

Result<size_t> Pipe::peek(void* buf, size_t size, bool nonblock) {
    if (!size)
        return size_t(0);
    if (shared())
        return Errno(EINVAL);  // tee(2) of a pipe shared by processes: not supported yet
    uint64_t pos = 0;
    size_t copy = 0, consume = 0;
    Step step = TRY(begin_read(size, nonblock, &pos, &copy, &consume));
    if (step == Step::Moved)
        return Errno(EINVAL);
    if (step == Step::Eof)
        return size_t(0);
    // The read token is held: [m_head, m_tail) stays, and more may come behind it.
    size_t have;
    {
        SpinGuard g(m_lock);
        have = size_t(m_tail - m_head);
    }
    size_t n = min_size(size, have);
    IoSeg seg{fs::IoBuf::kernel(buf), n};
    auto r = ring_to_seq(pos, IoSeq::single(&seg), 0, n);
    end_read(false, consume);  // nothing consumed: the token goes back
    if (!r.ok())
        return r.error();
    return n;
}

Result<long> Pipe::set_capacity(uint64_t want) {
    if (want > (1ull << 31))
        return Errno(EINVAL);
    size_t size = kPage;
    while (size < want)
        size <<= 1;
    // FIXME: Linux lets CAP_SYS_RESOURCE go past pipe-max-size; the LibOS grants no
    // capabilities, as in a container without it.
    if (size > kPipeMaxSize)
        return Errno(EPERM);
    size_t slots = size / kPage;
    uint8_t* buf = static_cast<uint8_t*>(kmalloc(size));
    Segment* segs = static_cast<Segment*>(kmalloc(slots * sizeof(Segment)));
    if (!buf || !segs) {
        kfree(buf);
        kfree(segs);
        return Errno(ENOMEM);
    }
    // Both tokens must be free; they are held only for one copy, so yield until they are.
    bool fits = true;
    for (;;) {
        bool busy = false;
        {
            SpinGuard g(m_lock);
            if (m_reading || m_writing) {
                busy = true;
            } else if (size_t(m_tail - m_head) > size || m_seg_count > slots) {
                fits = false;
            } else if (m_buf) {
                size_t used = size_t(m_tail - m_head);
                size_t off = size_t(m_head) & (m_capacity - 1);
                size_t first = min_size(used, m_capacity - off);
                memcpy(buf, m_buf + off, first);
                memcpy(buf + first, m_buf, used - first);
                for (size_t i = 0; i < m_seg_count; i++)
                    segs[i] = m_segs[(m_seg_head + i) % m_slots];
                uint8_t* old_buf = m_buf;
                Segment* old_segs = m_segs;
                m_buf = buf;
                m_segs = segs;
                buf = old_buf;  // freed below
                segs = old_segs;
                m_head = 0;
                m_tail = used;
                m_seg_head = 0;
                m_capacity = size;
                m_slots = slots;
            } else {
                m_capacity = size;  // still unallocated: the first write allocates
                m_slots = slots;
            }
        }
        if (!busy)
            break;
        g_pal->thread_yield();
    }
    kfree(buf);
    kfree(segs);
    if (!fits)
        return Errno(EBUSY);
    wake_write_side(kWritable);
    return long(size);
}

Result<void> Pipe::share() {
    if (shared())
        return {};
    if (m_fifo)
        return Errno(EOPNOTSUPP);  // FIFOs shared by processes: not yet
    PalHandle *r = nullptr, *w = nullptr;
    TRY(pal_result(g_pal->pipe_create(&r, &w)));
    // Both tokens: no copy is in flight, the ring stays as it is while its bytes move.
    for (;;) {
        {
            SpinGuard g(m_lock);
            if (!m_reading && !m_writing) {
                m_reading = m_writing = true;
                break;
            }
        }
        g_pal->thread_yield();
    }
    uint64_t head, tail;
    {
        SpinGuard g(m_lock);
        head = m_head;
        tail = m_tail;
    }
    Result<void> moved;
    for (uint64_t pos = head; pos < tail && moved.ok();) {
        size_t off = size_t(pos) & (m_capacity - 1);
        size_t n = min_size(size_t(tail - pos), m_capacity - off);
        size_t done = 0;
        PalError e = g_pal->stream_write(w, PAL_NO_OFFSET, m_buf + off, n, &done);
        if (e != PAL_OK)
            moved = Errno(EAGAIN);  // more than the host pipe holds (a raised capacity)
        pos += done;
    }
    bool no_readers, no_writers;
    {
        SpinGuard g(m_lock);
        m_reading = m_writing = false;
        if (moved.ok()) {
            m_head = m_tail;
            m_seg_head = m_seg_count = 0;
            no_readers = !m_readers;
            no_writers = !m_writers;
            m_host_read = no_readers ? nullptr : r;
            m_host_write = no_writers ? nullptr : w;
            __atomic_store_n(&m_shared, true, __ATOMIC_RELEASE);
        }
    }
    if (!moved.ok()) {
        g_pal->stream_close(r);
        g_pal->stream_close(w);
        return moved;
    }
    if (no_readers)
        g_pal->stream_close(r);
    if (no_writers)
        g_pal->stream_close(w);
    // Whoever waits on the ring goes to the host pipe now.
    wake_read_side(kReadable | kTokenFree);
    wake_write_side(kWritable | kTokenFree);
    return {};
}

void Pipe::adopt(PalHandle* read_end, PalHandle* write_end, bool reads, bool writes) {
    SpinGuard g(m_lock);
    if (read_end)
        m_host_read = read_end;
    if (write_end)
        m_host_write = write_end;
    m_readers += reads;
    m_writers += writes;
    __atomic_store_n(&m_shared, true, __ATOMIC_RELEASE);
}

uint32_t Pipe::host_poll(bool reads) {
    PalHandle* h = host_end(reads);
    if (!h)
        return reads ? POLLHUP : POLLERR;
    uint32_t ready = host_ready_now(h, reads ? PAL_WAIT_READ : PAL_WAIT_WRITE);
    return ((ready & PAL_WAIT_READ) ? kReadable : 0) | ((ready & PAL_WAIT_WRITE) ? kWritable : 0) |
           ((ready & PAL_WAIT_HANGUP) ? POLLHUP : 0) | ((ready & PAL_WAIT_ERROR) ? POLLERR : 0);
}

Result<size_t> Pipe::host_read(const IoSeq& seq, bool nonblock) {
    PalHandle* h = host_end(true);
    if (!h)
        return Errno(EBADF);
    for (;;) {
        size_t total = 0;
        bool again = false;
        for (size_t i = 0; i < seq.count(); i++) {
            const IoSeg& s = seq.segs()[i];
            if (s.buf.user)
                TRY(fs::io_check(s.buf, s.size));
            size_t done = 0;
            PalError e = g_pal->stream_read(h, PAL_NO_OFFSET, reinterpret_cast<void*>(s.buf.addr), s.size, &done);
            if (e == PAL_E_AGAIN) {
                again = total == 0;
                break;
            }
            if (e != PAL_OK)
                return total ? Result<size_t>(total) : errno_from_pal(e);
            total += done;
            if (done < s.size)
                break;
        }
        if (!again)
            return total;  // bytes, or 0 at the end: no writer is left anywhere
        if (nonblock)
            return Errno(EAGAIN);
        uint32_t want = PAL_WAIT_READ, ready = 0;
        TRY(thread_block_on(1, &h, &want, &ready, kNoDeadline));
    }
}

Result<size_t> Pipe::host_write(const IoSeq& seq, bool nonblock) {
    PalHandle* h = host_end(false);
    if (!h)
        return Errno(EBADF);
    size_t total = 0;
    for (size_t i = 0; i < seq.count(); i++) {
        const IoSeg& s = seq.segs()[i];
        if (s.buf.user)
            TRY(fs::io_check(s.buf, s.size));
        for (size_t off = 0; off < s.size;) {
            size_t done = 0;
            PalError e = g_pal->stream_write(h, PAL_NO_OFFSET, reinterpret_cast<const void*>(s.buf.addr + off),
                                             s.size - off, &done);
            if (e == PAL_E_PIPE) {
                (void)signal_send(current_thread(), kSigPipe, signal_user_info(kSigPipe));
                return total ? Result<size_t>(total) : Errno(EPIPE);
            }
            if (e == PAL_E_AGAIN) {
                if (nonblock)
                    return total ? Result<size_t>(total) : Errno(EAGAIN);
                uint32_t want = PAL_WAIT_WRITE, ready = 0;
                auto waited = thread_block_on(1, &h, &want, &ready, kNoDeadline);
                if (!waited.ok())
                    return total ? Result<size_t>(total) : waited.error();
                continue;
            }
            if (e != PAL_OK)
                return total ? Result<size_t>(total) : errno_from_pal(e);
            off += done;
            total += done;
        }
    }
    return total;
}

namespace {

// An end of a pipe: its read end or its write end, or an end of a FIFO (O_RDWR: both).
// It takes over a reference on the pipe and its place in the counts of readers and
// writers, and for a FIFO a reference on the node.
class PipeEnd final : public fs::File {
public:
    PipeEnd(Pipe* pipe, bool reads, bool writes, uint32_t flags, const char* path, fs::FifoNode* node,
            uint32_t hup_after)
        : File(flags, path), m_pipe(pipe), m_node(node), m_hup_after(hup_after), m_reads(reads), m_writes(writes) {}
    ~PipeEnd() override {
        poll_release();  // the watchers' links are on the pipe's queues, which may go below
        m_pipe->close_end(m_reads, m_writes);
        m_pipe->unref();
        if (m_node)
            m_node->release();  // after the pipe: its unref takes the node's pipe_lock
    }

    Result<size_t> read(fs::IoBuf buf, size_t size) override {
        IoSeg seg{buf, size};
        return readv(IoSeq::single(&seg));
    }
    Result<size_t> write(fs::IoBuf buf, size_t size) override {
        IoSeg seg{buf, size};
        return writev(IoSeq::single(&seg));
    }
    Result<size_t> readv(const IoSeq& seq) { return m_pipe->read(seq, (flags() & O_NONBLOCK) != 0); }
    Result<size_t> writev(const IoSeq& seq) {
        return m_pipe->write(seq, (flags() & O_NONBLOCK) != 0, (flags() & O_DIRECT) != 0);
    }

    Result<void> stat(fs::Stat* out) override {
        if (m_node)
            return m_node->stat(out);
        memset(out, 0, sizeof(*out));
        out->mode = S_IFIFO | 0600;
        out->ino = m_pipe->ino();
        out->dev = kPipefsDev;
        out->nlink = 1;
        out->blksize = kPage;
        out->uid = g_process.uid;
        out->gid = g_process.gid;
        // FIXME: Linux moves mtime/ctime on each write and atime on each read.
        out->atime_ns = out->mtime_ns = out->ctime_ns = m_pipe->created_ns();
        return {};
    }
    // A FIFO's node takes the attribute changes; a pipe(2) pipe has none to take.
    Result<void> chmod(uint32_t mode) override { return m_node ? m_node->chmod(mode) : File::chmod(mode); }
    Result<void> chown(uint32_t uid, uint32_t gid) override {
        return m_node ? m_node->chown(uid, gid) : File::chown(uid, gid);
    }
    Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) override {
        return m_node ? m_node->utimens(atime_ns, mtime_ns) : File::utimens(atime_ns, mtime_ns);
    }
    Result<uint64_t> readable_bytes() override { return uint64_t(m_pipe->readable_bytes()); }
    uint32_t poll_events() override {
        bool packet = (flags() & O_DIRECT) != 0;
        if (m_reads && m_writes)
            return m_pipe->poll_read(m_hup_after) | m_pipe->poll_write(packet);
        return m_reads ? m_pipe->poll_read(m_hup_after) : m_pipe->poll_write(packet);
    }
    WaitQueue* poll_queue() override {
        if (m_pipe->shared())
            return nullptr;  // the host pipe's readiness: poll_handle()
        if (m_reads && m_writes)
            return &m_pipe->duplex_queue();
        return m_reads ? &m_pipe->read_queue() : &m_pipe->write_queue();
    }
    PalHandle* poll_handle() override { return m_pipe->shared() ? m_pipe->host_end(m_reads) : nullptr; }
    fs::FileKind kind() const override { return fs::FileKind::Pipe; }
    Result<fs::File*> reopen(uint32_t flags) override;

    Pipe* pipe() const { return m_pipe; }
    bool reads() const { return m_reads; }
    bool writes() const { return m_writes; }

private:
    Pipe* m_pipe;
    fs::FifoNode* m_node;  // a FIFO's node, or nullptr
    uint32_t m_hup_after;  // see Pipe::poll_read
    bool m_reads, m_writes;
};

}  // namespace

// A pipe(2) pipe reopened through /proc/self/fd: Linux's fifo_open on the pipe's inode. A
// FIFO's end has a path, which the walk follows instead.
Result<fs::File*> PipeEnd::reopen(uint32_t flags) {
    if (m_node)
        return static_cast<fs::File*>(nullptr);
    uint32_t acc = flags & O_ACCMODE;
    if (acc == O_ACCMODE || (flags & O_DIRECT))
        return Errno(EINVAL);
    bool reads = acc != O_WRONLY, writes = acc != O_RDONLY;
    m_pipe->ref();
    auto opened = m_pipe->open_fifo_end(reads, writes, (flags & O_NONBLOCK) != 0);
    if (!opened.ok()) {
        m_pipe->unref();
        return opened.error();
    }
    uint32_t fflags = flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
    fs::File* end = make<PipeEnd>(m_pipe, reads, writes, fflags, nullptr, nullptr, opened.value());
    if (!end) {
        m_pipe->close_end(reads, writes);
        m_pipe->unref();
        return Errno(ENOMEM);
    }
    return end;
}

Result<void> pipe_create(uint32_t flags, fs::File** read_end, fs::File** write_end) {
    Pipe* pipe = make<Pipe>(nullptr);
    if (!pipe)
        return Errno(ENOMEM);
    pipe->ref();
    pipe->ref();
    pipe->attach_both();
    fs::File* r = make<PipeEnd>(pipe, true, false, O_RDONLY | (flags & O_NONBLOCK), nullptr, nullptr, 0);
    if (!r) {
        destroy(pipe);  // no end exists to count
        return Errno(ENOMEM);
    }
    fs::File* w = make<PipeEnd>(pipe, false, true, O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT)), nullptr, nullptr, 0);
    if (!w) {
        r->unref();
        pipe->close_end(false, true);
        pipe->unref();
        return Errno(ENOMEM);
    }
    *read_end = r;
    *write_end = w;
    return {};
}

Result<fs::File*> fifo_open(fs::FifoNode* node, uint32_t flags, const char* path) {
    uint32_t acc = flags & O_ACCMODE;
    // Neither reading nor writing: Linux's fifo_open refuses it. O_DIRECT: do_dentry_open
    // refuses it for a file without direct I/O, once the FIFO's open is done (here before).
    if (acc == O_ACCMODE || (flags & O_DIRECT)) {
        node->release();
        return Errno(EINVAL);
    }
    bool reads = acc != O_WRONLY, writes = acc != O_RDONLY;
    // The node's pipe, with a reference for this end; the first open makes it.
    Pipe* pipe = nullptr;
    {
        SpinGuard g(node->pipe_lock);
        if ((pipe = node->pipe))
            pipe->ref();
    }
    if (!pipe) {
        Pipe* fresh = make<Pipe>(node);
        if (!fresh) {
            node->release();
            return Errno(ENOMEM);
        }
        {
            SpinGuard g(node->pipe_lock);
            if ((pipe = node->pipe)) {
                pipe->ref();  // another open was quicker
            } else {
                node->pipe = pipe = fresh;
                fresh->ref();
                fresh = nullptr;
            }
        }
        if (fresh)
            destroy(fresh);
    }
    auto opened = pipe->open_fifo_end(reads, writes, (flags & O_NONBLOCK) != 0);
    if (!opened.ok()) {
        pipe->unref();
        node->release();
        return opened.error();
    }
    uint32_t fflags = flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
    fs::File* end = make<PipeEnd>(pipe, reads, writes, fflags, path, node, opened.value());
    if (!end) {
        pipe->close_end(reads, writes);
        pipe->unref();
        node->release();
        return Errno(ENOMEM);
    }
    return end;
}

Result<long> pipe_readv(fs::File* f, uint64_t iov_addr, size_t count) {
    IoSegs segs;
    IoSeq seq = TRY(segs.import(iov_addr, count));
    return long(TRY(static_cast<PipeEnd*>(f)->readv(seq)));
}

Result<long> pipe_writev(fs::File* f, uint64_t iov_addr, size_t count) {
    IoSegs segs;
    IoSeq seq = TRY(segs.import(iov_addr, count));
    return long(TRY(static_cast<PipeEnd*>(f)->writev(seq)));
}

namespace {

Pipe* pipe_of(fs::File* f) { return static_cast<PipeEnd*>(f)->pipe(); }

}  // namespace

bool pipe_same(fs::File* a, fs::File* b) { return pipe_of(a) == pipe_of(b); }

Result<size_t> pipe_take(fs::File* f, void* buf, size_t size, bool nonblock) {
    size_t done = 0;
    while (done < size) {
        IoSeg seg{fs::IoBuf::kernel(static_cast<uint8_t*>(buf) + done), size - done};
        auto r = pipe_of(f)->read(IoSeq::single(&seg), nonblock || done > 0);
        if (!r.ok() || r.value() == 0) {
            if (done || r.ok())
                break;
            return r.error();
        }
        done += r.value();
    }
    return done;
}

Result<size_t> pipe_put(fs::File* f, const void* buf, size_t size, bool nonblock) {
    IoSeg seg{fs::IoBuf::kernel(buf), size};
    return pipe_of(f)->write(IoSeq::single(&seg), nonblock, (f->flags() & O_DIRECT) != 0);
}

Result<size_t> pipe_peek(fs::File* f, void* buf, size_t size, bool nonblock) {
    return pipe_of(f)->peek(buf, size, nonblock);
}

size_t pipe_room(fs::File* f) { return pipe_of(f)->room(); }

Result<long> pipe_get_size(fs::File* f) {
    if (f->kind() != fs::FileKind::Pipe)
        return Errno(EBADF);
    return long(static_cast<PipeEnd*>(f)->pipe()->capacity());
}

Result<long> pipe_set_size(fs::File* f, uint64_t size) {
    if (f->kind() != fs::FileKind::Pipe)
        return Errno(EBADF);
    return static_cast<PipeEnd*>(f)->pipe()->set_capacity(size);
}

Result<PalHandle*> pipe_share_end(fs::File* f, uint64_t* pipe_id, bool* reads, bool* writes) {
    auto* end = static_cast<PipeEnd*>(f);
    if (end->reads() && end->writes())
        return Errno(EOPNOTSUPP);  // a FIFO opened O_RDWR
    TRY(end->pipe()->share());
    *pipe_id = end->pipe()->ino();
    *reads = end->reads();
    *writes = end->writes();
    PalHandle* h = end->pipe()->host_end(end->reads());
    if (!h)
        return Errno(EPIPE);
    return h;
}

namespace {

// The pipes a child restores, by their ids in the parent (one fork at a time: the child
// restores before it runs anything).
struct Adopted {
    uint64_t id;
    Pipe* pipe;
};
constexpr size_t kMaxAdopted = 256;
constinit Adopted g_adopted[kMaxAdopted] = {};
constinit size_t g_adopted_count = 0;

}  // namespace

Result<fs::File*> pipe_end_adopt(uint64_t pipe_id, bool reads, bool writes, uint32_t flags, PalHandle* host) {
    if (reads == writes)
        return Errno(EINVAL);
    Pipe* pipe = nullptr;
    for (size_t i = 0; i < g_adopted_count; i++)
        if (g_adopted[i].id == pipe_id)
            pipe = g_adopted[i].pipe;
    bool fresh = !pipe;
    if (fresh) {
        if (g_adopted_count == kMaxAdopted)
            return Errno(ENFILE);
        pipe = make<Pipe>(nullptr);
        if (!pipe)
            return Errno(ENOMEM);
    }
    pipe->ref();
    pipe->adopt(reads ? host : nullptr, writes ? host : nullptr, reads, writes);
    if (fresh)
        g_adopted[g_adopted_count++] = Adopted{pipe_id, pipe};
    fs::File* end = make<PipeEnd>(pipe, reads, writes, flags, nullptr, nullptr, 0);
    if (!end) {
        pipe->close_end(reads, writes);
        pipe->unref();
        return Errno(ENOMEM);
    }
    return end;
}

void pipe_adopt_done() { g_adopted_count = 0; }

}  // namespace carbyne::libos::net
