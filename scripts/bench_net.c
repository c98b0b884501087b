// TCP loopback costs for scripts/bench-net: prints "NAME NS" lines (ns per operation, the
// median of several rounds).
//
//   bench_net [ROW...]                  tcp_pingpong and tcp_bulk_per_mib (the default)
//   bench_net epoll_1000_idle PORT      needs 1000 connections from another process
//
// tcp_pingpong: one byte there and one back between two threads over a loopback TCP
// connection (TCP_NODELAY). tcp_bulk_per_mib: 64 KiB writes read by another thread, as
// ns per MiB. epoll_1000_idle: the ping-pong with the waiting side in epoll_wait on an
// instance that also watches 1000 idle connections. Those are accepted on 127.0.0.1:PORT
// from another process (bench-net makes them), so that this one holds only its own
// ends: both ends of 1000 connections would not fit under a limit of 1024 descriptors.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

enum { k_idle = 1000, k_chunk = 64 * 1024, k_mib = 1024 * 1024, k_accept_timeout_ms = 60000 };

static int listen_on(uint16_t port, int backlog) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  must(fd >= 0, "socket");
  int one = 1;
  must(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0, "setsockopt SO_REUSEADDR");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  must(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "bind");
  must(listen(fd, backlog) == 0, "listen");
  return fd;
}

static void no_delay(int fd) {
  int one = 1;
  must(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0, "setsockopt TCP_NODELAY");
}

// A connected loopback pair: *client from connect, *server from accept.
static void tcp_pair(int *client, int *server) {
  int listener = listen_on(0, 1);
  struct sockaddr_in addr;
  socklen_t size = sizeof(addr);
  must(getsockname(listener, (struct sockaddr *)&addr, &size) == 0, "getsockname");
  *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  must(*client >= 0, "socket");
  must(connect(*client, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect");
  *server = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  must(*server >= 0, "accept4");
  close(listener);
  no_delay(*client);
  no_delay(*server);
}

static void write_all(int fd, const char *buf, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, buf, size);
    must(n > 0, "write");
    buf += n;
    size -= (size_t)n;
  }
}

// Ping-pong: the main thread has the server end, the pong thread the client end.
static int g_client, g_server;
static long g_count;

static void *pong(void *arg) {
  (void)arg;
  char c;
  for (long i = 0; i < g_count; i++) {
    must(read(g_client, &c, 1) == 1, "read");
    must(write(g_client, &c, 1) == 1, "write");
  }
  return NULL;
}

static void op_tcp_pingpong(const char *arg, long count) {
  (void)arg;
  pthread_t t;
  g_count = count;
  must(pthread_create(&t, NULL, pong, NULL) == 0, "pthread_create");
  char c = 'x';
  for (long i = 0; i < count; i++) {
    must(write(g_server, &c, 1) == 1, "write");
    must(read(g_server, &c, 1) == 1, "read");
  }
  must(pthread_join(t, NULL) == 0, "pthread_join");
}

// Bulk: `count` MiB in 64 KiB writes from the server end, read at the client end.
static void *bulk_reader(void *arg) {
  (void)arg;
  static char buf[k_chunk];
  long left = g_count * (long)k_mib;
  while (left > 0) {
    ssize_t n = read(g_client, buf, sizeof(buf));
    must(n > 0, "read");
    left -= n;
  }
  return NULL;
}

static void op_tcp_bulk_per_mib(const char *arg, long count) {
  (void)arg;
  static char buf[k_chunk];
  pthread_t t;
  g_count = count;
  must(pthread_create(&t, NULL, bulk_reader, NULL) == 0, "pthread_create");
  for (long i = 0; i < count * (k_mib / k_chunk); i++)
    write_all(g_server, buf, sizeof(buf));
  must(pthread_join(t, NULL) == 0, "pthread_join");
}

// The ping-pong with the main thread waiting in epoll_wait for its end to be readable.
static int g_epoll;

static void op_epoll_pingpong_1000_idle(const char *arg, long count) {
  (void)arg;
  pthread_t t;
  g_count = count;
  must(pthread_create(&t, NULL, pong, NULL) == 0, "pthread_create");
  char c = 'x';
  struct epoll_event ev;
  for (long i = 0; i < count; i++) {
    must(write(g_server, &c, 1) == 1, "write");
    must(epoll_wait(g_epoll, &ev, 1, -1) == 1, "epoll_wait");
    must(ev.data.u64 == UINT64_MAX, "epoll_wait: an idle connection was ready");
    must(read(g_server, &c, 1) == 1, "read");
  }
  must(pthread_join(t, NULL) == 0, "pthread_join");
}

// Accepts k_idle connections on 127.0.0.1:port and watches each for input in g_epoll.
static void accept_idle(uint16_t port) {
  int listener = listen_on(port, k_idle + 16);
  g_epoll = epoll_create1(EPOLL_CLOEXEC);
  must(g_epoll >= 0, "epoll_create1");
  for (int i = 0; i < k_idle; i++) {
    struct pollfd pfd = {listener, POLLIN, 0};
    if (poll(&pfd, 1, k_accept_timeout_ms) != 1) {
      fprintf(stderr, "bench_net: %d of %d idle connections arrived on port %u\n", i, k_idle, port);
      exit(1);
    }
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    must(fd >= 0, "accept4");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    must(epoll_ctl(g_epoll, EPOLL_CTL_ADD, fd, &ev) == 0, "epoll_ctl");
  }
  close(listener);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
  must(epoll_ctl(g_epoll, EPOLL_CTL_ADD, g_server, &ev) == 0, "epoll_ctl");
}

static int usage(void) {
  fprintf(stderr, "usage: bench_net [tcp_pingpong|tcp_bulk_per_mib]...\n"
                  "       bench_net epoll_1000_idle PORT\n");
  return 2;
}

int main(int argc, char **argv) {
  tcp_pair(&g_client, &g_server);
  if (argc == 3 && strcmp(argv[1], "epoll_1000_idle") == 0) {
    long port = strtol(argv[2], NULL, 10);
    if (port <= 0 || port > 65535)
      return usage();
    accept_idle((uint16_t)port);
    report("epoll_1000_idle", op_epoll_pingpong_1000_idle, NULL, 20000);
    return 0;
  }
  const char *defaults[] = {"tcp_pingpong", "tcp_bulk_per_mib"};
  const char **rows = argc > 1 ? (const char **)argv + 1 : defaults;
  int row_count = argc > 1 ? argc - 1 : 2;
  for (int i = 0; i < row_count; i++) {
    if (strcmp(rows[i], "tcp_pingpong") != 0 && strcmp(rows[i], "tcp_bulk_per_mib") != 0)
      return usage();
  }
  for (int i = 0; i < row_count; i++) {
    if (strcmp(rows[i], "tcp_pingpong") == 0)
      report("tcp_pingpong", op_tcp_pingpong, NULL, 20000);
    else
      report("tcp_bulk_per_mib", op_tcp_bulk_per_mib, NULL, 64);
  }
  return 0;
}
