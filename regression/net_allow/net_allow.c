// net.allow: the socket calls a manifest allows work, the others fail with EACCES.
//
//   net_allow rules   under a manifest with exactly these rules:
//                       net.allow = ["bind tcp 127.0.0.1:*", "connect tcp 127.0.0.1:*"]
//   net_allow empty   under net.allow = []: nothing is allowed
//   net_allow open    natively, or under a manifest without net.allow: everything is
//
// A second argument says whether the host has IPv6 with a loopback address (::1), as the
// driver found out natively: "ipv6" (every IPv6 check must then run and pass, whatever
// the LibOS answers) or "no-ipv6" (they are skipped, and a "skip ipv6: ..." line says so).
//
// Prints "ok NAME" or "FAIL NAME: ..." per check, and for each call that must be refused
// an "expect-log: OP PROTO ADDRESS:PORT" line: run-net-allow checks that the LibOS logged
// each of those (and no other) as "not in net.allow". Exit status 1 when a check failed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum Mode { RULES, EMPTY, OPEN };

static enum Mode mode;
static int host_has_ipv6;
static int failures;

// The outcome of a call: 0 on success, else its errno.
static int outcome(int rc) { return rc < 0 ? errno : 0; }

// `want` is the errno expected in each mode (0: success); a refused call (EACCES) also
// announces the log line it must produce.
static void check(const char* name, int got, const int want[3], const char* log_line) {
    int w = want[mode];
    if (got == w) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: got %s, want %s\n", name, got ? strerror(got) : "success", w ? strerror(w) : "success");
        failures++;
    }
    if (w == EACCES)
        printf("expect-log: %s\n", log_line);
}

static struct sockaddr_in in4(const char* address, unsigned port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, address, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 in6(const char* address, unsigned port) {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((unsigned short)port);
    inet_pton(AF_INET6, address, &a.sin6_addr);
    return a;
}

#define SA(a) ((struct sockaddr*)&(a)), sizeof(a)

// A connected TCP pair through `listener` carries a byte each way.
static void check_exchange(const char* name, int client, int listener) {
    int server = accept(listener, NULL, NULL);
    char c = 0;
    int good = server >= 0 && write(client, "x", 1) == 1 && read(server, &c, 1) == 1 && c == 'x' &&
               write(server, "y", 1) == 1 && read(client, &c, 1) == 1 && c == 'y';
    if (good) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: %s\n", name, strerror(errno));
        failures++;
    }
    if (server >= 0)
        close(server);
}

static void ipv4_checks(void) {
    static const int allowed[3] = {0, EACCES, 0};
    static const int refused[3] = {EACCES, EACCES, 0};
    char log_line[128];

    // The listener on 127.0.0.1: its port, picked by the kernel, is P below.
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = in4("127.0.0.1", 0);
    check("tcp-bind-127.0.0.1-port-0", outcome(bind(listener, SA(a))), allowed, "bind tcp 127.0.0.1:0");
    unsigned port = 9;  // the discard port when the listener could not bind (net.allow = [])
    socklen_t len = sizeof(a);
    if (mode != EMPTY && listen(listener, 8) == 0 && getsockname(listener, (struct sockaddr*)&a, &len) == 0)
        port = ntohs(a.sin_port);

    int s = socket(AF_INET, SOCK_STREAM, 0);
    a = in4("127.0.0.1", port);
    snprintf(log_line, sizeof(log_line), "connect tcp 127.0.0.1:%u", port);
    check("tcp-connect-127.0.0.1", outcome(connect(s, SA(a))), allowed, log_line);
    if (mode != EMPTY)
        check_exchange("tcp-exchange-127.0.0.1", s, listener);
    close(s);

    // 127.0.0.2 is loopback too, with nobody listening: refused by the host when open.
    static const int other_address[3] = {EACCES, EACCES, ECONNREFUSED};
    s = socket(AF_INET, SOCK_STREAM, 0);
    a = in4("127.0.0.2", port);
    snprintf(log_line, sizeof(log_line), "connect tcp 127.0.0.2:%u", port);
    check("tcp-connect-127.0.0.2", outcome(connect(s, SA(a))), other_address, log_line);
    close(s);

    s = socket(AF_INET, SOCK_STREAM, 0);
    a = in4("0.0.0.0", 0);
    check("tcp-bind-0.0.0.0", outcome(bind(s, SA(a))), refused, "bind tcp 0.0.0.0:0");
    close(s);

    // No rule names udp.
    s = socket(AF_INET, SOCK_DGRAM, 0);
    a = in4("127.0.0.1", 0);
    check("udp-bind-127.0.0.1", outcome(bind(s, SA(a))), refused, "bind udp 127.0.0.1:0");
    a = in4("127.0.0.1", port);
    snprintf(log_line, sizeof(log_line), "connect udp 127.0.0.1:%u", port);
    ssize_t sent = sendto(s, "x", 1, 0, SA(a));
    check("udp-sendto-127.0.0.1", sent == 1 ? 0 : errno, refused, log_line);
    check("udp-connect-127.0.0.1", outcome(connect(s, SA(a))), refused, log_line);
    close(s);
    close(listener);
}

