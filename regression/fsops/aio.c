// Native asynchronous I/O (io_setup, io_submit, io_getevents, io_pgetevents, io_cancel,
// io_destroy): pwrite, pread, their vector forms, fsync and an eventfd told of each
// completion; what the events carry (data, the iocb, the result); a wait that times out;
// and the errors of each call.
#include "fsops.h"

#include <linux/aio_abi.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>

static long io_setup_(unsigned nr, aio_context_t *ctx) { return syscall(SYS_io_setup, nr, ctx); }
static long io_destroy_(aio_context_t ctx) { return syscall(SYS_io_destroy, ctx); }
static long io_submit_(aio_context_t ctx, long nr, struct iocb **cbs) { return syscall(SYS_io_submit, ctx, nr, cbs); }
static long io_getevents_(aio_context_t ctx, long min, long nr, struct io_event *ev, struct timespec *ts) {
  return syscall(SYS_io_getevents, ctx, min, nr, ev, ts);
}

static struct iocb make_cb(int op, int fd, void *buf, size_t n, long long off, unsigned long long data) {
  struct iocb cb;
  memset(&cb, 0, sizeof(cb));
  cb.aio_lio_opcode = (unsigned short)op;
  cb.aio_fildes = (unsigned)fd;
  cb.aio_buf = (unsigned long long)(uintptr_t)buf;
  cb.aio_nbytes = n;
  cb.aio_offset = off;
  cb.aio_data = data;
  return cb;
}

// Submits one request and takes its completion; the event's res, or a large negative
// number when something else failed.
static long long one(aio_context_t ctx, struct iocb *cb) {
  struct iocb *list[1] = {cb};
  if (io_submit_(ctx, 1, list) != 1)
    return -100000 - errno;
  struct io_event ev;
  if (io_getevents_(ctx, 1, 1, &ev, NULL) != 1)
    return -200000 - errno;
  if (ev.data != cb->aio_data || ev.obj != (unsigned long long)(uintptr_t)cb)
    return -300000;
  return ev.res;
}

