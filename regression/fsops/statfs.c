// statfs and fstatfs: figures of the file system that holds a path or an open file.
//
//   fsops-statfs --record FILE DIR   writes f_type, f_bsize, f_namelen and st_dev of DIR's
//                                    file system to FILE (run natively, at build time)
//   fsops-statfs FILE                the checks; the working directory's file system must
//                                    show the figures FILE holds
//
// The figures themselves differ between hosts, so they are never printed. The build
// records them natively for the directory the test runs in, and both runs (native and
// Carbyne) must report the same: a chroot mount shows the host's own. A missing or
// unreadable record fails: the check never passes without comparing.
#include "fsops.h"

#include <sys/statfs.h>
#include <sys/statvfs.h>

#define ST_VALID 0x0020  // statfs(2): f_flags holds valid flags (not in glibc headers)

// "dev type bsize namelen" of the file system holding `path`, into buf; 0 on success.
static int figures_of(const char *path, char *buf, size_t size) {
  struct stat st;
  struct statfs s;
  if (stat(path, &st) != 0 || statfs(path, &s) != 0)
    return -1;
  snprintf(buf, size, "%lu %lx %ld %ld", (unsigned long)st.st_dev, (unsigned long)s.f_type, (long)s.f_bsize,
           (long)s.f_namelen);
  return 0;
}

static int record(const char *file, const char *dir) {
  char now[128];
  if (figures_of(dir, now, sizeof(now)) != 0) {
    fprintf(stderr, "fsops-statfs: %s: %s\n", dir, errname(errno));
    return 1;
  }
  FILE *f = fopen(file, "w");
  if (!f || fprintf(f, "%s\n", now) < 0 || fclose(f) != 0) {
    fprintf(stderr, "fsops-statfs: cannot write %s\n", file);
    return 1;
  }
  return 0;
}

static void check_same_as_native(const char *expected_file) {
  char now[128], before[128] = {0};
  if (figures_of(".", now, sizeof(now)) != 0) {
    check("statfs-same-as-native", 0, "stat or statfs of .: %s", errname(errno));
    return;
  }
  FILE *f = fopen(expected_file, "r");
  if (!f) {
    check("statfs-same-as-native", 0, "no record of the native figures: %s", errname(errno));
    return;
  }
  if (!fgets(before, sizeof(before), f))
    before[0] = '\0';
  fclose(f);
  before[strcspn(before, "\n")] = '\0';
  check("statfs-same-as-native", before[0] && !strcmp(now, before), "dev type bsize namelen %s, natively %s", now, before);
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--record"))
    return record(argv[2], argv[3]);
  if (argc != 2) {
    fprintf(stderr, "usage: fsops-statfs --record FILE DIR | fsops-statfs FILE\n");
    return 2;
  }
  struct statfs cwd;
  CHECK_OK("statfs", statfs(".", &cwd));
  check_same_as_native(argv[1]);
  scratch_enter("statfs");
  struct statfs s;
  CHECK_OK("statfs-scratch", statfs(".", &s));
  check("statfs-type-nonzero", s.f_type != 0, "0");
  check("statfs-same-fs-below", s.f_type == cwd.f_type && s.f_bsize == cwd.f_bsize && s.f_blocks == cwd.f_blocks,
        "differs from ..");
  check("statfs-sizes", s.f_bsize > 0 && s.f_frsize > 0 && s.f_bfree <= s.f_blocks && s.f_bavail <= s.f_bfree,
        "inconsistent");
  check("statfs-namelen", s.f_namelen == 255, "%ld", (long)s.f_namelen);
  check("statfs-flags-valid", (s.f_flags & ST_VALID) != 0, "%lx", (unsigned long)s.f_flags);
  check("statfs-writable", (s.f_flags & ST_RDONLY) == 0, "read-only");
  write_file("f", "x");
  symlink("f", "link");
  int fd = open("f", O_RDONLY);
  struct statfs fs;
  CHECK_OK("fstatfs", fstatfs(fd, &fs));
  check("fstatfs-same-as-statfs", fs.f_type == s.f_type && fs.f_bsize == s.f_bsize && fs.f_namelen == s.f_namelen,
        "differs");
  close(fd);
  fd = open("f", O_PATH);
  CHECK_OK("fstatfs-o-path", fstatfs(fd, &fs));
  close(fd);
  fd = open(".", O_RDONLY | O_DIRECTORY);
  CHECK_OK("fstatfs-dir", fstatfs(fd, &fs));
  check("fstatfs-dir-same", fs.f_type == s.f_type, "differs");
  close(fd);
  CHECK_OK("statfs-through-symlink", statfs("link", &fs));
  struct statvfs v;
  CHECK_OK("statvfs", statvfs(".", &v));
  check("statvfs-consistent", v.f_bsize == (unsigned long)s.f_bsize && v.f_namemax == 255, "differs");
  CHECK_FAILS_WITH("statfs-missing", statfs("missing", &fs), ENOENT);
  CHECK_FAILS_WITH("statfs-through-file", statfs("f/x", &fs), ENOTDIR);
  CHECK_FAILS_WITH("statfs-efault-path", syscall(SYS_statfs, BAD_PTR, &fs), EFAULT);
  CHECK_FAILS_WITH("statfs-efault-buf", syscall(SYS_statfs, ".", BAD_PTR), EFAULT);
  CHECK_FAILS_WITH("fstatfs-bad-fd", fstatfs(9999, &fs), EBADF);
  fd = open("f", O_RDONLY);
  CHECK_FAILS_WITH("fstatfs-efault-buf", syscall(SYS_fstatfs, fd, BAD_PTR), EFAULT);
  // A file unlinked while open still has its file system.
  unlink("f");
  CHECK_OK("fstatfs-unlinked", fstatfs(fd, &fs));
  check("fstatfs-unlinked-same", fs.f_type == s.f_type, "differs");
  close(fd);
  return scratch_leave();
}
