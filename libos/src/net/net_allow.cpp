// net.allow (see net_allow.h): the rule table from the boot config, and the check.
#include "net_allow.h"

#include <carbyne/format.h>
#include <libos/heap.h>
#include <libos/log.h>

#include "socket.h"

namespace carbyne::libos::net {

bool g_net_allow_set = false;

namespace {

// Written once by net_allow_init, before the application runs; read-only after.
boot::NetAllowRule* g_rules = nullptr;
size_t g_rule_count = 0;

constexpr size_t kAddressText = 64;  // "[" + the longest IPv6 text (45) + "]" + NUL, rounded up

// An IPv6 address as RFC 5952 writes it (lowercase, the longest run of two or more zero
// groups as "::", an IPv4-mapped address in dotted form), in brackets.
void format_ipv6(const uint8_t* a, char* buf, size_t size) {
    uint16_t g[8];
    for (int i = 0; i < 8; i++)
        g[i] = uint16_t(a[2 * i] << 8 | a[2 * i + 1]);
    if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff) {
        format(buf, size, "[::ffff:%u.%u.%u.%u]", a[12], a[13], a[14], a[15]);
        return;
    }
    int gap = -1, gap_len = 1;  // a single zero group is written as 0
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > gap_len) {
            gap = i;
            gap_len = j - i;
        }
        i = j == i ? i + 1 : j;
    }
    size_t n = format(buf, size, "[");
    for (int i = 0; i < 8 && n < size; i++) {
        if (i == gap) {
            n += format(buf + n, size - n, "::");
            i += gap_len - 1;
            continue;
        }
        bool first = i == 0 || i == gap + gap_len;
        n += format(buf + n, size - n, "%s%x", first ? "" : ":", g[i]);
    }
    if (n < size)
        format(buf + n, size - n, "]");
}

void format_address(const PalSockAddr& a, char* buf, size_t size) {
    if (a.family == PAL_AF_INET)
        format(buf, size, "%u.%u.%u.%u", a.addr[0], a.addr[1], a.addr[2], a.addr[3]);
    else if (a.family == PAL_AF_INET6)
        format_ipv6(a.addr, buf, size);
    else
        format(buf, size, "(address family %u)", a.family);
}

}  // namespace

Result<void> net_allow_init(const boot::Reader& config) {
    boot::Reader reader = config;
    boot::Record rec;
    bool set = false;
    uint64_t declared = 0;
    size_t count = 0;
    while (reader.next(&rec)) {
        if (rec.tag == boot::Tag::NetAllow) {
            if (set || !rec.as_u64(&declared))
                return Errno(EINVAL);
            set = true;
        } else if (rec.tag == boot::Tag::NetAllowRule) {
            count++;
        }
    }
    if (reader.error() || (set ? declared != count : count != 0))
        return Errno(EINVAL);
    if (!set)
        return {};

    boot::NetAllowRule* rules = nullptr;
    if (count) {
        rules = static_cast<boot::NetAllowRule*>(kmalloc(count * sizeof(boot::NetAllowRule)));
        if (!rules)
            return Errno(ENOMEM);
    }
    size_t i = 0;
    reader = config;
    while (reader.next(&rec)) {
        if (rec.tag == boot::Tag::NetAllowRule && !boot::decode_net_allow_rule(rec, &rules[i++])) {
            kfree(rules);
            return Errno(EINVAL);
        }
    }
    g_rules = rules;
    g_rule_count = count;
    g_net_allow_set = true;
    log_debug("net.allow: %zu rules", count);
    return {};
}

Result<void> net_allow_check_rules(NetAllowOp op, int sock_type, const PalSockAddr& addr) {
    boot::NetOp rule_op = op == NetAllowOp::Bind ? boot::NetOp::Bind : boot::NetOp::Connect;
    boot::NetProto proto = sock_type == SOCK_STREAM  ? boot::NetProto::Tcp
                           : sock_type == SOCK_DGRAM ? boot::NetProto::Udp
                                                     : boot::NetProto::Any;
    boot::NetFamily family = addr.family == PAL_AF_INET    ? boot::NetFamily::Inet
                             : addr.family == PAL_AF_INET6 ? boot::NetFamily::Inet6
                                                           : boot::NetFamily::Any;
    if (family != boot::NetFamily::Any) {
        for (size_t i = 0; i < g_rule_count; i++) {
            if (boot::net_rule_allows(g_rules[i], rule_op, proto, family, addr.addr, addr.port))
                return {};
        }
    }
    if (log_enabled(LogLevel::Warning)) {
        char address[kAddressText];
        format_address(addr, address, sizeof(address));
        const char* proto_name = proto == boot::NetProto::Tcp ? "tcp" : proto == boot::NetProto::Udp ? "udp" : "?";
        log_warning("%s %s %s:%u: not in net.allow (EACCES)", op == NetAllowOp::Bind ? "bind" : "connect",
                    proto_name, address, addr.port);
    }
    return Errno(EACCES);
}

}  // namespace carbyne::libos::net
