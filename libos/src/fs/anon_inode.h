// Files with no name in any file system (eventfd, timerfd, signalfd, epoll): what fstat
// shows for them, as Linux's anonymous inodes.
#pragma once

#include "file.h"

namespace carbyne::libos::fs {

// A fresh inode number for an anonymous file.
uint64_t anon_inode_number();
// fstat of an anonymous file: mode 0600 and no file type bits, as Linux shows.
void anon_inode_stat(uint64_t ino, Stat* out);

}  // namespace carbyne::libos::fs
