// splice, tee and vmsplice: a file into a pipe (at an offset and at the file's position), a
// pipe into a file, a pipe into a pipe, tee's copy that leaves the source as it was,
// vmsplice in both directions, and the errors of each (no pipe, an offset on a pipe, bad
// flags, O_APPEND, one pipe twice, nonblocking on an empty pipe, a pipe without writers).
#include "fsops.h"

#include <sys/uio.h>

static int read_pipe(int fd, char *buf, size_t size) {
  ssize_t n = read(fd, buf, size - 1);
  buf[n > 0 ? n : 0] = '\0';
  return (int)n;
}

int main(void) {
  scratch_enter("splice");
  check("make-src", write_file("src", "0123456789") == 0, "errno %s", errname(errno));
  int src = open("src", O_RDONLY);
  int p[2], q[2];
  check("pipes", pipe(p) == 0 && pipe(q) == 0, "errno %s", errname(errno));
  char buf[64];

  // A file into a pipe, at an offset (the file's position stays) and at the position.
  loff_t off = 2;
  check("file-to-pipe-at", splice(src, &off, p[1], NULL, 4, 0) == 4 && off == 6, "off %lld, errno %s",
        (long long)off, errname(errno));
  check("file-to-pipe-at-data", read_pipe(p[0], buf, sizeof(buf)) == 4 && !strcmp(buf, "2345"), "got '%s'", buf);
  check("file-position-kept", lseek(src, 0, SEEK_CUR) == 0, "at %ld", (long)lseek(src, 0, SEEK_CUR));
  check("file-to-pipe", splice(src, NULL, p[1], NULL, 3, 0) == 3 && lseek(src, 0, SEEK_CUR) == 3, "at %ld",
        (long)lseek(src, 0, SEEK_CUR));
  check("file-to-pipe-data", read_pipe(p[0], buf, sizeof(buf)) == 3 && !strcmp(buf, "012"), "got '%s'", buf);
  check("file-at-end", splice(src, &(loff_t){10}, p[1], NULL, 4, 0) == 0, "errno %s", errname(errno));

  // A pipe into a file: what the pipe holds, up to len.
  int dst = open("dst", O_CREAT | O_RDWR | O_TRUNC, 0644);
  check("fill-pipe", write(p[1], "hello", 5) == 5, "errno %s", errname(errno));
  check("pipe-to-file", splice(p[0], NULL, dst, NULL, 100, 0) == 5 && lseek(dst, 0, SEEK_CUR) == 5, "errno %s",
        errname(errno));
  check("fill-pipe-2", write(p[1], "XY", 2) == 2, "errno %s", errname(errno));
  off = 1;
  check("pipe-to-file-at", splice(p[0], NULL, dst, &off, 100, 0) == 2 && off == 3, "off %lld", (long long)off);
  check("dst-data", pread(dst, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "hXYlo", 5), "got '%.5s'", buf);

  // A pipe into a pipe; tee copies and leaves the source.
  check("fill-p", write(p[1], "abc", 3) == 3, "errno %s", errname(errno));
  check("pipe-to-pipe", splice(p[0], NULL, q[1], NULL, 10, 0) == 3, "errno %s", errname(errno));
  check("pipe-to-pipe-data", read_pipe(q[0], buf, sizeof(buf)) == 3 && !strcmp(buf, "abc"), "got '%s'", buf);
  check("fill-p-tee", write(p[1], "xyz", 3) == 3, "errno %s", errname(errno));
  check("tee", tee(p[0], q[1], 10, 0) == 3, "errno %s", errname(errno));
  check("tee-copy", read_pipe(q[0], buf, sizeof(buf)) == 3 && !strcmp(buf, "xyz"), "got '%s'", buf);
  check("tee-source-kept", read_pipe(p[0], buf, sizeof(buf)) == 3 && !strcmp(buf, "xyz"), "got '%s'", buf);

  // vmsplice: memory into the write end, and out of the read end.
  struct iovec iov[2] = {{"vm", 2}, {"splice", 6}};
  check("vmsplice-in", vmsplice(p[1], iov, 2, 0) == 8, "errno %s", errname(errno));
  char out1[3] = "", out2[7] = "";
  struct iovec back[2] = {{out1, 2}, {out2, 6}};
  check("vmsplice-out", vmsplice(p[0], back, 2, 0) == 8 && !memcmp(out1, "vm", 2) && !memcmp(out2, "splice", 6),
        "got '%.2s' '%.6s', errno %s", out1, out2, errname(errno));

  // Errors.
  CHECK_FAILS_WITH("no-pipe", splice(src, NULL, dst, NULL, 4, 0), EINVAL);
  CHECK_FAILS_WITH("offset-on-pipe", splice(p[0], &(loff_t){0}, dst, NULL, 4, 0), ESPIPE);
  CHECK_FAILS_WITH("offset-on-out-pipe", splice(src, NULL, p[1], &(loff_t){0}, 4, 0), ESPIPE);
  CHECK_FAILS_WITH("bad-flags", splice(src, NULL, p[1], NULL, 4, 0x100), EINVAL);
  CHECK_FAILS_WITH("negative-offset", splice(src, &(loff_t){-1}, p[1], NULL, 4, 0), EINVAL);
  CHECK_FAILS_WITH("offset-efault", splice(src, BAD_PTR, p[1], NULL, 4, 0), EFAULT);
  CHECK_FAILS_WITH("vmsplice-iov-efault", vmsplice(p[1], BAD_PTR, 1, 0), EFAULT);
  CHECK_FAILS_WITH("bad-fd", splice(999, NULL, p[1], NULL, 4, 0), EBADF);
  CHECK_FAILS_WITH("write-only-in", splice(p[1], NULL, q[1], NULL, 4, 0), EBADF);
  int app = open("dst", O_WRONLY | O_APPEND);
  check("fill-for-append", write(p[1], "z", 1) == 1, "errno %s", errname(errno));
  CHECK_FAILS_WITH("append-out", splice(p[0], NULL, app, NULL, 4, 0), EINVAL);
  close(app);
  read_pipe(p[0], buf, sizeof(buf));
  CHECK_FAILS_WITH("nonblock-empty", splice(p[0], NULL, dst, NULL, 4, SPLICE_F_NONBLOCK), EAGAIN);
  CHECK_FAILS_WITH("tee-same-pipe", tee(p[0], p[1], 4, 0), EINVAL);
  CHECK_FAILS_WITH("tee-not-pipe", tee(src, q[1], 4, 0), EINVAL);
  CHECK_FAILS_WITH("tee-nonblock-empty", tee(p[0], q[1], 4, SPLICE_F_NONBLOCK), EAGAIN);
  CHECK_FAILS_WITH("vmsplice-not-pipe", vmsplice(dst, iov, 1, 0), EBADF);
  check("zero-length", splice(src, NULL, p[1], NULL, 0, 0) == 0, "errno %s", errname(errno));
  close(p[1]);
  check("no-writers-eof", splice(p[0], NULL, dst, NULL, 4, 0) == 0, "errno %s", errname(errno));
  close(p[0]);
  close(q[0]);
  close(q[1]);
  close(src);
  close(dst);
  return scratch_leave();
}
