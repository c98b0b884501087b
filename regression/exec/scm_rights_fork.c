// SCM_RIGHTS between processes: descriptors passed over a UNIX socket pair that a parent
// and its child share (what nginx's master does with its workers' channels). Each kind of
// file crosses as one open file description: a file in the working directory, a tmpfs
// file, a pipe and a socket pair made after the fork, /dev/null, and one file twice in a
// message; then MSG_PEEK, MSG_CTRUNC, read(2) of a message with files, and the way back.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

// Sends `n` descriptors with one byte `tag`.
static int send_fds(int sock, char tag, const int *fds, int n) {
  char control[CMSG_SPACE(8 * sizeof(int))];
  memset(control, 0, sizeof(control));
  struct iovec iov = {&tag, 1};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(n * sizeof(int));
  memcpy(CMSG_DATA(c), fds, n * sizeof(int));
  return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

// Receives one byte and up to `room` descriptors into `fds`; returns how many came (-1 on
// error); *tag gets the byte, *flags msg_flags.
static int recv_fds(int sock, char *tag, int *fds, int room, int recv_flags, int *flags) {
  char control[CMSG_SPACE(8 * sizeof(int))];
  memset(control, 0, sizeof(control));
  struct iovec iov = {tag, 1};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(room * sizeof(int));
  if (recvmsg(sock, &msg, recv_flags) != 1)
    return -1;
  *flags = msg.msg_flags;
  int n = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      memcpy(fds, CMSG_DATA(c), n * sizeof(int));
    }
  return n;
}

static int same_description_offset(int a, int b) {
  off_t was = lseek(a, 0, SEEK_CUR);
  lseek(a, was + 3, SEEK_SET);
  int same = lseek(b, 0, SEEK_CUR) == was + 3;
  lseek(a, was, SEEK_SET);
  return same;
}

static int lowest_free_fd(void) {
  int fd = dup(0);
  close(fd);
  return fd;
}

static int child(int sock) {
  int fds[8], flags = 0;
  char tag = 0;
  // 1: the working-directory file, the tmpfs file, a pipe's read end, a socket, /dev/null
  // and the first file again.
  int n = recv_fds(sock, &tag, fds, 8, 0, &flags);
  check("child-gets-six", n == 6 && tag == '1', "%d descriptors, tag %c", n, tag);
  if (n != 6)
    return 1;
  check("file-offset-shared", lseek(fds[0], 0, SEEK_CUR) == 5, "offset %ld", (long)lseek(fds[0], 0, SEEK_CUR));
  check("file-write-appends-at-shared-offset", write(fds[0], "child", 5) == 5, "errno %d", errno);
  check("tmpfs-offset-shared", lseek(fds[1], 0, SEEK_CUR) == 4, "offset %ld", (long)lseek(fds[1], 0, SEEK_CUR));
  check("tmpfs-write", write(fds[1], "CHILD", 5) == 5, "errno %d", errno);
  char buf[64] = {0};
  ssize_t got = read(fds[2], buf, sizeof(buf) - 1);
  check("pipe-read-end", got == 9 && !memcmp(buf, "pipe-data", 9), "read %zd", got);
  check("socket-end-writes", write(fds[3], "via-socket", 10) == 10, "errno %d", errno);
  struct stat st;
  check("dev-null", fstat(fds[4], &st) == 0 && S_ISCHR(st.st_mode) && write(fds[4], "x", 1) == 1, "errno %d",
        errno);
  check("twice-in-one-message-is-one-description", same_description_offset(fds[0], fds[5]), "different offsets");
  check("flags-cross", (fcntl(fds[2], F_GETFL) & O_NONBLOCK) != 0, "flags %x", fcntl(fds[2], F_GETFL));
  for (int i = 0; i < n; i++)
    close(fds[i]);

  // 2: peeked, then received: both give the descriptor.
  int peeked = recv_fds(sock, &tag, fds, 8, MSG_PEEK, &flags);
  int peek_ok = peeked == 1 && tag == '2';
  if (peeked > 0)
    close(fds[0]);
  n = recv_fds(sock, &tag, fds, 8, 0, &flags);
  check("peek-then-receive", peek_ok && n == 1 && tag == '2', "peeked %d, got %d", peeked, n);
  if (n == 1) {
    memset(buf, 0, sizeof(buf));
    got = pread(fds[0], buf, 5, 0);
    check("peeked-file-reads", got == 5 && !memcmp(buf, "paren", 5), "read %zd", got);
    close(fds[0]);
  }

  // 3: three descriptors, room for two (CMSG_SPACE of one int is 8-aligned): MSG_CTRUNC.
  n = recv_fds(sock, &tag, fds, 1, 0, &flags);
  check("ctrunc", n == 2 && (flags & MSG_CTRUNC) && tag == '3', "%d descriptors, flags %x", n, flags);
  for (int i = 0; i < n; i++)
    close(fds[i]);

  // 4: read(2) of a message with a descriptor: the byte, no descriptor.
  int before = lowest_free_fd();
  check("read-drops-descriptors", read(sock, &tag, 1) == 1 && tag == '4' && lowest_free_fd() == before,
        "tag %c", tag);

  // 5: the way back: a pipe made here, its write end passed to the parent.
  int p[2];
  if (pipe(p) != 0)
    return 1;
  check("child-sends", send_fds(sock, '5', &p[1], 1) == 0, "errno %d", errno);
  close(p[1]);
  memset(buf, 0, sizeof(buf));
  got = read(p[0], buf, sizeof(buf) - 1);
  check("parent-wrote-to-child-pipe", got == 6 && !memcmp(buf, "parent", 6), "read %zd", got);
  return g_check_failures ? 1 : 0;
}

