// Creating and ending threads (clone with CLONE_THREAD, exit).
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos {

struct Thread;

struct CloneRequest {
    uint64_t stack;  // the new thread's stack pointer (0: the parent's)
    bool set_tls;
    uint64_t tls;    // its %fs base
    bool parent_settid, child_settid, child_cleartid;
    uint64_t parent_tid, child_tid;
};

// Starts a thread of this process that returns 0 from the clone call; returns its tid.
Result<int> thread_clone(const CloneRequest& req);

// The thread with this tid, or nullptr. The pointer stays valid (Thread objects are
// reused, never freed), though the thread may exit and another reuse it.
Thread* thread_by_tid(int tid);

// Ends the calling thread (exit(2)); the last one ends the process with `code`.
[[noreturn]] void thread_exit(int code);

// execve's de_thread: asks every other thread to end (each leaves at its next return to
// the application or from a wait, releasing its robust futexes as a killed thread does)
// and waits until they are gone. The caller then takes the process's id as its tid, and
// its robust list and clear_child_tid are released and forgotten. EAGAIN when another
// thread is already in execve (the caller is then one of those ended).
Result<void> threads_end_others_for_exec();
// In a child process restored from a checkpoint: its one thread has the process's id.
void threads_reset_ids(int pid);
// Whether the calling thread was asked to end (threads_end_others_for_exec).
bool thread_exit_requested();

}  // namespace carbyne::libos
