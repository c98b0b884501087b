// statfs and fstatfs: figures of the file system that holds a path or an open file.
//
// The figures themselves differ between hosts, so they are never printed. Instead the
// first run (the native one) records f_type, f_bsize and f_namelen of the working
// directory's file system in fsops-statfs.expected, and every later run on the same
// device (the Carbyne one) must report the same: a chroot mount shows the host's own.
#include "fsops.h"

#include <sys/statfs.h>
#include <sys/statvfs.h>

#define EXPECTED_FILE "fsops-statfs.expected"
#define ST_VALID 0x0020  // statfs(2): f_flags holds valid flags (not in glibc headers)

static void check_same_as_native(const struct statfs *s) {
  struct stat st;
  if (stat(".", &st) != 0) {
    check("statfs-same-as-native", 0, "stat: %s", errname(errno));
    return;
  }
  char now[128], before[128] = {0};
  snprintf(now, sizeof(now), "%lu %lx %ld %ld\n", (unsigned long)st.st_dev, (unsigned long)s->f_type,
           (long)s->f_bsize, (long)s->f_namelen);
  char expected_file[128];
  const char *tag = getenv("FSOPS_SCRATCH_TAG");
  snprintf(expected_file, sizeof(expected_file), "%s%s%s", EXPECTED_FILE, tag ? "." : "", tag ? tag : "");
  FILE *f = fopen(expected_file, "r");
  if (f) {
    if (!fgets(before, sizeof(before), f))
      before[0] = '\0';
    fclose(f);
  }
  unsigned long dev_before = strtoul(before, NULL, 10);
  if (!before[0] || dev_before != (unsigned long)st.st_dev) {
    // First run on this device: record.
    f = fopen(expected_file, "w");
    check("statfs-same-as-native", f && fputs(now, f) >= 0 && fclose(f) == 0, "cannot record");
    return;
  }
  check("statfs-same-as-native", !strcmp(now, before), "now %s before %s", now, before);
}

int main(void) {
  struct statfs cwd;
  CHECK_OK("statfs", statfs(".", &cwd));
  check_same_as_native(&cwd);
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
