// Directories on a writable directory (tmpfs under Carbyne): mkdir and its errors, link
// counts, getdents64 (every entry once, ".", "..", d_type, d_ino), lseek to a returned d_off,
// rewinding, listings that stay sound while entries are created and removed, and a removed
// directory still open.
// Usage: tmpfs_dirs DIR - DIR is a writable directory; a scratch directory is made below it.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "scratch.h"

enum { k_files = 50, k_max_names = 256 };

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// One getdents64 record as seen by the test.
struct seen {
  char name[64];
  int64_t off;
  unsigned char type;
  uint64_t ino;
};

// Reads up to `max` records with a buffer of `bufsize` bytes per call; returns the count,
// or -1 with errno on error. Stops after `max` records or at the end.
static int read_entries(int fd, size_t bufsize, struct seen *out, int max, int calls_max) {
  char buf[65536];
  int count = 0;
  for (int call = 0; call < calls_max && count < max; call++) {
    long n = getdents64(fd, buf, bufsize);
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    for (long pos = 0; pos < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + pos);
      if (count < max) {
        snprintf(out[count].name, sizeof(out[count].name), "%s", d->d_name);
        out[count].off = d->d_off;
        out[count].type = d->d_type;
        out[count].ino = d->d_ino;
        count++;
      }
      pos += d->d_reclen;
    }
  }
  return count;
}

static int find(const struct seen *s, int count, const char *name) {
  int found = -1;
  for (int i = 0; i < count; i++) {
    if (!strcmp(s[i].name, name)) {
      if (found >= 0)
        return -2;  // twice
      found = i;
    }
  }
  return found;
}

static void check_mkdir(void) {
  struct stat st, parent_before, parent_after;
  stat(g_scratch, &parent_before);
  check("mkdir", mkdir(at("d"), 0750) == 0, "mkdir: %s", strerrorname_np(errno));
  stat(at("d"), &st);
  check("mkdir_mode", st.st_mode == (S_IFDIR | 0750), "mode %o", (unsigned)st.st_mode);
  check("mkdir_nlink", st.st_nlink == 2, "nlink %lu", (unsigned long)st.st_nlink);
  stat(g_scratch, &parent_after);
  check("parent_nlink_up", parent_after.st_nlink == parent_before.st_nlink + 1, "nlink %lu -> %lu",
        (unsigned long)parent_before.st_nlink, (unsigned long)parent_after.st_nlink);
  mkdir(at("d/e"), 0755);
  stat(at("d"), &st);
  check("nlink_counts_subdirs", st.st_nlink == 3, "nlink %lu", (unsigned long)st.st_nlink);
  close(open(at("d/file"), O_CREAT | O_WRONLY, 0644));
  stat(at("d"), &st);
  check("nlink_ignores_files", st.st_nlink == 3, "nlink %lu", (unsigned long)st.st_nlink);
  struct stat via_dotdot;
  stat(at("d/e/.."), &via_dotdot);
  check("dotdot_is_parent", via_dotdot.st_ino == st.st_ino, "d/e/.. is not d");

  CHECK_FAILS_WITH("mkdir_exists", mkdir(at("d"), 0755), EEXIST);
  CHECK_FAILS_WITH("mkdir_over_file", mkdir(at("d/file"), 0755), EEXIST);
  CHECK_FAILS_WITH("mkdir_missing_parent", mkdir(at("missing/x"), 0755), ENOENT);
  CHECK_FAILS_WITH("mkdir_under_file", mkdir(at("d/file/x"), 0755), ENOTDIR);
  CHECK_FAILS_WITH("rmdir_nonempty", rmdir(at("d")), ENOTEMPTY);
  CHECK_FAILS_WITH("rmdir_file", rmdir(at("d/file")), ENOTDIR);
  CHECK_FAILS_WITH("rmdir_dot", rmdir(at("d/e/.")), EINVAL);
  CHECK_FAILS_WITH("rmdir_missing", rmdir(at("d/nothing")), ENOENT);
  check("rmdir", rmdir(at("d/e")) == 0, "rmdir: %s", strerrorname_np(errno));
  stat(at("d"), &st);
  check("rmdir_parent_nlink", st.st_nlink == 2, "nlink %lu", (unsigned long)st.st_nlink);
  CHECK_FAILS_WITH("open_dir_for_write", open(at("d"), O_WRONLY), EISDIR);
  CHECK_FAILS_WITH("open_dir_creat", open(at("d"), O_RDONLY | O_CREAT, 0644), EISDIR);
  CHECK_FAILS_WITH("open_file_directory", open(at("d/file"), O_RDONLY | O_DIRECTORY), ENOTDIR);
  CHECK_FAILS_WITH("creat_missing_dir", open(at("missing/f"), O_CREAT | O_WRONLY, 0644), ENOENT);
}

