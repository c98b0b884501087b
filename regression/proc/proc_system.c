// The system-wide pseudo files: /proc/cpuinfo, meminfo, stat, uptime, loadavg, version,
// filesystems, /proc/sys, the mount tables (as df and getmntent read them), statfs of the
// pseudo file systems, and the CPU list in /sys that glibc and Python count CPUs with.
#define _GNU_SOURCE  // strerrorname_np() in check.h
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../check.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572

static char *read_file(const char *path) {
  FILE *f = fopen(path, "re");
  if (!f) return NULL;
  size_t cap = 4096, size = 0;
  char *buf = malloc(cap + 1);
  size_t n;
  while ((n = fread(buf + size, 1, cap - size, f)) > 0) {
    size += n;
    if (size == cap) buf = realloc(buf, (cap *= 2) + 1);
  }
  fclose(f);
  buf[size] = '\0';
  return buf;
}

static int count_lines_starting(const char *text, const char *prefix) {
  int count = 0;
  size_t len = strlen(prefix);
  for (const char *line = text; line && *line;) {
    if (strncmp(line, prefix, len) == 0) count++;
    line = strchr(line, '\n');
    if (line) line++;
  }
  return count;
}

// "0-3,5" -> 5
static long cpu_list_count(const char *s) {
  long count = 0;
  while (*s && *s != '\n') {
    char *end;
    long first = strtol(s, &end, 10), last = first;
    if (end == s) return -1;
    if (*end == '-') {
      s = end + 1;
      last = strtol(s, &end, 10);
      if (end == s) return -1;
    }
    count += last - first + 1;
    s = end;
    if (*s == ',') s++;
  }
  return count;
}

static long meminfo_kb(const char *text, const char *name) {
  const char *at = strstr(text, name);
  return at ? strtol(at + strlen(name), NULL, 10) : -1;
}

static void check_cpus(void) {
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  check("nprocessors-onln", online > 0, "sysconf(_SC_NPROCESSORS_ONLN) = %ld", online);

  char *cpuinfo = read_file("/proc/cpuinfo");
  check("cpuinfo-processors", cpuinfo && count_lines_starting(cpuinfo, "processor\t:") == online,
        "the processor lines do not match _SC_NPROCESSORS_ONLN");
  check("cpuinfo-fields",
        cpuinfo && count_lines_starting(cpuinfo, "vendor_id\t:") == online &&
            count_lines_starting(cpuinfo, "model name\t:") == online &&
            count_lines_starting(cpuinfo, "flags\t\t:") == online,
        "a processor block lacks vendor_id, model name or flags");
  check("cpuinfo-flags-sse2", cpuinfo && strstr(cpuinfo, " sse2") != NULL, "flags do not include sse2");
  free(cpuinfo);

  char *list = read_file("/sys/devices/system/cpu/online");
  check("sys-cpu-online", list && cpu_list_count(list) == online, "cpu/online does not count _SC_NPROCESSORS_ONLN");
  free(list);
  list = read_file("/sys/devices/system/cpu/possible");
  check("sys-cpu-possible", list && cpu_list_count(list) >= online, "cpu/possible counts fewer than online");
  free(list);

  // glibc's _SC_NPROCESSORS_CONF counts the cpuN directories.
  long dirs = 0;
  DIR *d = opendir("/sys/devices/system/cpu");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (strncmp(e->d_name, "cpu", 3) == 0 && isdigit((unsigned char)e->d_name[3]) && e->d_type == DT_DIR) dirs++;
  }
  if (d) closedir(d);
  check("sys-cpu-dirs", dirs == sysconf(_SC_NPROCESSORS_CONF), "cpuN directories do not match _SC_NPROCESSORS_CONF");

  char *thp = read_file("/sys/kernel/mm/transparent_hugepage/enabled");
  check("sys-thp-enabled", thp && strchr(thp, '[') && strchr(thp, ']'), "no [selected] mode");
  free(thp);
}