int main(void) {
  char path[] = "scm-rights.XXXXXX";
  char tmp_path[] = "/tmp/scm-rights.XXXXXX";
  int file = mkstemp(path);
  int tmp = mkstemp(tmp_path);
  if (file < 0 || tmp < 0) {
    printf("FAIL setup: errno %d\n", errno);
    return 1;
  }
  unlink(path);
  unlink(tmp_path);
  write(file, "paren", 5);
  write(tmp, "TEMP", 4);
  int pair[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
  struct timeval limit = {10, 0};  // a receive that fails does not hang the test
  setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  setsockopt(pair[1], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(pair[0]);
    int failed = child(pair[1]);
    fflush(stdout);  // (the parent's output, buffered too, comes after it: it waits first)
    _exit(failed);
  }
  close(pair[1]);
  // Made after the fork: they cross only by the message.
  int p[2], s[2];
  pipe2(p, O_NONBLOCK);
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  int devnull = open("/dev/null", O_WRONLY);
  write(p[1], "pipe-data", 9);
  int batch[6] = {file, tmp, p[0], s[1], devnull, file};
  check("parent-sends", send_fds(pair[0], '1', batch, 6) == 0, "errno %d", errno);
  close(p[0]);
  close(s[1]);
  char buf[64] = {0};
  ssize_t got = read(s[0], buf, sizeof(buf) - 1);
  check("socket-end-crossed", got == 10 && !memcmp(buf, "via-socket", 10), "read %zd", got);
  check("send-peeked", send_fds(pair[0], '2', &file, 1) == 0, "errno %d", errno);
  int three[3] = {devnull, file, tmp};
  check("send-three", send_fds(pair[0], '3', three, 3) == 0, "errno %d", errno);
  check("send-for-read", send_fds(pair[0], '4', &file, 1) == 0, "errno %d", errno);

  int fds[8], flags = 0;
  char tag = 0;
  int n = recv_fds(pair[0], &tag, fds, 8, 0, &flags);
  check("parent-gets-child-pipe", n == 1 && tag == '5', "%d descriptors", n);
  if (n == 1) {
    write(fds[0], "parent", 6);
    close(fds[0]);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  check("child-ok", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %x", status);
  // What the child wrote through the passed descriptions.
  memset(buf, 0, sizeof(buf));
  got = pread(file, buf, sizeof(buf) - 1, 0);
  check("file-holds-both", got == 10 && !memcmp(buf, "parenchild", 10), "read %zd: %s", got, buf);
  check("file-offset-moved-by-child", lseek(file, 0, SEEK_CUR) == 10, "offset %ld", (long)lseek(file, 0, SEEK_CUR));
  memset(buf, 0, sizeof(buf));
  got = pread(tmp, buf, sizeof(buf) - 1, 0);
  check("tmpfs-holds-both", got == 9 && !memcmp(buf, "TEMPCHILD", 9), "read %zd: %s", got, buf);
  check("tmpfs-offset-moved-by-child", lseek(tmp, 0, SEEK_CUR) == 9, "offset %ld", (long)lseek(tmp, 0, SEEK_CUR));
  return g_check_failures ? 1 : 0;
}