static void check_listing(void) {
  char dir[1100];
  snprintf(dir, sizeof(dir), "%s", at("list"));
  mkdir(dir, 0755);
  char name[64];
  for (int i = 0; i < k_files; i++) {
    snprintf(name, sizeof(name), "list/f%02d", i);
    close(open(at(name), O_CREAT | O_WRONLY, 0644));
  }
  mkdir(at("list/sub"), 0755);
  symlink("f00", at("list/lnk"));

  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  static struct seen s[k_max_names];
  int n = read_entries(fd, 256, s, k_max_names, 1000);
  check("getdents_count", n == k_files + 4, "%d entries", n);
  int dot = find(s, n, "."), dotdot = find(s, n, ".."), sub = find(s, n, "sub"), lnk = find(s, n, "lnk");
  check("getdents_dots", dot >= 0 && dotdot >= 0 && s[dot].type == DT_DIR && s[dotdot].type == DT_DIR,
        "dots missing or wrong");
  check("getdents_types", sub >= 0 && lnk >= 0 && s[sub].type == DT_DIR && s[lnk].type == DT_LNK,
        "sub or lnk wrong");
  int all_once = 1, all_reg = 1;
  for (int i = 0; i < k_files; i++) {
    snprintf(name, sizeof(name), "f%02d", i);
    int at_i = find(s, n, name);
    all_once &= at_i >= 0;
    all_reg &= at_i >= 0 && s[at_i].type == DT_REG;
  }
  check("getdents_each_once", all_once, "a file missing or repeated");
  check("getdents_reg_type", all_reg, "a file is not DT_REG");
  struct stat st, dir_st, parent_st;
  stat(at("list/f07"), &st);
  stat(dir, &dir_st);
  stat(g_scratch, &parent_st);
  int f07 = find(s, n, "f07");
  check("getdents_ino", f07 >= 0 && s[f07].ino == st.st_ino && dot >= 0 && s[dot].ino == dir_st.st_ino &&
                            dotdot >= 0 && s[dotdot].ino == parent_st.st_ino, "d_ino differs from stat");
  char buf[64];
  check("getdents_at_end", getdents64(fd, buf, sizeof(buf)) == 0, "more after the end");

  // Back to a d_off we were given: the same rest follows.
  lseek(fd, 0, SEEK_SET);
  static struct seen first[k_max_names], again[k_max_names];
  int n1 = read_entries(fd, 65536, first, k_max_names, 1000);
  check("rewind", n1 == n, "%d entries after rewind", n1);
  int k = 10;
  check("lseek_to_doff", lseek(fd, first[k - 1].off, SEEK_SET) == first[k - 1].off, "lseek failed: %s",
        strerrorname_np(errno));
  int n2 = read_entries(fd, 65536, again, k_max_names, 1000);
  int same = n2 == n1 - k;
  for (int i = 0; same && i < n2; i++)
    same = !strcmp(again[i].name, first[k + i].name);
  check("lseek_to_doff_rest", same, "%d entries after seeking, want %d", n2, n1 - k);
  CHECK_FAILS_WITH("getdents_tiny_buffer", (lseek(fd, 0, SEEK_SET), getdents64(fd, buf, 8)), EINVAL);
  CHECK_FAILS_WITH("dir_lseek_negative", lseek(fd, -1, SEEK_SET), EINVAL);
  CHECK_FAILS_WITH("read_dir", read(fd, buf, sizeof(buf)), EISDIR);
  close(fd);

  int file = open(at("list/f01"), O_RDONLY);
  CHECK_FAILS_WITH("getdents_file", getdents64(file, buf, sizeof(buf)), ENOTDIR);
  close(file);
}