int main(void) {
  scratch_enter("aio");
  aio_context_t ctx = 0;
  check("setup", io_setup_(8, &ctx) == 0 && ctx != 0, "errno %s", errname(errno));
  aio_context_t again = ctx;
  CHECK_FAILS_WITH("setup-nonzero-ctx", io_setup_(8, &again), EINVAL);
  aio_context_t zero = 0;
  CHECK_FAILS_WITH("setup-zero-events", io_setup_(0, &zero), EINVAL);
  CHECK_FAILS_WITH("setup-efault", io_setup_(8, BAD_PTR), EFAULT);

  int fd = open("data", O_CREAT | O_RDWR | O_TRUNC, 0644);
  struct iocb w = make_cb(IOCB_CMD_PWRITE, fd, "hello aio", 9, 0, 11);
  long long wrote = one(ctx, &w);
  check("pwrite", wrote == 9, "res %lld", wrote);
  char buf[32] = "";
  struct iocb r = make_cb(IOCB_CMD_PREAD, fd, buf, sizeof(buf), 0, 22);
  long long res = one(ctx, &r);
  check("pread", res == 9 && !memcmp(buf, "hello aio", 9), "res %lld '%s'", res, buf);
  struct iocb eof = make_cb(IOCB_CMD_PREAD, fd, buf, sizeof(buf), 100, 23);
  check("pread-past-end", one(ctx, &eof) == 0, "res");
  struct iovec wv[2] = {{"ab", 2}, {"cd", 2}};
  struct iocb pv = make_cb(IOCB_CMD_PWRITEV, fd, wv, 2, 20, 33);
  check("pwritev", one(ctx, &pv) == 4, "res");
  char x[2], y[2];
  struct iovec rv[2] = {{x, 2}, {y, 2}};
  struct iocb prv = make_cb(IOCB_CMD_PREADV, fd, rv, 2, 20, 44);
  check("preadv", one(ctx, &prv) == 4 && !memcmp(x, "ab", 2) && !memcmp(y, "cd", 2), "res");
  struct iocb sync = make_cb(IOCB_CMD_FSYNC, fd, NULL, 0, 0, 55);
  check("fsync", one(ctx, &sync) == 0, "res");

  // An eventfd counts completions.
  int efd = eventfd(0, EFD_NONBLOCK);
  struct iocb told = make_cb(IOCB_CMD_PREAD, fd, buf, 4, 0, 66);
  told.aio_flags = IOCB_FLAG_RESFD;
  told.aio_resfd = (unsigned)efd;
  one(ctx, &told);
  uint64_t count = 0;
  check("resfd", read(efd, &count, 8) == 8 && count == 1, "count %llu", (unsigned long long)count);

  // Several at once, then a wait that times out.
  struct iocb a1 = make_cb(IOCB_CMD_PREAD, fd, buf, 2, 0, 1), a2 = make_cb(IOCB_CMD_PREAD, fd, buf + 2, 2, 2, 2);
  struct iocb *both[2] = {&a1, &a2};
  check("submit-two", io_submit_(ctx, 2, both) == 2, "errno %s", errname(errno));
  struct io_event evs[4];
  check("getevents-two", io_getevents_(ctx, 2, 4, evs, NULL) == 2 && evs[0].data + evs[1].data == 3, "errno %s",
        errname(errno));
  struct timespec ts = {0, 10000000};
  check("getevents-timeout", io_getevents_(ctx, 1, 4, evs, &ts) == 0, "errno %s", errname(errno));
  check("pgetevents-none", syscall(SYS_io_pgetevents, ctx, 0, 4, evs, &ts, NULL) == 0, "errno %s", errname(errno));

  // Errors.
  CHECK_FAILS_WITH("submit-negative", io_submit_(ctx, -1, both), EINVAL);
  CHECK_FAILS_WITH("submit-bad-ctx", io_submit_(12345, 1, both), EINVAL);
  struct iocb bad = make_cb(IOCB_CMD_PREAD, 999, buf, 4, 0, 0);
  struct iocb *badl[1] = {&bad};
  CHECK_FAILS_WITH("submit-bad-fd", io_submit_(ctx, 1, badl), EBADF);
  bad = make_cb(99, fd, buf, 4, 0, 0);
  CHECK_FAILS_WITH("submit-bad-opcode", io_submit_(ctx, 1, badl), EINVAL);
  bad = make_cb(IOCB_CMD_PREAD, fd, buf, 4, -1, 0);
  CHECK_FAILS_WITH("submit-negative-offset", io_submit_(ctx, 1, badl), EINVAL);
  int wo = open("data", O_WRONLY);
  bad = make_cb(IOCB_CMD_PREAD, wo, buf, 4, 0, 0);
  CHECK_FAILS_WITH("submit-read-write-only", io_submit_(ctx, 1, badl), EBADF);
  bad = make_cb(IOCB_CMD_PREAD, fd, buf, 4, 0, 0);
  bad.aio_reserved2 = 1;
  CHECK_FAILS_WITH("submit-reserved", io_submit_(ctx, 1, badl), EINVAL);
  struct iocb *nowhere[1] = {BAD_PTR};
  CHECK_FAILS_WITH("submit-efault", io_submit_(ctx, 1, nowhere), EFAULT);
  CHECK_FAILS_WITH("getevents-min-over-nr", io_getevents_(ctx, 3, 2, evs, NULL), EINVAL);
  CHECK_FAILS_WITH("getevents-bad-ctx", io_getevents_(12345, 0, 1, evs, NULL), EINVAL);
  struct io_event result;
  CHECK_FAILS_WITH("cancel-completed", syscall(SYS_io_cancel, ctx, &w, &result), EINVAL);
  check("destroy", io_destroy_(ctx) == 0, "errno %s", errname(errno));
  CHECK_FAILS_WITH("destroy-again", io_destroy_(ctx), EINVAL);
  close(wo);
  close(efd);
  close(fd);
  return scratch_leave();
}
