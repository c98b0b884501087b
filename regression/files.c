// File descriptors on a regular file and a directory: openat, read, pread, lseek,
// fstat, dup, close, getdents64, getdents, and the errno of each misuse.
// Usage: files FILE DIR - FILE is a readable regular file, DIR a small fixed directory
// whose sorted entry names are printed.
#define _GNU_SOURCE  // getdents64(), strerrorname_np() in check.h
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

// An address that is never mapped: the first page is never mapped on Linux. Volatile,
// so that the compiler does not see the constant and warn about the calls using it.
static void *volatile g_bad_pointer = (void *)1;
#define BAD_POINTER (g_bad_pointer)

enum { k_head_size = 16, k_max_entries = 256 };

// Reads all of fd from its current offset; returns the byte count or -1.
static long read_all(int fd) {
  char buf[4096];
  long total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) return -1;
    if (n == 0) return total;
    total += n;
  }
}

static void check_regular_file(const char *path) {
  struct stat by_path;
  check("stat", stat(path, &by_path) == 0, "stat failed: %s", strerrorname_np(errno));

  int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  check("openat", fd >= 0, "openat failed: %s", strerrorname_np(errno));
  if (fd < 0) return;

  struct stat st;
  int ret = fstat(fd, &st);
  check("fstat", ret == 0 && S_ISREG(st.st_mode), "fstat returned %d, mode %o", ret,
        (unsigned)st.st_mode);
  check("fstat_matches_stat",
        st.st_size == by_path.st_size && st.st_ino == by_path.st_ino &&
            st.st_dev == by_path.st_dev,
        "fstat and stat disagree on size, inode or device");
  check("file_not_tiny", st.st_size > 2 * k_head_size, "file has only %ld bytes",
        (long)st.st_size);

  char head[k_head_size];
  char head_again[k_head_size];
  check("read_head", read(fd, head, sizeof(head)) == k_head_size, "short read");
  check("lseek_cur_after_read", lseek(fd, 0, SEEK_CUR) == k_head_size,
        "offset is not %d after a read", k_head_size);
  check("pread_head", pread(fd, head_again, sizeof(head_again), 0) == k_head_size,
        "short pread");
  check("pread_same_bytes", memcmp(head, head_again, k_head_size) == 0,
        "pread at 0 differs from the first read");
  check("pread_keeps_offset", lseek(fd, 0, SEEK_CUR) == k_head_size,
        "pread moved the file offset");

  long rest = read_all(fd);
  check("read_to_eof", rest == st.st_size - k_head_size, "read %ld bytes after the head",
        rest);
  check("read_at_eof", read(fd, head, 1) == 0, "read at EOF did not return 0");

  char tail[4];
  char tail_again[4];
  check("lseek_end", lseek(fd, -4, SEEK_END) == st.st_size - 4,
        "lseek(-4, SEEK_END) landed elsewhere");
  check("read_tail", read(fd, tail, sizeof(tail)) == 4, "short read of the tail");
  check("pread_tail", pread(fd, tail_again, 4, st.st_size - 4) == 4,
        "short pread of the tail");
  check("tail_same_bytes", memcmp(tail, tail_again, 4) == 0, "pread tail differs");
  check("pread_past_eof", pread(fd, tail, 4, st.st_size + 100) == 0,
        "pread past EOF did not return 0");
  check("lseek_set", lseek(fd, 0, SEEK_SET) == 0, "lseek(0, SEEK_SET) failed");
  CHECK_FAILS_WITH("lseek_negative_einval", lseek(fd, -1, SEEK_SET), EINVAL);
  CHECK_FAILS_WITH("lseek_bad_whence_einval", lseek(fd, 0, 77), EINVAL);

  // A duplicate shares the offset with the original.
  int dup_fd = dup(fd);
  check("dup", dup_fd >= 0 && dup_fd != fd, "dup returned %d", dup_fd);
  check("dup_read", read(dup_fd, head_again, k_head_size) == k_head_size,
        "short read through the duplicate");
  check("dup_shares_offset", lseek(fd, 0, SEEK_CUR) == k_head_size,
        "the duplicate does not share the offset");
  check("close_dup", close(dup_fd) == 0, "close failed");

  CHECK_FAILS_WITH("write_read_only_ebadf", write(fd, "x", 1), EBADF);
  CHECK_FAILS_WITH("read_bad_buffer_efault", read(fd, BAD_POINTER, 8), EFAULT);
  CHECK_FAILS_WITH("fstat_bad_buffer_efault", fstat(fd, BAD_POINTER), EFAULT);

  // openat relative to a directory descriptor reaches the same file.
  char dir_copy[4096];
  char base_copy[4096];
  snprintf(dir_copy, sizeof(dir_copy), "%s", path);
  snprintf(base_copy, sizeof(base_copy), "%s", path);
  int dir_fd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  check("open_parent_dir", dir_fd >= 0, "open of the parent failed: %s",
        strerrorname_np(errno));
  if (dir_fd >= 0) {
    int rel_fd = openat(dir_fd, basename(base_copy), O_RDONLY | O_CLOEXEC);
    struct stat rel;
    check("openat_relative",
          rel_fd >= 0 && fstat(rel_fd, &rel) == 0 && rel.st_ino == st.st_ino,
          "openat(dirfd, basename) did not reach the file");
    if (rel_fd >= 0) close(rel_fd);
    CHECK_FAILS_WITH("openat_relative_enoent",
                     openat(dir_fd, "no-such-file", O_RDONLY | O_CLOEXEC), ENOENT);
    close(dir_fd);
  }
  CHECK_FAILS_WITH("openat_file_as_dirfd_enotdir",
                   openat(fd, "anything", O_RDONLY | O_CLOEXEC), ENOTDIR);
  CHECK_FAILS_WITH("o_directory_on_file_enotdir",
                   open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ENOTDIR);

  check("close", close(fd) == 0, "close failed: %s", strerrorname_np(errno));
  CHECK_FAILS_WITH("read_closed_ebadf", read(fd, head, 1), EBADF);
  CHECK_FAILS_WITH("close_closed_ebadf", close(fd), EBADF);
  CHECK_FAILS_WITH("fstat_closed_ebadf", fstat(fd, &st), EBADF);
}