// Entries removed and created between getdents64 calls: nothing is returned twice, and
// every entry that stayed is returned exactly once.
static void check_listing_while_changing(void) {
  int fd = open(at("list"), O_RDONLY | O_DIRECTORY);
  static struct seen s[k_max_names];
  int n = read_entries(fd, 512, s, k_max_names, 1);  // a first part only
  char name[64];
  int removed[k_files] = {0};
  // Remove what was seen so far and every fourth file, seen or not.
  for (int i = 0; i < k_files; i++) {
    snprintf(name, sizeof(name), "f%02d", i);
    if (find(s, n, name) >= 0 || i % 4 == 0) {
      snprintf(name, sizeof(name), "list/f%02d", i);
      removed[i] = unlink(at(name)) == 0;
    }
  }
  for (int i = 0; i < 10; i++) {
    snprintf(name, sizeof(name), "list/new%02d", i);
    close(open(at(name), O_CREAT | O_WRONLY, 0644));
  }
  int m = read_entries(fd, 512, s + n, k_max_names - n, 1000);
  int total = n + (m > 0 ? m : 0);
  int twice = 0, missing = 0;
  for (int i = 0; i < total; i++)
    twice |= find(s, total, s[i].name) == -2;
  for (int i = 0; i < k_files; i++) {
    snprintf(name, sizeof(name), "f%02d", i);
    if (!removed[i])
      missing += find(s, total, name) < 0;
  }
  check("changing_no_duplicates", m >= 0 && !twice, "an entry came twice");
  check("changing_kept_entries_once", !missing, "%d kept entries missing", missing);
  close(fd);
}

// Renaming each entry as it is listed (a common clean-up loop): the listing ends, and
// every original name is listed once.
static void check_rename_while_listing(void) {
  char dir[1100], from[1200], to[1200];
  snprintf(dir, sizeof(dir), "%s", at("ren"));
  mkdir(dir, 0755);
  for (int i = 0; i < 40; i++) {
    snprintf(from, sizeof(from), "%s/r%02d", dir, i);
    close(open(from, O_CREAT | O_WRONLY, 0644));
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  static struct seen s[k_max_names];
  int total = 0, calls = 0;
  for (; calls < 200 && total < k_max_names - 64; calls++) {
    int n = read_entries(fd, 256, s + total, k_max_names - total, 1);
    if (n <= 0)
      break;
    for (int i = total; i < total + n; i++) {
      if (s[i].name[0] != 'r' || strlen(s[i].name) != 3)
        continue;  // ".", "..", or a name this loop gave
      snprintf(from, sizeof(from), "%s/%s", dir, s[i].name);
      snprintf(to, sizeof(to), "%s/%s-done", dir, s[i].name);
      rename(from, to);
    }
    total += n;
  }
  int once = 1;
  char name[16];
  for (int i = 0; i < 40; i++) {
    snprintf(name, sizeof(name), "r%02d", i);
    once &= find(s, total, name) >= 0;
  }
  check("rename_while_listing_ends", calls < 200 && total <= 2 + 2 * 40, "%d records in %d calls", total, calls);
  check("rename_while_listing_once", once, "an original name was missed or listed twice");
  close(fd);
}

// A set-group-ID directory passes the bit to new subdirectories and its group to entries.
static void check_setgid_dir(void) {
  mkdir(at("sg"), 0755);
  chmod(at("sg"), 02775);
  mkdir(at("sg/sub"), 0755);
  close(open(at("sg/file"), O_CREAT | O_WRONLY, 0644));
  struct stat dir, sub, file;
  stat(at("sg"), &dir);
  stat(at("sg/sub"), &sub);
  stat(at("sg/file"), &file);
  check("setgid_dir_mode", dir.st_mode == (S_IFDIR | 02775), "mode %o", (unsigned)dir.st_mode);
  check("setgid_inherited", (sub.st_mode & S_ISGID) && sub.st_gid == dir.st_gid && file.st_gid == dir.st_gid &&
                                !(file.st_mode & S_ISGID), "sub mode %o", (unsigned)sub.st_mode);
}

static void check_removed_dir(void) {
  mkdir(at("gone"), 0755);
  int fd = open(at("gone"), O_RDONLY | O_DIRECTORY);
  check("rmdir_open_dir", rmdir(at("gone")) == 0, "rmdir: %s", strerrorname_np(errno));
  char buf[256];
  CHECK_FAILS_WITH("getdents_removed_dir", getdents64(fd, buf, sizeof(buf)), ENOENT);
  struct stat st;
  check("removed_dir_fstat", fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 0, "nlink %lu",
        (unsigned long)st.st_nlink);
  CHECK_FAILS_WITH("create_in_removed_dir", openat(fd, "x", O_CREAT | O_WRONLY, 0644), ENOENT);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  make_scratch(argv[1]);
  check_mkdir();
  check_listing();
  check_listing_while_changing();
  check_rename_while_listing();
  check_setgid_dir();
  check_removed_dir();
  remove_scratch();
  return check_exit_status();
}
