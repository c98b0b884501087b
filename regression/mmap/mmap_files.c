// mmap of files whose data lives in memory: memfd_create files and files on the directory
// given (/tmp: under Carbyne its tmpfs, natively the host's /tmp). MAP_SHARED maps alias
// each other and the file (read, write, pwrite, ftruncate, fallocate), MAP_PRIVATE copies,
// a page wholly past the end raises SIGBUS, msync and munmap, and the access checks.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "../tmpfs/scratch.h"

enum { k_page = 4096 };

static sigjmp_buf g_env;

static void on_fault(int sig) { siglongjmp(g_env, sig); }

// Reads (or writes, with `value` >= 0) one byte at `p`; returns the signal it raised, or 0
// with the byte read in *out.
static int probe(volatile char *p, int value, char *out) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_fault;
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  int sig = sigsetjmp(g_env, 1);
  if (!sig) {
    if (value >= 0)
      *p = (char)value;
    else if (out)
      *out = *p;
    else
      (void)*p;
  }
  signal(SIGBUS, SIG_DFL);
  signal(SIGSEGV, SIG_DFL);
  return sig;
}

static const char *signame(int sig) { return sig ? sigabbrev_np(sig) : "none"; }

static int all_zero(const char *p, size_t size) {
  for (size_t i = 0; i < size; i++)
    if (p[i])
      return 0;
  return 1;
}

static off_t size_of(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_size : -1;
}

// Whether /proc/self/maps shows [p, p + size) with perms `perms` and a name ending in `name`.
static int maps_shows(void *p, size_t size, const char *perms, const char *name) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f)
    return 0;
  char line[1024];
  int found = 0;
  while (fgets(line, sizeof(line), f)) {
    unsigned long start, end;
    char seen_perms[8];
    if (sscanf(line, "%lx-%lx %7s", &start, &end, seen_perms) != 3)
      continue;
    if (start != (unsigned long)p || end != (unsigned long)p + size)
      continue;
    line[strcspn(line, "\n")] = '\0';
    size_t len = strlen(line), name_len = strlen(name);
    found = !strcmp(seen_perms, perms) && len >= name_len && !strcmp(line + len - name_len, name);
  }
  fclose(f);
  return found;
}