static void check_bad_paths(void) {
  CHECK_FAILS_WITH("open_nonexistent_enoent",
                   open("/nonexistent-carbyne-path", O_RDONLY | O_CLOEXEC), ENOENT);
  CHECK_FAILS_WITH("open_nonexistent_dir_enoent",
                   open("/nonexistent-carbyne-dir/file", O_RDONLY | O_CLOEXEC), ENOENT);
  CHECK_FAILS_WITH("open_empty_path_enoent", open("", O_RDONLY | O_CLOEXEC), ENOENT);
  CHECK_FAILS_WITH("open_bad_path_efault", open(BAD_POINTER, O_RDONLY | O_CLOEXEC),
                   EFAULT);
  CHECK_FAILS_WITH("read_negative_fd_ebadf", read(-1, NULL, 0), EBADF);
  CHECK_FAILS_WITH("read_unused_fd_ebadf", read(999, NULL, 0), EBADF);
}

// A write from an unmapped buffer to a regular file fails with EFAULT and writes nothing.
// The file is created in the working directory (read-write under `carbyne exec`).
static void check_write_fault(void) {
  // Named per process: the native and Carbyne runs of this test may overlap.
  char path[64];
  snprintf(path, sizeof(path), "files-write-fault-%d.tmp", (int)getpid());
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  check("create_in_cwd", fd >= 0, "open(O_CREAT) failed: %s", strerrorname_np(errno));
  CHECK_FAILS_WITH("write_bad_buffer_efault", write(fd, BAD_POINTER, 8), EFAULT);
  struct stat st;
  check("write_fault_wrote_nothing", fstat(fd, &st) == 0 && st.st_size == 0,
        "the file has %lld bytes", (long long)st.st_size);
  close(fd);
  unlink(path);
}

// The fields of the linux_dirent64 record at `record`, read without assuming alignment
// or that a whole struct dirent64 (with its 256-byte name) fits in the buffer.
static unsigned short record_size(const char *record) {
  unsigned short size;
  memcpy(&size, record + offsetof(struct dirent64, d_reclen), sizeof(size));
  return size;
}

