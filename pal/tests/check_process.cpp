// Processes (mode "process", and "process-sandbox" under the sandbox): process_create
// starts this same test object as a child, which talks over its channel; process_wait,
// process_kill, and handles passed over the channel.
//
// The child (PalBootInfo.parent_channel set) answers "ping" with "pong", takes a shared
// memory handle and writes into it, takes an event handle and sets it, then reads command
// bytes: 'm' sends back the next two process_messages (sizes, then bytes), 'x'
// ends it with exit code 5, 'b' blocks it until it is killed.
#include "pal_test.h"

namespace pal_test {

namespace {

bool read_exact(PalHandle* ch, void* buf, size_t size) {
    auto* p = static_cast<uint8_t*>(buf);
    while (size) {
        size_t done = 0;
        if (g_api->stream_read(ch, PAL_NO_OFFSET, p, size, &done) != PAL_OK || done == 0)
            return false;
        p += done;
        size -= done;
    }
    return true;
}

bool write_all(PalHandle* ch, const void* buf, size_t size) {
    auto* p = static_cast<const uint8_t*>(buf);
    while (size) {
        size_t done = 0;
        if (g_api->stream_write(ch, PAL_NO_OFFSET, p, size, &done) != PAL_OK || done == 0)
            return false;
        p += done;
        size -= done;
    }
    return true;
}

// Starts a child and checks the channel both ways; nullptr handles on failure.
void start_child(Check& c, PalHandle** process, PalHandle** channel) {
    *process = *channel = nullptr;
    if (!c.expect_ok(g_api->process_create(g_info->boot_config, g_info->boot_config_size, process, channel),
                     "process_create"))
        return;
    char pong[4] = {};
    c.expect(write_all(*channel, "ping", 4), "cannot write to the channel");
    c.expect(read_exact(*channel, pong, 4) && memcmp(pong, "pong", 4) == 0, "the child did not answer");
}

// The child's messages: the first two, their sizes and bytes.
volatile int32_t g_messages;
uint64_t g_message_sizes[2];
uint8_t g_message_bytes[2][PAL_MESSAGE_SIZE];

void on_message(const void* data, size_t size) {
    int32_t n = g_messages;
    if (n < 2) {
        g_message_sizes[n] = size;
        memcpy(g_message_bytes[n], data, size < PAL_MESSAGE_SIZE ? size : PAL_MESSAGE_SIZE);
    }
    __atomic_store_n(&g_messages, n + 1, __ATOMIC_RELEASE);
}

}  // namespace

[[noreturn]] void run_process_child() {
    // Messages sent before this wait for it (the parent sends them later anyway).
    if (g_api->set_message_upcall(on_message) != PAL_OK ||
        g_api->set_message_upcall(on_message) != PAL_E_BUSY)
        g_api->process_exit(27);
    PalHandle* ch = g_info->parent_channel;
    char ping[4];
    if (!read_exact(ch, ping, 4) || memcmp(ping, "ping", 4) != 0 || !write_all(ch, "pong", 4))
        g_api->process_exit(21);
    PalHandle* shm = nullptr;
    PalHandle* event = nullptr;
    size_t done = 0;
    if (g_api->channel_recv_handle(ch, &shm) != PAL_OK ||
        g_api->stream_write(shm, 0, "from the child", 14, &done) != PAL_OK || done != 14)
        g_api->process_exit(22);
    if (g_api->channel_recv_handle(ch, &event) != PAL_OK)
        g_api->process_exit(23);
    g_api->event_set(event);
    char command = 0;
    for (;;) {
        if (!read_exact(ch, &command, 1))
            g_api->process_exit(24);
        if (command != 'm')
            break;
        // Two messages come: their sizes and bytes go back on the channel, in order.
        if (!write_all(ch, "r", 1) || !wait_for_word(&g_messages, 2) ||
            !write_all(ch, g_message_sizes, sizeof(g_message_sizes)) || !write_all(ch, g_message_bytes, sizeof(g_message_bytes)))
            g_api->process_exit(26);
    }
    if (command == 'b') {
        PalHandle* never = nullptr;
        g_api->event_create(0, 0, &never);
        g_api->event_wait(never, PAL_WAIT_FOREVER);
    }
    g_api->process_exit(command == 'x' ? 5 : 25);
}

void run_process_checks() {
    PalHandle* process = nullptr;
    PalHandle* channel = nullptr;
    {
        Check c("process-create-channel");
        start_child(c, &process, &channel);
    }
    if (!process) {
        log_line("FAIL process: no child, the other checks cannot run");
        return;
    }
    {
        Check c("process-wait-running");
        int code = -1, sig = -1;
        c.expect_error(g_api->process_wait(process, 0, &code, &sig), PAL_E_TIMEDOUT, "process_wait(0) of a running child");
        c.expect_error(g_api->process_wait(process, 20 * kMsec, &code, &sig), PAL_E_TIMEDOUT,
                       "process_wait(20 ms) of a running child");
    }
    {
        Check c("channel-handle-shm");
        PalHandle* shm = nullptr;
        if (c.expect_ok(g_api->shm_create(kPageSize, &shm), "shm_create") &&
            c.expect_ok(g_api->channel_send_handle(channel, shm), "channel_send_handle")) {
            PalHandle* event = nullptr;
            c.expect_ok(g_api->event_create(0, 0, &event), "event_create");
            c.expect_ok(g_api->channel_send_handle(channel, event), "channel_send_handle(event)");
            c.expect_ok(g_api->event_wait(event, kWaitLimitNs), "the child set the event it was passed");
            char buf[16] = {};
            size_t done = 0;
            c.expect_ok(g_api->stream_read(shm, 0, buf, 14, &done), "stream_read(shm)");
            c.expect(done == 14 && memcmp(buf, "from the child", 14) == 0,
                     "the shared memory holds '%s'", buf);
            g_api->stream_close(event);
            g_api->stream_close(shm);
        }
    }
    {
        Check c("process-message");
        static const char text[PAL_MESSAGE_SIZE] = "32 bytes from the parent, ended";
        char ready = 0;
        c.expect(write_all(channel, "m", 1) && read_exact(channel, &ready, 1) && ready == 'r',
                 "the child is not ready for a message");
        c.expect_ok(g_api->process_message(process, text, sizeof(text)), "process_message");
        c.expect_ok(g_api->process_message(process, "second", 6), "process_message of 6 bytes");
        uint64_t sizes[2] = {};
        char got[2][PAL_MESSAGE_SIZE] = {};
        if (c.expect(read_exact(channel, sizes, sizeof(sizes)) && read_exact(channel, got, sizeof(got)),
                     "the child did not answer")) {
            c.expect(sizes[0] == PAL_MESSAGE_SIZE && sizes[1] == PAL_MESSAGE_SIZE, "sizes %lu and %lu",
                     (unsigned long)sizes[0], (unsigned long)sizes[1]);
            c.expect(memcmp(got[0], text, sizeof(text)) == 0, "the child's first is '%.32s'", got[0]);
            c.expect(memcmp(got[1], "second", 7) == 0, "the child's second is '%.32s' (in order, zero-padded)",
                     got[1]);
        }
        c.expect_error(g_api->process_message(process, text, PAL_MESSAGE_SIZE + 1), PAL_E_INVAL, "33 bytes");
    }
    {
        Check c("process-exit-code");
        c.expect(write_all(channel, "x", 1), "cannot send the command");
        int code = -1, sig = -1;
        c.expect_ok(g_api->process_wait(process, kWaitLimitNs, &code, &sig), "process_wait");
        c.expect(code == 5 && sig == 0, "exit code %d, signal %d; expected 5 and 0", code, sig);
        code = sig = -1;
        c.expect_ok(g_api->process_wait(process, 0, &code, &sig), "process_wait again");
        c.expect(code == 5 && sig == 0, "again: exit code %d, signal %d", code, sig);
        uint32_t want = PAL_WAIT_READ, ready = 0;
        c.expect_ok(g_api->wait_for_many(1, &process, &want, &ready, 0), "wait_for_many on an ended child");
        c.expect(ready & PAL_WAIT_READ, "an ended child is not readable");
    }
    {
        Check c("channel-peer-gone");
        char b;
        size_t done = 1;
        c.expect_ok(g_api->stream_read(channel, PAL_NO_OFFSET, &b, 1, &done), "stream_read");
        c.expect(done == 0, "read %zu bytes from the channel of an ended child", done);
        PalHandle* h = nullptr;
        c.expect_error(g_api->channel_recv_handle(channel, &h), PAL_E_PIPE, "channel_recv_handle");
        g_api->stream_close(channel);
        g_api->stream_close(process);
    }
    {
        Check c("process-kill");
        start_child(c, &process, &channel);
        if (process) {
            PalHandle* shm = nullptr;
            PalHandle* event = nullptr;
            g_api->shm_create(kPageSize, &shm);
            g_api->event_create(0, 0, &event);
            c.expect_ok(g_api->channel_send_handle(channel, shm), "send shm");
            c.expect_ok(g_api->channel_send_handle(channel, event), "send event");
            c.expect(write_all(channel, "b", 1), "cannot send the command");
            c.expect_ok(g_api->event_wait(event, kWaitLimitNs), "the child set the event");
            c.expect_ok(g_api->process_kill(process, 9), "process_kill(9)");
            int code = -1, sig = -1;
            c.expect_ok(g_api->process_wait(process, kWaitLimitNs, &code, &sig), "process_wait");
            c.expect(sig == 9 && code == 0, "exit code %d, signal %d; expected signal 9", code, sig);
            c.expect_error(g_api->process_kill(process, 0), PAL_E_INVAL, "process_kill(0)");
            g_api->stream_close(channel);
            g_api->stream_close(process);
            g_api->stream_close(event);
            g_api->stream_close(shm);
        }
    }
    {
        Check c("process-bad-config");
        // A child whose boot config is garbage reports and ends; nothing hangs.
        static const char garbage[64] = "not a boot config";
        if (c.expect_ok(g_api->process_create(garbage, sizeof(garbage), &process, &channel), "process_create")) {
            int code = -1, sig = -1;
            c.expect_ok(g_api->process_wait(process, kWaitLimitNs, &code, &sig), "process_wait");
            c.expect(code != 0 && sig == 0, "exit code %d, signal %d; expected a failure exit", code, sig);
            g_api->stream_close(channel);
            g_api->stream_close(process);
        }
    }
    {
        Check c("pipe-create");
        PalHandle *r = nullptr, *w = nullptr;
        if (c.expect_ok(g_api->pipe_create(&r, &w), "pipe_create")) {
            char buf[8] = {};
            size_t done = 0;
            c.expect_error(g_api->stream_read(r, PAL_NO_OFFSET, buf, sizeof(buf), &done), PAL_E_AGAIN,
                           "read of an empty pipe");
            c.expect_ok(g_api->stream_write(w, PAL_NO_OFFSET, "abc", 3, &done), "write");
            uint32_t want = PAL_WAIT_READ, ready = 0;
            c.expect_ok(g_api->wait_for_many(1, &r, &want, &ready, kWaitLimitNs), "wait readable");
            c.expect_ok(g_api->stream_read(r, PAL_NO_OFFSET, buf, sizeof(buf), &done), "read");
            c.expect(done == 3 && memcmp(buf, "abc", 3) == 0, "read %zu bytes", done);
            g_api->stream_close(w);
            done = 1;
            c.expect_ok(g_api->stream_read(r, PAL_NO_OFFSET, buf, sizeof(buf), &done), "read at the end");
            c.expect(done == 0, "read %zu bytes after the writer closed", done);
            g_api->stream_close(r);
            c.expect_ok(g_api->pipe_create(&r, &w), "pipe_create again");
            g_api->stream_close(r);
            c.expect_error(g_api->stream_write(w, PAL_NO_OFFSET, "x", 1, &done), PAL_E_PIPE,
                           "write without a reader");
            g_api->stream_close(w);
        }
    }
    {
        Check c("process-bad-args");
        PalHandle* ch = nullptr;
        c.expect_error(g_api->process_create(nullptr, 0, &process, &ch), PAL_E_INVAL, "process_create(NULL)");
        int code, sig;
        c.expect_error(g_api->process_wait(g_info->parent_channel, 0, &code, &sig), PAL_E_BADHANDLE,
                       "process_wait(NULL)");
    }
}

}  // namespace pal_test
