// Freeing pages that fallocate reserved and nothing wrote: Carbyne's tmpfs put every freed
// page on its free list by writing a link into the page, so closing a memfd after
// fallocate(3.7 GB) touched every page, committed all that memory and took seconds.
// Freeing untouched pages must cost nothing; pages reused afterwards must still read as
// zeros.
//
// Linux's fallocate allocates and clears the pages of a memfd, and freeing them costs less
// than that: the release must take under 2 s or, on a slow host, under twice the
// fallocate. The pages are not mapped, so the peak resident size must not grow either.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

#define GIB (1L << 30)
#define MIB (1L << 20)

static long monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// The process's peak resident size, MiB.
static long max_rss_mib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

// A memfd with `size` bytes fallocated; -1 (and a FAIL) when that fails. *took_ms gets
// the time the fallocate took.
static int fallocated(const char *name, long size, long *took_ms) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) {
    check(name, 0, "memfd_create: %s", strerrorname_np(errno));
    return -1;
  }
  long start = monotonic_ms();
  int r = fallocate(fd, 0, 0, size);
  *took_ms = monotonic_ms() - start;
  if (r != 0) {
    check(name, 0, "fallocate: %s", strerrorname_np(errno));
    close(fd);
    return -1;
  }
  struct stat st;
  fstat(fd, &st);
  check(name, st.st_size == size, "size %lld after fallocate", (long long)st.st_size);
  return fd;
}

enum release { CLOSE, TRUNCATE, FALLOCATE_AGAIN_CLOSE };

// Releasing the pages of a file of `size` fallocated bytes, by close or by truncation; or
// by close after a second fallocate of the same range (which makes the pages data to
// SEEK_DATA, but still holds only zeros).
static void release_case(const char *name, long size, enum release how) {
  long rss = max_rss_mib();
  long reserve_ms;
  int fd = fallocated(name, size, &reserve_ms);
  if (fd < 0)
    return;
  if (how == FALLOCATE_AGAIN_CLOSE && fallocate(fd, 0, 0, size) != 0)
    check(name, 0, "the second fallocate: %s", strerrorname_np(errno));
  long start = monotonic_ms();
  int r = how == TRUNCATE ? ftruncate(fd, 0) : close(fd);
  long took = monotonic_ms() - start;
  char label[128];
  snprintf(label, sizeof(label), "%s-released-promptly", name);
  check(label, r == 0 && (took < 2000 || took < 2 * reserve_ms), "returned %d, %s", r,
        took < 2000 ? "in time" : "took over 2 s and twice the fallocate");
  long grew = max_rss_mib() - rss;
  snprintf(label, sizeof(label), "%s-not-committed", name);
  check(label, grew < 256, "peak resident size grew by %s", grew < 1024 ? "over 256 MiB" : "GiBs");
  if (how == TRUNCATE)
    close(fd);
}

// Pages freed above are handed out again: what was never written must read as zeros,
// what was written must read back.
static void reuse_case(void) {
  const long size = 64 * MIB;
  long reserve_ms;
  int fd = fallocated("reuse", size, &reserve_ms);
  if (fd < 0)
    return;
  static const char mark[] = "written";
  for (long at = 0; at < size; at += 1 * MIB + 4096)
    pwrite(fd, mark, sizeof(mark), at + 100);
  char *buf = malloc(MIB);
  int zeros = 1, marks = 1;
  for (long at = 0; at < size; at += MIB) {
    if (pread(fd, buf, MIB, at) != MIB) {
      zeros = marks = 0;
      break;
    }
    for (long i = 0; i < MIB; i++) {
      long pos = at + i;
      long in = pos % (1 * MIB + 4096);
      if (in >= 100 && in < 100 + (long)sizeof(mark) && pos - in + 100 + (long)sizeof(mark) <= size) {
        if (buf[i] != mark[in - 100])
          marks = 0;
      } else if (buf[i]) {
        zeros = 0;
      }
    }
  }
  free(buf);
  check("reuse-unwritten-reads-zeros", zeros, "nonzero bytes where nothing was written");
  check("reuse-written-reads-back", marks, "written bytes differ");
  // Written pages freed and fallocated again read as zeros too.
  ftruncate(fd, 0);
  fallocate(fd, 0, 0, size);
  char byte = 1;
  int clear = 1;
  for (long at = 0; at < size; at += 1 * MIB + 4096) {
    if (pread(fd, &byte, 1, at + 100) != 1 || byte)
      clear = 0;
  }
  check("reuse-rewritten-reads-zeros", clear, "old data read back after truncation");
  close(fd);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  release_case("close-2gib", 2 * GIB, CLOSE);
  release_case("truncate-512mib", 512 * MIB, TRUNCATE);
  release_case("fallocate-again-close-1gib", 1 * GIB, FALLOCATE_AGAIN_CLOSE);
  reuse_case();
  return check_exit_status();
}
