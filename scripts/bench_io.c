// Pipe, eventfd and readiness costs for scripts/bench-io: prints "NAME NS" lines (ns per
// operation, the median of several rounds).
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

enum { k_idle = 1000 };

// Pipe ping-pong: one byte there and one back between two threads; one exchange per count.
static int g_there[2], g_back[2];
static long g_count;

static void *pipe_pong(void *arg) {
  (void)arg;
  char c;
  for (long i = 0; i < g_count; i++) {
    must(read(g_there[0], &c, 1) == 1, "read");
    must(write(g_back[1], &c, 1) == 1, "write");
  }
  return NULL;
}

static void op_pipe_pingpong(const char *arg, long count) {
  pthread_t t;
  g_count = count;
  must(pthread_create(&t, NULL, pipe_pong, NULL) == 0, "pthread_create");
  char c = 'x';
  for (long i = 0; i < count; i++) {
    must(write(g_there[1], &c, 1) == 1, "write");
    must(read(g_back[0], &c, 1) == 1, "read");
  }
  must(pthread_join(t, NULL) == 0, "pthread_join");
}

// The same through eventfds.
static int g_efd_there, g_efd_back;

static void *eventfd_pong(void *arg) {
  (void)arg;
  uint64_t v;
  for (long i = 0; i < g_count; i++) {
    must(read(g_efd_there, &v, 8) == 8, "read");
    must(write(g_efd_back, &v, 8) == 8, "write");
  }
  return NULL;
}

static void op_eventfd_pingpong(const char *arg, long count) {
  pthread_t t;
  g_count = count;
  must(pthread_create(&t, NULL, eventfd_pong, NULL) == 0, "pthread_create");
  uint64_t v = 1;
  for (long i = 0; i < count; i++) {
    must(write(g_efd_there, &v, 8) == 8, "write");
    must(read(g_efd_back, &v, 8) == 8, "read");
  }
  must(pthread_join(t, NULL) == 0, "pthread_join");
}

// Ping-pong where the main thread waits in epoll_wait on an instance that also watches
// k_idle idle pipes: the cost must not grow with them.
static int g_epoll;

static void op_epoll_pingpong_1000_idle(const char *arg, long count) {
  pthread_t t;
  g_count = count;
  must(pthread_create(&t, NULL, pipe_pong, NULL) == 0, "pthread_create");
  char c = 'x';
  struct epoll_event ev;
  for (long i = 0; i < count; i++) {
    must(write(g_there[1], &c, 1) == 1, "write");
    must(epoll_wait(g_epoll, &ev, 1, -1) == 1, "epoll_wait");
    must(read(g_back[0], &c, 1) == 1, "read");
  }
  must(pthread_join(t, NULL) == 0, "pthread_join");
}

// poll of one ready pipe (no waiting): the cost of a readiness check.
static void op_poll_ready(const char *arg, long count) {
  char c = 'x';
  must(write(g_back[1], &c, 1) == 1, "write");
  struct pollfd pfd = {g_back[0], POLLIN, 0};
  for (long i = 0; i < count; i++)
    must(poll(&pfd, 1, 0) == 1, "poll");
  must(read(g_back[0], &c, 1) == 1, "read");
}

// 64 KiB writes read back by another thread: bulk throughput, as ns per 64 KiB.
static void *bulk_reader(void *arg) {
  (void)arg;
  static char buf[65536];
  long left = g_count * (long)sizeof(buf);
  while (left > 0) {
    ssize_t n = read(g_there[0], buf, sizeof(buf));
    must(n > 0, "read");
    left -= n;
  }
  return NULL;
}

static void op_pipe_write_64k(const char *arg, long count) {
  static char buf[65536];
  pthread_t t;
  g_count = count;
  must(pthread_create(&t, NULL, bulk_reader, NULL) == 0, "pthread_create");
  for (long i = 0; i < count; i++) {
    size_t off = 0;
    while (off < sizeof(buf)) {
      ssize_t n = write(g_there[1], buf + off, sizeof(buf) - off);
      must(n > 0, "write");
      off += (size_t)n;
    }
  }
  must(pthread_join(t, NULL) == 0, "pthread_join");
}

int main(void) {
  must(pipe(g_there) == 0 && pipe(g_back) == 0, "pipe");
  g_efd_there = eventfd(0, 0);
  g_efd_back = eventfd(0, 0);
  must(g_efd_there >= 0 && g_efd_back >= 0, "eventfd");
  g_epoll = epoll_create1(0);
  must(g_epoll >= 0, "epoll_create1");
  // Idle watched files: eventfds at 0 wanted for EPOLLIN (one descriptor each, so that
  // 1000 of them fit under the usual limit of 1024).
  for (int i = 0; i < k_idle; i++) {
    int idle = eventfd(0, 0);
    must(idle >= 0, "eventfd");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    must(epoll_ctl(g_epoll, EPOLL_CTL_ADD, idle, &ev) == 0, "epoll_ctl");
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 12345};
  must(epoll_ctl(g_epoll, EPOLL_CTL_ADD, g_back[0], &ev) == 0, "epoll_ctl");
  report("pipe_pingpong", op_pipe_pingpong, NULL, 20000);
  report("eventfd_pingpong", op_eventfd_pingpong, NULL, 20000);
  report("epoll_1000_idle", op_epoll_pingpong_1000_idle, NULL, 20000);
  report("poll_ready", op_poll_ready, NULL, 200000);
  report("pipe_write_64k", op_pipe_write_64k, NULL, 2000);
  return 0;
}
