// Copies between files: sendfile and copy_file_range, their offset rules and their errors.
#include "fsops.h"

#include <sys/sendfile.h>

static const char kText[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static off_t pos_of(int fd) { return lseek(fd, 0, SEEK_CUR); }

static void check_sendfile(void) {
  write_file("src", kText);
  int in = open("src", O_RDONLY);
  int out = open("dst", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  check("sendfile-whole", sendfile(out, in, NULL, 100) == 36, "short copy");
  check("sendfile-whole-content", file_is("dst", kText), "wrong content");
  check("sendfile-moves-input-position", pos_of(in) == 36 && pos_of(out) == 36, "in %ld out %ld", (long)pos_of(in),
        (long)pos_of(out));
  check("sendfile-at-end", sendfile(out, in, NULL, 10) == 0, "not 0 at the end");
  off_t off = 10;
  ftruncate(out, 0);
  lseek(out, 0, SEEK_SET);
  lseek(in, 3, SEEK_SET);
  check("sendfile-offset", sendfile(out, in, &off, 5) == 5, "short copy");
  check("sendfile-offset-content", file_is("dst", "abcde"), "wrong content");
  check("sendfile-offset-updated", off == 15, "offset %ld", (long)off);
  check("sendfile-offset-keeps-position", pos_of(in) == 3, "position %ld", (long)pos_of(in));
  off = -1;
  CHECK_FAILS_WITH("sendfile-negative-offset", sendfile(out, in, &off, 5), EINVAL);
  CHECK_FAILS_WITH("sendfile-efault-offset", sendfile(out, in, BAD_PTR, 5), EFAULT);
  CHECK_FAILS_WITH("sendfile-bad-in", sendfile(out, 9999, NULL, 5), EBADF);
  CHECK_FAILS_WITH("sendfile-bad-out", sendfile(9999, in, NULL, 5), EBADF);
  CHECK_FAILS_WITH("sendfile-in-not-readable", sendfile(in, out, NULL, 5), EBADF);
  int app = open("dst", O_WRONLY | O_APPEND);
  CHECK_FAILS_WITH("sendfile-out-append", sendfile(app, in, NULL, 5), EINVAL);
  close(app);
  check("sendfile-zero-count", sendfile(out, in, NULL, 0) == 0, "not 0");
  close(in);
  close(out);
  // A larger file: more than one internal chunk.
  int big = open("big", O_RDWR | O_CREAT | O_TRUNC, 0644);
  char block[4096];
  for (int i = 0; i < 64; i++) {
    memset(block, 'A' + i % 26, sizeof(block));
    write(big, block, sizeof(block));
  }
  lseek(big, 0, SEEK_SET);
  int copy = open("big-copy", O_RDWR | O_CREAT | O_TRUNC, 0644);
  check("sendfile-large", sendfile(copy, big, NULL, 64 * 4096) == 64 * 4096, "short copy");
  int same = 1;
  for (int i = 0; i < 64 && same; i++) {
    char a[4096], b[4096];
    same = pread(big, a, sizeof(a), i * 4096) == 4096 && pread(copy, b, sizeof(b), i * 4096) == 4096 &&
           !memcmp(a, b, sizeof(a));
  }
  check("sendfile-large-content", same, "data differs");
  close(big);
  close(copy);
}

static void check_copy_file_range(void) {
  write_file("c-src", kText);
  int in = open("c-src", O_RDONLY);
  int out = open("c-dst", O_RDWR | O_CREAT | O_TRUNC, 0644);
  check("copy-file-range", copy_file_range(in, NULL, out, NULL, 100, 0) == 36, "short copy");
  check("copy-file-range-content", file_is("c-dst", kText), "wrong content");
  check("copy-file-range-moves-positions", pos_of(in) == 36 && pos_of(out) == 36, "in %ld out %ld",
        (long)pos_of(in), (long)pos_of(out));
  check("copy-file-range-at-end", copy_file_range(in, NULL, out, NULL, 100, 0) == 0, "not 0");
  loff_t off_in = 26, off_out = 0;
  check("copy-file-range-offsets", copy_file_range(in, &off_in, out, &off_out, 4, 0) == 4, "short copy");
  check("copy-file-range-offsets-updated", off_in == 30 && off_out == 4, "in %ld out %ld", (long)off_in,
        (long)off_out);
  check("copy-file-range-offsets-keep-positions", pos_of(in) == 36 && pos_of(out) == 36, "positions moved");
  char buf[8] = {0};
  pread(out, buf, 4, 0);
  check("copy-file-range-offsets-content", !strcmp(buf, "qrst"), "'%s'", buf);
  off_in = 100;
  check("copy-file-range-past-end", copy_file_range(in, &off_in, out, NULL, 10, 0) == 0, "not 0");
  CHECK_FAILS_WITH("copy-file-range-flags", copy_file_range(in, NULL, out, NULL, 10, 1), EINVAL);
  CHECK_FAILS_WITH("copy-file-range-bad-in", copy_file_range(9999, NULL, out, NULL, 10, 0), EBADF);
  CHECK_FAILS_WITH("copy-file-range-bad-out", copy_file_range(in, NULL, 9999, NULL, 10, 0), EBADF);
  CHECK_FAILS_WITH("copy-file-range-efault", copy_file_range(in, BAD_PTR, out, NULL, 10, 0), EFAULT);
  CHECK_FAILS_WITH("copy-file-range-out-not-writable", copy_file_range(in, NULL, in, NULL, 10, 0), EBADF);
  int app = open("c-dst", O_WRONLY | O_APPEND);
  CHECK_FAILS_WITH("copy-file-range-out-append", copy_file_range(in, NULL, app, NULL, 10, 0), EBADF);
  close(app);
  mkdir("c-dir", 0755);
  int dir = open("c-dir", O_RDONLY | O_DIRECTORY);
  CHECK_FAILS_WITH("copy-file-range-dir", copy_file_range(dir, NULL, out, NULL, 10, 0), EISDIR);
  close(dir);
  // Within one file: allowed apart, refused when the ranges overlap.
  loff_t a = 0, b = 10;
  check("copy-file-range-same-file", copy_file_range(out, &a, out, &b, 4, 0) == 4, "short copy");
  a = 0, b = 2;
  CHECK_FAILS_WITH("copy-file-range-overlap", copy_file_range(out, &a, out, &b, 4, 0), EINVAL);
  off_in = -1;
  CHECK_FAILS_WITH("copy-file-range-negative-offset", copy_file_range(in, &off_in, out, NULL, 4, 0), EOVERFLOW);
  off_in = -8;
  CHECK_FAILS_WITH("copy-file-range-negative-offset-no-wrap", copy_file_range(in, &off_in, out, NULL, 4, 0), EINVAL);
  check("copy-file-range-zero-length", copy_file_range(in, NULL, out, NULL, 0, 0) == 0, "not 0");
  close(in);
  close(out);
}

int main(void) {
  scratch_enter("copies");
  check_sendfile();
  check_copy_file_range();
  return scratch_leave();
}