static void check_system_files(void) {
  char *meminfo = read_file("/proc/meminfo");
  long total = meminfo ? meminfo_kb(meminfo, "MemTotal:") : -1;
  long avail = meminfo ? meminfo_kb(meminfo, "MemAvailable:") : -1;
  long free_kb = meminfo ? meminfo_kb(meminfo, "MemFree:") : -1;
  check("meminfo", total > 0 && free_kb >= 0 && free_kb <= total && avail >= 0 && avail <= total,
        "MemTotal, MemFree or MemAvailable missing or inconsistent");
  check("meminfo-first-line", meminfo && strncmp(meminfo, "MemTotal:", 9) == 0, "MemTotal is not first");
  free(meminfo);

  char *uptime = read_file("/proc/uptime");
  double up = -1, idle = -1;
  check("uptime", uptime && sscanf(uptime, "%lf %lf", &up, &idle) == 2 && up > 0 && idle >= 0,
        "uptime is not two non-negative numbers");
  free(uptime);

  char *loadavg = read_file("/proc/loadavg");
  double l1, l5, l15;
  int running, total_tasks, last;
  check("loadavg", loadavg && sscanf(loadavg, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running, &total_tasks, &last) == 6,
        "loadavg is not 3 loads, running/total and a pid");
  free(loadavg);

  char *stat = read_file("/proc/stat");
  check("stat-cpu-line", stat && strncmp(stat, "cpu ", 4) == 0, "/proc/stat does not start with the cpu line");
  check("stat-btime", stat && strstr(stat, "\nbtime ") != NULL, "/proc/stat has no btime");
  check("stat-cpu-lines", stat && count_lines_starting(stat, "cpu") == sysconf(_SC_NPROCESSORS_ONLN) + 1,
        "/proc/stat has not one cpuN line per CPU");
  free(stat);

  char *version = read_file("/proc/version");
  check("version", version && strncmp(version, "Linux version ", 14) == 0, "version does not start with Linux version");
  free(version);

  char *fs = read_file("/proc/filesystems");
  check("filesystems", fs && strstr(fs, "\tproc\n") && strstr(fs, "\tsysfs\n") && strstr(fs, "\ttmpfs\n"),
        "filesystems lacks proc, sysfs or tmpfs");
  free(fs);

  struct utsname u;
  uname(&u);
  char want[128];
  char *s = read_file("/proc/sys/kernel/ostype");
  check("sys-ostype", s && strcmp(s, "Linux\n") == 0, "ostype is not Linux");
  free(s);
  s = read_file("/proc/sys/kernel/osrelease");
  snprintf(want, sizeof(want), "%s\n", u.release);
  check("sys-osrelease", s && strcmp(s, want) == 0, "osrelease differs from uname");
  free(s);
  s = read_file("/proc/sys/kernel/hostname");
  snprintf(want, sizeof(want), "%s\n", u.nodename);
  check("sys-hostname", s && strcmp(s, want) == 0, "hostname differs from uname");
  free(s);
  s = read_file("/proc/sys/kernel/pid_max");
  check("sys-pid-max", s && atol(s) > getpid(), "pid_max is not above our pid");
  free(s);
  s = read_file("/proc/sys/vm/overcommit_memory");
  check("sys-overcommit", s && (s[0] == '0' || s[0] == '1' || s[0] == '2') && s[1] == '\n', "overcommit_memory");
  free(s);

  char *id1 = read_file("/proc/sys/kernel/random/boot_id");
  char *id2 = read_file("/proc/sys/kernel/random/boot_id");
  check("boot-id", id1 && id2 && strlen(id1) == 37 && id1[8] == '-' && strcmp(id1, id2) == 0,
        "boot_id is not one fixed UUID");
  free(id1);
  free(id2);
  id1 = read_file("/proc/sys/kernel/random/uuid");
  id2 = read_file("/proc/sys/kernel/random/uuid");
  check("uuid", id1 && id2 && strlen(id1) == 37 && id1[14] == '4' && strcmp(id1, id2) != 0,
        "uuid is not a new version-4 UUID at each read");
  free(id1);
  free(id2);
}

