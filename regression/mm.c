// Memory: mmap (anonymous, file-backed private and shared, MAP_FIXED, MAP_FIXED_NOREPLACE),
// munmap and mprotect splitting ranges, mremap, madvise, msync, mincore, brk, and their
// errno values. Run with a scratch file name in a writable directory as argv[1].
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static const long k_page = 4096;

static void check_anonymous(void) {
  char *p = mmap(NULL, 4 * k_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check("anon_map", p != MAP_FAILED, "mmap failed: %s", strerrorname_np(errno));
  if (p == MAP_FAILED) return;
  int zero = 1;
  for (long i = 0; i < 4 * k_page; i++) zero &= p[i] == 0;
  check("anon_zeroed", zero, "fresh anonymous memory is not zero");
  memset(p, 0x5a, 4 * k_page);
  // Unmapping the middle splits the mapping; both ends stay usable.
  check("munmap_middle", munmap(p + k_page, 2 * k_page) == 0, "%s", strerrorname_np(errno));
  check("ends_survive", p[0] == 0x5a && p[3 * k_page] == 0x5a, "data lost");
  unsigned char vec[4];
  CHECK_FAILS_WITH("mincore_hole_enomem", mincore(p, 4 * k_page, vec), ENOMEM);
  check("mincore_first", mincore(p, k_page, vec) == 0 && (vec[0] & 1), "page not resident");
  CHECK_FAILS_WITH("mprotect_hole_enomem", mprotect(p, 4 * k_page, PROT_READ), ENOMEM);
  // MAP_FIXED_NOREPLACE into the hole works once, then reports EEXIST.
  char *q = mmap(p + k_page, k_page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  check("fixed_noreplace_hole", q == p + k_page, "got %s", q == MAP_FAILED ? strerrorname_np(errno) : "another address");
  CHECK_FAILS_WITH("fixed_noreplace_eexist",
                   mmap(p, k_page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
                   EEXIST);
  // MAP_FIXED replaces and zeroes.
  char *r = mmap(p, k_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  check("fixed_replaces", r == p && p[0] == 0, "MAP_FIXED did not give fresh zero memory");
  // madvise(DONTNEED) zeroes private anonymous memory.
  p[k_page] = 7;
  check("madvise_dontneed", madvise(p + k_page, k_page, MADV_DONTNEED) == 0 && p[k_page] == 0,
        "page kept its data");
  CHECK_FAILS_WITH("madvise_unaligned", madvise(p + 1, k_page, MADV_DONTNEED), EINVAL);
  CHECK_FAILS_WITH("madvise_bad_advice", madvise(p, k_page, 12345), EINVAL);
  check("munmap_all", munmap(p, 4 * k_page) == 0, "%s", strerrorname_np(errno));
  check("munmap_again_ok", munmap(p, 4 * k_page) == 0, "munmap of unmapped memory failed");
}

static void check_errors(void) {
  CHECK_FAILS_WITH("mmap_len0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
  CHECK_FAILS_WITH("mmap_no_type", mmap(NULL, k_page, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
  CHECK_FAILS_WITH("mmap_fixed_unaligned",
                   mmap((void *)0x10001, k_page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                   EINVAL);
  CHECK_FAILS_WITH("mmap_bad_fd", mmap(NULL, k_page, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
  CHECK_FAILS_WITH("mmap_huge", mmap(NULL, (size_t)1 << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                   ENOMEM);
  CHECK_FAILS_WITH("munmap_unaligned", munmap((void *)0x10001, k_page), EINVAL);
  CHECK_FAILS_WITH("munmap_len0", munmap((void *)0x10000, 0), EINVAL);
  CHECK_FAILS_WITH("mprotect_unaligned", mprotect((void *)0x10001, k_page, PROT_READ), EINVAL);
  CHECK_FAILS_WITH("mremap_bad_flags", mremap((void *)0x10000, k_page, k_page, 0x100), EINVAL);
  CHECK_FAILS_WITH("msync_unmapped", msync((void *)0x10000, k_page, MS_SYNC), ENOMEM);
  CHECK_FAILS_WITH("msync_both_flags", msync((void *)0x10000, k_page, MS_SYNC | MS_ASYNC), EINVAL);
}

static void check_protect(void) {
  char *p = mmap(NULL, 3 * k_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  check("mprotect_middle", mprotect(p + k_page, k_page, PROT_READ) == 0, "%s", strerrorname_np(errno));
  // (That a write to the read-only page faults is checked with the signal tests.)
  check("readonly_still_readable", p[k_page] == 0, "the read-only page lost its data");
  p[0] = 1;
  p[2 * k_page] = 1;
  check("neighbours_writable", p[0] == 1 && p[2 * k_page] == 1, "neighbours changed");
  munmap(p, 3 * k_page);
}

static void check_mremap(void) {
  char *p = mmap(NULL, 2 * k_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  p[0] = 'a';
  p[k_page] = 'b';
  char *q = mremap(p, 2 * k_page, k_page, 0);
  check("mremap_shrink", q == p && p[0] == 'a', "shrink moved or lost data");
  char *big = mremap(p, k_page, 64 * k_page, MREMAP_MAYMOVE);
  check("mremap_grow_move", big != MAP_FAILED && big[0] == 'a' && big[63 * k_page] == 0,
        "grow lost data or the new part is not zero");
  CHECK_FAILS_WITH("mremap_unmapped", mremap((void *)0x10000, k_page, 2 * k_page, MREMAP_MAYMOVE), EFAULT);
  if (big != MAP_FAILED) munmap(big, 64 * k_page);
}

static void check_file(const char *path) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  check("file_create", fd >= 0, "%s", strerrorname_np(errno));
  if (fd < 0) return;
  char page[4096];
  memset(page, 'x', sizeof(page));
  check("file_write", write(fd, page, sizeof(page)) == sizeof(page) && write(fd, page, 100) == 100,
        "short write");
  // Private: writes stay in memory. The part of the last page past EOF reads zero.
  char *p = mmap(NULL, 2 * k_page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  check("file_map_private", p != MAP_FAILED, "%s", strerrorname_np(errno));
  if (p != MAP_FAILED) {
    check("file_bytes", p[0] == 'x' && p[k_page + 99] == 'x' && p[k_page + 100] == 0, "wrong bytes");
    p[0] = 'P';
    char c;
    pread(fd, &c, 1, 0);
    check("private_write_stays", c == 'x', "a private write reached the file");
    munmap(p, 2 * k_page);
  }
  // Shared: writes reach the file, msync flushes them.
  char *s = mmap(NULL, k_page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check("file_map_shared", s != MAP_FAILED, "%s", strerrorname_np(errno));
  if (s != MAP_FAILED) {
    s[1] = 'S';
    check("msync", msync(s, k_page, MS_SYNC) == 0, "%s", strerrorname_np(errno));
    char c;
    pread(fd, &c, 1, 1);
    check("shared_write_reaches_file", c == 'S', "the file has %c", c);
    munmap(s, k_page);
  }
  int ro = open(path, O_RDONLY);
  CHECK_FAILS_WITH("shared_write_on_readonly_eacces", mmap(NULL, k_page, PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
  char *rp = mmap(NULL, k_page, PROT_READ, MAP_SHARED, ro, 0);
  CHECK_FAILS_WITH("mprotect_write_on_readonly_shared_eacces", mprotect(rp, k_page, PROT_READ | PROT_WRITE),
                   EACCES);
  munmap(rp, k_page);
  CHECK_FAILS_WITH("mmap_offset_unaligned", mmap(NULL, k_page, PROT_READ, MAP_PRIVATE, ro, 100), EINVAL);
  int wo = open(path, O_WRONLY);
  CHECK_FAILS_WITH("mmap_writeonly_eacces", mmap(NULL, k_page, PROT_READ, MAP_PRIVATE, wo, 0), EACCES);
  close(wo);
  close(ro);
  close(fd);
  unlink(path);
}

static void check_brk(void) {
  void *start = sbrk(0);
  check("sbrk_grow", sbrk(3 * k_page) == start, "sbrk did not return the old break");
  char *mem = start;
  mem[0] = 1;
  mem[3 * k_page - 1] = 2;
  check("brk_memory_usable", mem[0] == 1 && mem[3 * k_page - 1] == 2, "heap memory lost");
  check("sbrk_shrink", sbrk(-3 * k_page) != (void *)-1 && sbrk(0) == start, "shrink failed");
  check("sbrk_regrow_zero", sbrk(k_page) == start && mem[0] == 0, "regrown heap is not zero");
  sbrk(-k_page);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: mm SCRATCH-FILE\n");
    return 2;
  }
  check_anonymous();
  check_errors();
  check_protect();
  check_mremap();
  // Named per process: the native and Carbyne runs of this test may overlap.
  char path[4096];
  snprintf(path, sizeof(path), "%s.%d", argv[1], (int)getpid());
  check_file(path);
  check_brk();
  return check_exit_status();
}