static void check_memfd(void) {
  int fd = memfd_create("mmap test", 0);
  check("memfd-create", fd >= 0, "errno %s", strerrorname_np(errno));
  check("memfd-ftruncate", ftruncate(fd, 3 * k_page) == 0 && size_of(fd) == 3 * k_page, "size %ld",
        (long)size_of(fd));

  char *p = mmap(NULL, 3 * k_page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check("memfd-map-shared", p != MAP_FAILED, "errno %s", strerrorname_np(errno));
  if (p == MAP_FAILED)
    exit(1);
  check("memfd-map-zeros", all_zero(p, 3 * k_page), "not zeros");
  check("memfd-maps-line", maps_shows(p, 3 * k_page, "rw-s", "/memfd:mmap test (deleted)"),
        "no rw-s line named /memfd:mmap test (deleted)");

  char buf[64] = {0};
  memcpy(p + 100, "through the map", 15);
  check("memfd-map-write-seen-by-pread", pread(fd, buf, 15, 100) == 15 && !memcmp(buf, "through the map", 15),
        "read %.15s", buf);
  check("memfd-pwrite-seen-by-map", pwrite(fd, "by pwrite", 9, k_page + 5) == 9 && !memcmp(p + k_page + 5, "by pwrite", 9),
        "map has %.9s", p + k_page + 5);
  check("memfd-write-seen-by-map",
        lseek(fd, 2 * k_page, SEEK_SET) == 2 * k_page && write(fd, "by write", 8) == 8 &&
            !memcmp(p + 2 * k_page, "by write", 8),
        "map has %.8s", p + 2 * k_page);
  check("memfd-size-kept", size_of(fd) == 3 * k_page, "size %ld", (long)size_of(fd));

  // A second shared map of the same file, and one at an offset, alias the first.
  char *q = mmap(NULL, 3 * k_page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char *r = mmap(NULL, k_page, PROT_READ, MAP_SHARED, fd, k_page);
  check("memfd-second-map", q != MAP_FAILED && r != MAP_FAILED && q != p, "errno %s", strerrorname_np(errno));
  q[300] = 'Q';
  p[301] = 'P';
  check("memfd-maps-alias", p[300] == 'Q' && q[301] == 'P' && !memcmp(q + 100, "through the map", 15),
        "p[300]=%d q[301]=%d", p[300], q[301]);
  check("memfd-offset-map", !memcmp(r + 5, "by pwrite", 9), "has %.9s", r + 5);

  // A private map starts with the file's data; its writes stay its own.
  char *v = mmap(NULL, 2 * k_page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  check("memfd-map-private", v != MAP_FAILED, "errno %s", strerrorname_np(errno));
  check("memfd-private-initial", !memcmp(v + 100, "through the map", 15) && v[300] == 'Q', "has %.15s", v + 100);
  memcpy(v + 100, "PRIVATE", 7);
  memset(buf, 0, sizeof(buf));
  check("memfd-private-not-in-file", pread(fd, buf, 7, 100) == 7 && !memcmp(buf, "through", 7),
        "file has %.7s", buf);
  check("memfd-private-not-in-shared", !memcmp(p + 100, "through", 7), "map has %.7s", p + 100);

  // fallocate: a punched hole reads as zeros through the map.
  memset(p + k_page, 'h', k_page);
  check("memfd-punch-hole",
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, k_page, k_page) == 0 && all_zero(p + k_page, k_page) &&
            size_of(fd) == 3 * k_page,
        "errno %s", strerrorname_np(errno));

  // Shrinking: the rest of the last page reads as zeros, a page wholly past the end faults.
  memcpy(p + k_page, "0123456789abcdef", 16);
  check("memfd-shrink", ftruncate(fd, k_page + 10) == 0 && size_of(fd) == k_page + 10, "size %ld",
        (long)size_of(fd));
  char c = 1;
  int sig = probe(p + k_page + 20, -1, &c);
  check("memfd-tail-zero", sig == 0 && c == 0 && !memcmp(p + k_page, "0123456789", 10), "signal %s, byte %d",
        signame(sig), c);
  sig = probe(p + 2 * k_page, -1, NULL);
  check("memfd-past-end-sigbus", sig == SIGBUS, "signal %s", signame(sig));
  sig = probe(q + 2 * k_page + 1, 'x', NULL);
  check("memfd-past-end-write-sigbus", sig == SIGBUS, "signal %s", signame(sig));
  // Writing through the map inside the last page does not grow the file (what it wrote
  // past the end may show again if the file grows: Linux does not clear it).
  p[k_page + 100] = 'w';
  check("memfd-map-write-keeps-size", size_of(fd) == k_page + 10, "size %ld", (long)size_of(fd));

  // Growing again: the new part is zeros, the page is back.
  check("memfd-grow", ftruncate(fd, 3 * k_page) == 0 && size_of(fd) == 3 * k_page, "size %ld", (long)size_of(fd));
  sig = probe(p + 2 * k_page, -1, &c);
  check("memfd-grown-page-zero", sig == 0 && c == 0 && all_zero(p + k_page + 10, 80) && all_zero(p + 2 * k_page, k_page),
        "signal %s", signame(sig));

  // pwrite past the end grows the file and shows in a map longer than it was.
  check("memfd-extend-by-pwrite", ftruncate(fd, k_page) == 0 && pwrite(fd, "far", 3, 2 * k_page + 7) == 3 &&
                                      size_of(fd) == 2 * k_page + 10 && !memcmp(p + 2 * k_page + 7, "far", 3),
        "size %ld", (long)size_of(fd));

  check("memfd-msync", msync(p, 3 * k_page, MS_SYNC) == 0 && msync(p, k_page, MS_ASYNC | MS_INVALIDATE) == 0,
        "errno %s", strerrorname_np(errno));

  struct stat st;
  check("memfd-blocks", fstat(fd, &st) == 0 && st.st_blocks > 0, "st_blocks %ld", (long)st.st_blocks);

  // Unmapped, the data stays with the file; a new map sees it.
  p[5] = 'k';
  check("memfd-munmap", munmap(p, 3 * k_page) == 0 && munmap(q, 3 * k_page) == 0 && munmap(r, k_page) == 0 &&
                            munmap(v, 2 * k_page) == 0,
        "errno %s", strerrorname_np(errno));
  memset(buf, 0, sizeof(buf));
  check("memfd-reread-after-munmap", pread(fd, buf, 15, 100) == 15 && !memcmp(buf, "through the map", 15) &&
                                         pread(fd, buf, 1, 5) == 1 && buf[0] == 'k',
        "read %.15s", buf);
  char *again = mmap(NULL, k_page, PROT_READ, MAP_SHARED, fd, 0);
  check("memfd-map-again", again != MAP_FAILED && again[5] == 'k' && again[300] == 'Q', "errno %s",
        strerrorname_np(errno));
  if (again != MAP_FAILED)
    munmap(again, k_page);

  // A map outlives the descriptor.
  char *kept = mmap(NULL, k_page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  check("memfd-map-after-close", kept != MAP_FAILED && kept[5] == 'k' && (kept[6] = 'z') == 'z', "lost");
  if (kept != MAP_FAILED)
    munmap(kept, k_page);

  // A memfd written before it is first mapped: the data comes along.
  fd = memfd_create("prefilled", MFD_CLOEXEC);
  char page[k_page];
  for (int i = 0; i < k_page; i++)
    page[i] = (char)('a' + i % 26);
  int wrote = 1;
  for (int i = 0; i < 8; i++)
    wrote &= pwrite(fd, page, k_page, (off_t)i * 2 * k_page) == k_page;  // every other page a hole
  wrote &= pwrite(fd, "end", 3, 16 * k_page) == 3;
  check("prefilled-write", wrote, "errno %s", strerrorname_np(errno));
  char *m = mmap(NULL, 17 * k_page, PROT_READ, MAP_PRIVATE, fd, 0);
  int same = m != MAP_FAILED;
  for (int i = 0; same && i < 8; i++)
    same = !memcmp(m + i * 2 * k_page, page, k_page) && all_zero(m + (i * 2 + 1) * k_page, k_page);
  check("prefilled-map", same && !memcmp(m + 16 * k_page, "end", 3) && all_zero(m + 16 * k_page + 3, k_page - 3),
        "data differs");
  check("prefilled-size", size_of(fd) == 16 * k_page + 3, "size %ld", (long)size_of(fd));
  memset(buf, 0, sizeof(buf));
  check("prefilled-read-after-map", pread(fd, buf, 26, 2 * k_page) == 26 && !memcmp(buf, page, 26) &&
                                        pread(fd, buf, 8, k_page) == 8 && all_zero(buf, 8),
        "read %.26s", buf);
  if (m != MAP_FAILED)
    munmap(m, 17 * k_page);
  close(fd);
}

static void check_tmpfs_file(void) {
  const char *path = at("mapped");
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
  check("file-create", fd >= 0, "errno %s", strerrorname_np(errno));
  char data[2 * k_page + 100];
  for (size_t i = 0; i < sizeof(data); i++)
    data[i] = (char)('A' + i % 23);
  check("file-write", write(fd, data, sizeof(data)) == (ssize_t)sizeof(data), "errno %s", strerrorname_np(errno));

  char *s = mmap(NULL, 3 * k_page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check("file-map-shared", s != MAP_FAILED, "errno %s", strerrorname_np(errno));
  if (s == MAP_FAILED)
    exit(1);
  check("file-map-content", !memcmp(s, data, sizeof(data)) && all_zero(s + sizeof(data), k_page - 100),
        "content differs");
  char *name = strrchr(path, '/');
  check("file-maps-line", maps_shows(s, 3 * k_page, "rw-s", name), "no rw-s line for the file");

  memcpy(s + 10, "SHARED", 6);
  int other = open(path, O_RDONLY);
  char buf[64] = {0};
  check("file-map-write-seen-by-read", other >= 0 && pread(other, buf, 6, 10) == 6 && !memcmp(buf, "SHARED", 6),
        "read %.6s", buf);
  check("file-write-seen-by-map", pwrite(fd, "pw", 2, k_page) == 2 && !memcmp(s + k_page, "pw", 2), "map has %.2s",
        s + k_page);
  check("file-append-seen-by-map", lseek(fd, 0, SEEK_END) == (off_t)sizeof(data) && write(fd, "tail", 4) == 4 &&
                                       !memcmp(s + sizeof(data), "tail", 4),
        "map has %.4s", s + sizeof(data));
  check("file-size", size_of(fd) == (off_t)sizeof(data) + 4, "size %ld", (long)size_of(fd));

  // Through a read-only descriptor: shared read-only maps alias, writable ones are refused.
  char *ro = mmap(NULL, k_page, PROT_READ, MAP_SHARED, other, 0);
  check("file-ro-map-shared", ro != MAP_FAILED && !memcmp(ro + 10, "SHARED", 6), "errno %s", strerrorname_np(errno));
  CHECK_FAILS_WITH("file-ro-map-shared-write-eacces", mmap(NULL, k_page, PROT_READ | PROT_WRITE, MAP_SHARED, other, 0),
                   EACCES);
  if (ro != MAP_FAILED)
    CHECK_FAILS_WITH("file-ro-mprotect-write-eacces", mprotect(ro, k_page, PROT_READ | PROT_WRITE), EACCES);
  char *priv = mmap(NULL, k_page, PROT_READ | PROT_WRITE, MAP_PRIVATE, other, 0);
  check("file-ro-map-private-write", priv != MAP_FAILED, "errno %s", strerrorname_np(errno));
  if (priv != MAP_FAILED) {
    priv[10] = 'p';
    check("file-private-copy", s[10] == 'S' && ro[10] == 'S', "shared map has %c", s[10]);
    munmap(priv, k_page);
  }
  int wo = open(path, O_WRONLY);
  CHECK_FAILS_WITH("file-wo-map-eacces", mmap(NULL, k_page, PROT_READ, MAP_SHARED, wo, 0), EACCES);
  close(wo);

  // A file first mapped private is copied, and the file stays as it was.
  int fd2 = open(at("private"), O_RDWR | O_CREAT | O_EXCL, 0600);
  check("file-private-write", fd2 >= 0 && write(fd2, "original", 8) == 8, "errno %s", strerrorname_np(errno));
  char *pv = mmap(NULL, k_page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd2, 0);
  check("file-private-map", pv != MAP_FAILED && !memcmp(pv, "original", 8), "errno %s", strerrorname_np(errno));
  if (pv != MAP_FAILED) {
    memcpy(pv, "modified", 8);
    memset(buf, 0, sizeof(buf));
    check("file-private-not-written", pread(fd2, buf, 8, 0) == 8 && !memcmp(buf, "original", 8) &&
                                          size_of(fd2) == 8,
          "file has %.8s", buf);
    munmap(pv, k_page);
  }
  close(fd2);

  check("file-msync", msync(s, 3 * k_page, MS_SYNC) == 0, "errno %s", strerrorname_np(errno));
  check("file-munmap", munmap(s, 3 * k_page) == 0 && (ro == MAP_FAILED || munmap(ro, k_page) == 0), "errno %s",
        strerrorname_np(errno));
  close(fd);
  close(other);

  // After the maps are gone: the data is in the file, through a fresh open and stat.
  fd = open(path, O_RDONLY);
  memset(buf, 0, sizeof(buf));
  check("file-reread-after-munmap", fd >= 0 && pread(fd, buf, 6, 10) == 6 && !memcmp(buf, "SHARED", 6), "read %.6s",
        buf);
  struct stat st;
  check("file-stat-after-munmap", stat(path, &st) == 0 && st.st_size == (off_t)sizeof(data) + 4 && st.st_blocks > 0,
        "size %ld", (long)st.st_size);
  // O_TRUNC on a file that has been mapped, then written again.
  int t = open(path, O_RDWR | O_TRUNC);
  check("file-trunc-after-map", t >= 0 && size_of(t) == 0 && write(t, "new", 3) == 3 && pread(fd, buf, 8, 0) == 3 &&
                                    !memcmp(buf, "new", 3),
        "size %ld", (long)size_of(t));
  close(t);
  close(fd);

  // An unlinked file's map stays valid.
  fd = open(path, O_RDWR);
  char *u = mmap(NULL, k_page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  memset(buf, 0, sizeof(buf));
  check("file-unlink-mapped", u != MAP_FAILED && unlink(path) == 0 && !memcmp(u, "new", 3) && (u[0] = 'N') == 'N' &&
                                  pread(fd, buf, 4, 0) == 3 && !memcmp(buf, "New", 3),
        "read %.4s", buf);
  if (u != MAP_FAILED)
    munmap(u, k_page);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  check_memfd();
  make_scratch(argv[1]);
  check_tmpfs_file();
  remove_scratch();
  return check_exit_status();
}