// What df and findmnt read: /proc/mounts through getmntent, mountinfo, and statfs.
static void check_mounts(void) {
  FILE *f = setmntent("/proc/mounts", "r");
  check("setmntent", f != NULL, "setmntent /proc/mounts: %s", strerrorname_np(errno));
  int root = 0, proc = 0, sys = 0, count = 0;
  struct mntent *m;
  while (f && (m = getmntent(f))) {
    count++;
    root |= strcmp(m->mnt_dir, "/") == 0;
    proc |= strcmp(m->mnt_dir, "/proc") == 0 && strcmp(m->mnt_type, "proc") == 0;
    sys |= strcmp(m->mnt_dir, "/sys") == 0 && strcmp(m->mnt_type, "sysfs") == 0;
  }
  if (f) endmntent(f);
  check("mounts-root", root, "no mount at /");
  check("mounts-proc", proc, "no proc mount at /proc");
  check("mounts-sys", sys, "no sysfs mount at /sys");

  char *info = read_file("/proc/self/mountinfo");
  int lines = 0, well_formed = 1, proc_line = 0;
  for (char *line = info ? strtok(info, "\n") : NULL; line; line = strtok(NULL, "\n")) {
    lines++;
    int id, parent;
    unsigned major, minor;
    char mroot[256], point[256];
    if (sscanf(line, "%d %d %u:%u %255s %255s", &id, &parent, &major, &minor, mroot, point) != 6 ||
        !strstr(line, " - "))
      well_formed = 0;
    else if (strcmp(point, "/proc") == 0 && strncmp(strstr(line, " - "), " - proc ", 8) == 0)
      proc_line = 1;
  }
  free(info);
  check("mountinfo-well-formed", info && well_formed && lines == count, "mountinfo lines are malformed or not one per mount");
  check("mountinfo-proc", proc_line, "mountinfo has no proc line for /proc");

  struct statfs sf;
  check("statfs-root", statfs("/", &sf) == 0 && sf.f_blocks > 0, "statfs / failed or shows no blocks");
  check("statfs-proc", statfs("/proc", &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC, "statfs /proc is not PROC_SUPER_MAGIC");
  check("statfs-sys", statfs("/sys", &sf) == 0 && sf.f_type == SYSFS_MAGIC, "statfs /sys is not SYSFS_MAGIC");
}

// The /proc/sys tunables programs read: each holds numbers (Linux's values differ from
// machine to machine; their form does not).
static void check_sysctls(void) {
  static const char *const k_numeric[] = {
      "kernel/tainted",      "kernel/pid_max",         "kernel/threads-max",      "kernel/randomize_va_space",
      "kernel/shmmax",       "kernel/shmall",          "kernel/shmmni",           "kernel/msgmax",
      "kernel/msgmnb",       "kernel/msgmni",          "kernel/sem",              "kernel/printk",
      "kernel/overflowuid",  "kernel/overflowgid",     "kernel/panic",            "vm/overcommit_memory",
      "vm/overcommit_ratio", "vm/max_map_count",       "vm/mmap_min_addr",        "vm/swappiness",
      "vm/dirty_ratio",      "fs/inotify/max_user_watches", "fs/inotify/max_user_instances",
      "fs/inotify/max_queued_events", "fs/pipe-max-size", "fs/nr_open", "net/core/somaxconn",
  };
  for (size_t i = 0; i < sizeof(k_numeric) / sizeof(k_numeric[0]); i++) {
    char path[128], buf[128] = "";
    snprintf(path, sizeof(path), "/proc/sys/%s", k_numeric[i]);
    FILE *f = fopen(path, "r");
    int ok = f && fgets(buf, sizeof(buf), f) && isdigit((unsigned char)buf[0]);
    for (char *c = buf; ok && *c && *c != '\n'; c++)
      ok = isdigit((unsigned char)*c) || *c == '\t' || *c == ' ';
    if (f)
      fclose(f);
    char name[160];
    snprintf(name, sizeof(name), "sysctl-%s", k_numeric[i]);
    check(name, ok, "'%s' (%s)", buf, f ? "read" : strerrorname_np(errno));
  }
}

int main(void) {
  check_cpus();
  check_system_files();
  check_mounts();
  check_sysctls();
  return check_exit_status();
}