static const char *record_name(const char *record) {
  return record + offsetof(struct dirent64, d_name);
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_directory(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  check("open_directory", fd >= 0, "open failed: %s", strerrorname_np(errno));
  if (fd < 0) return;

  struct stat st;
  check("fstat_directory", fstat(fd, &st) == 0 && S_ISDIR(st.st_mode),
        "not a directory");
  char byte;
  CHECK_FAILS_WITH("read_directory_eisdir", read(fd, &byte, 1), EISDIR);
  CHECK_FAILS_WITH("getdents64_bad_buffer_efault", getdents64(fd, BAD_POINTER, 4096),
                   EFAULT);

  // A small buffer makes the listing take several calls.
  char buf[96];
  char *names[k_max_entries];
  int count = 0;
  int calls = 0;
  long n;
  while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
    calls++;
    for (long offset = 0; offset < n; offset += record_size(buf + offset)) {
      if (count < k_max_entries) names[count++] = strdup(record_name(buf + offset));
    }
  }
  check("getdents64_end", n == 0, "getdents64 returned %ld", n);
  check("getdents64_several_calls", calls > 1, "the listing took %d calls", calls);
  check("getdents64_at_end_again", getdents64(fd, buf, sizeof(buf)) == 0,
        "a second getdents64 at the end did not return 0");

  qsort(names, count, sizeof(names[0]), compare_names);
  int has_dot = 0;
  int has_dot_dot = 0;
  for (int i = 0; i < count; i++) {
    has_dot |= strcmp(names[i], ".") == 0;
    has_dot_dot |= strcmp(names[i], "..") == 0;
    printf("entry %s\n", names[i]);
    free(names[i]);
  }
  check("getdents64_dot", has_dot && has_dot_dot, "\".\" or \"..\" is missing");

  // Rewinding lists the same number of entries again.
  check("lseek_directory_rewind", lseek(fd, 0, SEEK_SET) == 0, "rewind failed");
  int recount = 0;
  while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
    for (long offset = 0; offset < n; offset += record_size(buf + offset)) recount++;
  }
  check("getdents64_after_rewind", recount == count, "%d entries after rewind, %d before",
        recount, count);
  close(fd);
  CHECK_FAILS_WITH("getdents64_closed_ebadf", getdents64(fd, buf, sizeof(buf)), EBADF);
}

// The legacy getdents(2): linux_dirent records (the name at offset 18, the type in the
// record's last byte) listing what getdents64 lists, with the same types.
static void check_legacy_getdents(const char *dir, const char *file) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char buf[120];
  char seen64[4096] = "", seen[4096] = "";
  long n;
  while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
    for (long off = 0; off < n; off += record_size(buf + off)) {
      char entry[300];
      snprintf(entry, sizeof(entry), "%s:%d/", record_name(buf + off), buf[off + 18]);
      if (strlen(seen64) + strlen(entry) < sizeof(seen64)) strcat(seen64, entry);
    }
  }
  lseek(fd, 0, SEEK_SET);
  int calls = 0;
  while ((n = syscall(SYS_getdents, fd, buf, sizeof(buf))) > 0) {
    calls++;
    for (long off = 0; off < n;) {
      unsigned short reclen;
      memcpy(&reclen, buf + off + 16, sizeof(reclen));
      char entry[300];
      snprintf(entry, sizeof(entry), "%s:%d/", buf + off + 18, buf[off + reclen - 1]);
      if (strlen(seen) + strlen(entry) < sizeof(seen)) strcat(seen, entry);
      off += reclen;
    }
  }
  check("getdents_end", n == 0, "getdents returned %ld (%s)", n, strerrorname_np(errno));
  check("getdents_several_calls", calls > 1, "the listing took %d calls", calls);
  check("getdents_same_entries_and_types", strcmp(seen, seen64) == 0, "getdents %s, getdents64 %s", seen, seen64);
  lseek(fd, 0, SEEK_SET);
  CHECK_FAILS_WITH("getdents_small_buffer_einval", syscall(SYS_getdents, fd, buf, 8), EINVAL);
  CHECK_FAILS_WITH("getdents_bad_buffer_efault", syscall(SYS_getdents, fd, BAD_POINTER, 4096), EFAULT);
  close(fd);
  CHECK_FAILS_WITH("getdents_closed_ebadf", syscall(SYS_getdents, fd, buf, sizeof(buf)), EBADF);
  fd = open(file, O_RDONLY | O_CLOEXEC);
  CHECK_FAILS_WITH("getdents_file_enotdir", syscall(SYS_getdents, fd, buf, sizeof(buf)), ENOTDIR);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE DIR\n", argv[0]);
    return 2;
  }
  check_regular_file(argv[1]);
  check_bad_paths();
  check_write_fault();
  check_directory(argv[2]);
  check_legacy_getdents(argv[2], argv[1]);
  return check_exit_status();
}