static void ipv6_checks(void) {
    static const int allowed[3] = {0, EACCES, 0};
    static const int refused[3] = {EACCES, EACCES, 0};
    char log_line[128];

    if (!host_has_ipv6) {
        printf("skip ipv6: the host has no IPv6 loopback (::1)\n");
        return;
    }
    int listener = socket(AF_INET6, SOCK_STREAM, 0);
    if (listener < 0) {
        printf("FAIL tcp6-socket: %s\n", strerror(errno));
        failures++;
        return;
    }
    // An IPv4-mapped address matches the IPv4 rules.
    struct sockaddr_in6 a = in6("::ffff:127.0.0.1", 0);
    check("tcp6-bind-mapped-127.0.0.1", outcome(bind(listener, SA(a))), allowed, "bind tcp [::ffff:127.0.0.1]:0");
    unsigned port = 9;
    socklen_t len = sizeof(a);
    if (mode != EMPTY && listen(listener, 8) == 0 && getsockname(listener, (struct sockaddr*)&a, &len) == 0)
        port = ntohs(a.sin6_port);

    int s = socket(AF_INET6, SOCK_STREAM, 0);
    a = in6("::ffff:127.0.0.1", port);
    snprintf(log_line, sizeof(log_line), "connect tcp [::ffff:127.0.0.1]:%u", port);
    check("tcp6-connect-mapped-127.0.0.1", outcome(connect(s, SA(a))), allowed, log_line);
    if (mode != EMPTY)
        check_exchange("tcp6-exchange-mapped-127.0.0.1", s, listener);
    close(s);
    close(listener);

    // ::1 is IPv6's loopback, not 127.0.0.1: no rule lists it. Without net.allow the host
    // has it (the driver checked), so the bind works.
    s = socket(AF_INET6, SOCK_STREAM, 0);
    a = in6("::1", 0);
    check("tcp6-bind-::1", outcome(bind(s, SA(a))), refused, "bind tcp [::1]:0");
    close(s);

    s = socket(AF_INET6, SOCK_DGRAM, 0);
    a = in6("2001:db8::1:0:0:1", 53);
    static const int documentation_net[3] = {EACCES, EACCES, -1};  // open: not run
    if (mode != OPEN)
        check("udp6-sendto-2001:db8::1:0:0:1", sendto(s, "x", 1, 0, SA(a)) == 1 ? 0 : errno, documentation_net,
              "connect udp [2001:db8::1:0:0:1]:53");
    close(s);
}

int main(int argc, char** argv) {
    if (argc != 3 || (strcmp(argv[1], "rules") && strcmp(argv[1], "empty") && strcmp(argv[1], "open")) ||
        (strcmp(argv[2], "ipv6") && strcmp(argv[2], "no-ipv6"))) {
        fprintf(stderr, "usage: net_allow rules|empty|open ipv6|no-ipv6\n");
        return 2;
    }
    mode = !strcmp(argv[1], "rules") ? RULES : !strcmp(argv[1], "empty") ? EMPTY : OPEN;
    host_has_ipv6 = !strcmp(argv[2], "ipv6");
    setvbuf(stdout, NULL, _IONBF, 0);
    ipv4_checks();
    ipv6_checks();
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
