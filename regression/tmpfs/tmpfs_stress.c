// Many entries and several threads on a writable directory (tmpfs under Carbyne): a
// directory of thousands of names (created, found, listed, renamed, removed), O_APPEND
// writes from threads that never interleave, and threads sharing one file position that
// never read the same record twice.
// Usage: tmpfs_stress DIR - DIR is a writable directory; a scratch directory is made below it.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "scratch.h"

enum { k_names = 3000, k_threads = 4, k_records = 500, k_record_size = 100 };

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Counts the entries of `path` other than "." and ".." whose name starts with `prefix`.
static long count_entries(const char *path, const char *prefix, long *total) {
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return -1;
  char buf[8192];
  long count = 0, all = 0;
  for (;;) {
    long n = getdents64(fd, buf, sizeof(buf));
    if (n <= 0)
      break;
    for (long pos = 0; pos < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + pos);
      all++;
      if (!strncmp(d->d_name, prefix, strlen(prefix)))
        count++;
      pos += d->d_reclen;
    }
  }
  close(fd);
  if (total)
    *total = all;
  return count;
}

static void check_big_directory(void) {
  char dir[1100], name[1200], other[1200];
  snprintf(dir, sizeof(dir), "%s", at("big"));
  mkdir(dir, 0755);
  int made = 0;
  for (int i = 0; i < k_names; i++) {
    snprintf(name, sizeof(name), "%s/file-%05d", dir, i);
    int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) {
      made++;
      if (i % 100 == 0)
        write(fd, name, strlen(name));
      close(fd);
    }
  }
  check("big_create", made == k_names, "%d made", made);
  int found = 0;
  for (int i = k_names - 1; i >= 0; i--) {
    struct stat st;
    snprintf(name, sizeof(name), "%s/file-%05d", dir, i);
    found += stat(name, &st) == 0 && S_ISREG(st.st_mode);
  }
  check("big_lookup", found == k_names, "%d found", found);
  long total = 0;
  check("big_list", count_entries(dir, "file-", &total) == k_names && total == k_names + 2, "%ld entries", total);
  int renamed = 0;
  for (int i = 0; i < k_names; i += 2) {
    snprintf(name, sizeof(name), "%s/file-%05d", dir, i);
    snprintf(other, sizeof(other), "%s/moved-%05d", dir, i);
    renamed += rename(name, other) == 0;
  }
  check("big_rename", renamed == k_names / 2 && count_entries(dir, "moved-", NULL) == k_names / 2 &&
                          count_entries(dir, "file-", NULL) == k_names / 2, "%d renamed", renamed);
  snprintf(name, sizeof(name), "%s/moved-%05d", dir, 100);
  char buf[1200] = {0};
  int fd = open(name, O_RDONLY);
  snprintf(other, sizeof(other), "%s/file-%05d", dir, 100);
  check("big_renamed_content", fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)strlen(other) && !strcmp(buf, other),
        "content lost");
  close(fd);
  int removed = 0;
  for (int i = 0; i < k_names; i++) {
    snprintf(name, sizeof(name), "%s/%s-%05d", dir, i % 2 ? "file" : "moved", i);
    removed += unlink(name) == 0;
  }
  check("big_unlink", removed == k_names && count_entries(dir, "", &total) == 2, "%d removed", removed);
  check("big_rmdir", rmdir(dir) == 0, "rmdir: %s", strerrorname_np(errno));
}

struct worker {
  int fd;
  int id;
  int ok;
  int records[k_threads * k_records];
  int count;
};

static void *append_worker(void *arg) {
  struct worker *w = arg;
  char rec[k_record_size];
  for (int i = 0; i < k_records; i++) {
    memset(rec, 'a' + w->id, sizeof(rec));
    snprintf(rec, sizeof(rec), "%d:%04d:", w->id, i);
    rec[sizeof(rec) - 1] = '\n';
    if (write(w->fd, rec, sizeof(rec)) != sizeof(rec))
      w->ok = 0;
  }
  return NULL;
}

static void *read_worker(void *arg) {
  struct worker *w = arg;
  char rec[k_record_size];
  for (;;) {
    ssize_t n = read(w->fd, rec, sizeof(rec));
    if (n == 0)
      break;
    if (n != sizeof(rec)) {
      w->ok = 0;
      break;
    }
    int id, i;
    if (sscanf(rec, "%d:%d:", &id, &i) != 2) {
      w->ok = 0;
      break;
    }
    w->records[w->count++] = id * k_records + i;
  }
  return NULL;
}

static void check_threads(void) {
  const char *path = at("shared");
  int fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0644);
  static struct worker w[k_threads];
  pthread_t t[k_threads];
  for (int i = 0; i < k_threads; i++) {
    w[i] = (struct worker){.fd = i % 2 ? fd : open(path, O_WRONLY | O_APPEND), .id = i, .ok = 1};
    pthread_create(&t[i], NULL, append_worker, &w[i]);
  }
  int ok = 1;
  for (int i = 0; i < k_threads; i++) {
    pthread_join(t[i], NULL);
    ok &= w[i].ok;
    if (w[i].fd != fd)
      close(w[i].fd);
  }
  struct stat st;
  fstat(fd, &st);
  check("append_threads_size", ok && st.st_size == k_threads * k_records * k_record_size, "size %ld",
        (long)st.st_size);
  // Every record whole: the right letter from its header to its newline.
  static char all[k_threads * k_records * k_record_size];
  int whole = pread(fd, all, sizeof(all), 0) == sizeof(all);
  int seen[k_threads] = {0};
  for (int r = 0; whole && r < k_threads * k_records; r++) {
    char *rec = all + r * k_record_size;
    int id = rec[0] - '0';
    whole = id >= 0 && id < k_threads && rec[k_record_size - 1] == '\n' && rec[k_record_size - 2] == 'a' + id;
    if (whole) {
      int i = atoi(rec + 2);
      whole = i == seen[id]++;  // each thread's records in its own order
    }
  }
  check("append_threads_whole", whole, "records interleaved");

  // One shared position: each record is read exactly once.
  int rd = open(path, O_RDONLY);
  for (int i = 0; i < k_threads; i++) {
    w[i] = (struct worker){.fd = rd, .id = i, .ok = 1};
    pthread_create(&t[i], NULL, read_worker, &w[i]);
  }
  static int times[k_threads * k_records];
  memset(times, 0, sizeof(times));
  ok = 1;
  for (int i = 0; i < k_threads; i++) {
    pthread_join(t[i], NULL);
    ok &= w[i].ok;
    for (int j = 0; j < w[i].count; j++)
      times[w[i].records[j]]++;
  }
  int once = 1;
  for (int r = 0; r < k_threads * k_records; r++)
    once &= times[r] == 1;
  check("shared_position_reads", ok && once, "a record was read twice or never");
  close(rd);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  make_scratch(argv[1]);
  check_big_directory();
  check_threads();
  remove_scratch();
  return check_exit_status();
}
