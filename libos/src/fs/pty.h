// Pseudo-terminals (pty(7)): /dev/ptmx makes a pair, /dev/pts/N is its slave side. Between
// them, Linux's line discipline (n_tty) as far as programs see it: input flags (ICRNL,
// INLCR, IGNCR, ISTRIP), canonical line editing (VERASE, VKILL, VWERASE, VEOF, VEOL),
// echo (ECHO, ECHOE, ECHOK, ECHONL, ECHOCTL), signals from VINTR, VQUIT and VSUSP (ISIG),
// output processing (OPOST, ONLCR, OCRNL, ONLRET), VMIN and VTIME, the window size with
// SIGWINCH, and the termios, window, lock, controlling-terminal and process-group ioctls.
//
// The process is its own session and process group (there is one process until fork): a
// pty becomes its controlling terminal when it opens the slave without O_NOCTTY (or asks
// with TIOCSCTTY), and then /dev/tty is that terminal and the terminal's signals are the
// process's.
//
// Lock order: one lock per pair (LockRank::Pty), then a wait queue's; wakes and signals
// after it is dropped.
#pragma once

#include <libos/result.h>
#include <stdint.h>

#include "file.h"

namespace carbyne::libos::fs {

// A new pair's master side (open of /dev/ptmx, whose status `st` the file shows); the
// slave starts locked (TIOCSPTLCK).
Result<File*> pty_open_master(uint32_t flags, const Stat& st);
// The slave side of pair `index` (open of /dev/pts/N, status `st`): ENOENT when there is no
// such pair, EIO while it is locked. Without O_NOCTTY it may become the controlling
// terminal.
Result<File*> pty_open_slave(int index, uint32_t flags, const Stat& st);
// The pairs whose master is open, in ascending order (the /dev/pts listing); returns how
// many there are (may exceed max).
size_t pty_list(int* out, size_t max);
bool pty_exists(int index);
// The owner of a pair's slave (uid, gid), as /dev/pts/N shows it: the uid that opened the
// master, the tty group (5).
bool pty_owner(int index, uint32_t* uid, uint32_t* gid);
// open of /dev/tty: the controlling terminal's slave again, or ENXIO without one.
Result<File*> pty_open_controlling(uint32_t flags);

}  // namespace carbyne::libos::fs
