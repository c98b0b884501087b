// net.allow: the rule syntax, what a rule matches, and the key in a manifest.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <string>
#include <vector>

#include "manifest.h"
#include "test_util.h"

namespace carbyne::launcher {
namespace {

using boot::NetFamily;
using boot::NetOp;
using boot::NetProto;
using testing::TempDir;

boot::NetAllowRule parse_ok(const std::string& text) {
    INFO(text);
    absl::StatusOr<boot::NetAllowRule> rule = parse_net_allow_rule(text);
    INFO((rule.ok() ? "" : std::string(rule.status().message())));
    REQUIRE(rule.ok());
    return *rule;
}

std::string parse_error(const std::string& text) {
    INFO(text);
    absl::StatusOr<boot::NetAllowRule> rule = parse_net_allow_rule(text);
    REQUIRE_FALSE(rule.ok());
    return std::string(rule.status().message());
}

std::vector<uint8_t> address_bytes(const std::string& text) {
    std::vector<uint8_t> bytes(16, 0);
    bool v6 = text.find(':') != std::string::npos;
    REQUIRE(inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), bytes.data()) == 1);
    return bytes;
}

// Whether the rule `text` allows `op` over `proto` to `address` (IPv4 or IPv6 text) at `port`.
bool allows(const std::string& text, NetOp op, NetProto proto, const std::string& address, uint16_t port) {
    boot::NetAllowRule rule = parse_ok(text);
    NetFamily family = address.find(':') != std::string::npos ? NetFamily::Inet6 : NetFamily::Inet;
    return boot::net_rule_allows(rule, op, proto, family, address_bytes(address).data(), port);
}

TEST_CASE("net.allow rules: each part of the syntax", "[net_allow]") {
    boot::NetAllowRule r = parse_ok("bind tcp 127.0.0.1:6379");
    CHECK(r.op == NetOp::Bind);
    CHECK(r.proto == NetProto::Tcp);
    CHECK(r.family == NetFamily::Inet);
    CHECK(r.prefix_len == 32);
    CHECK(std::vector<uint8_t>(r.addr, r.addr + 16) == address_bytes("127.0.0.1"));
    CHECK(r.port_min == 6379);
    CHECK(r.port_max == 6379);

    r = parse_ok("connect udp [fd00::]/8:1-65535");
    CHECK(r.op == NetOp::Connect);
    CHECK(r.proto == NetProto::Udp);
    CHECK(r.family == NetFamily::Inet6);
    CHECK(r.prefix_len == 8);
    CHECK(std::vector<uint8_t>(r.addr, r.addr + 16) == address_bytes("fd00::"));
    CHECK(r.port_min == 1);
    CHECK(r.port_max == 65535);

    r = parse_ok("connect any *:*");
    CHECK(r.proto == NetProto::Any);
    CHECK(r.family == NetFamily::Any);
    CHECK(r.prefix_len == 0);
    CHECK(r.port_min == 0);
    CHECK(r.port_max == 65535);

    r = parse_ok("bind udp [::1]:0");
    CHECK(r.family == NetFamily::Inet6);
    CHECK(r.prefix_len == 128);
    CHECK(r.port_min == 0);
    CHECK(r.port_max == 0);

    r = parse_ok("  bind \t tcp   10.0.0.0/8:8000-8100 ");  // any run of spaces and tabs
    CHECK(r.prefix_len == 8);
    CHECK(r.port_min == 8000);
    CHECK(r.port_max == 8100);
}

TEST_CASE("net.allow rules: the canonical form round-trips", "[net_allow]") {
    const char* canonical[] = {
        "bind tcp 127.0.0.1:6379",      "connect tcp 127.0.0.1:1-65535", "bind udp [::1]:0",
        "connect tcp *:443",            "bind tcp 0.0.0.0:8000-8100",    "connect any 10.0.0.0/8:*",
        "connect udp [fd00::]/8:53",    "bind any [::ffff:127.0.0.1]:*", "connect tcp 0.0.0.0/0:80",
        "connect tcp [2001:db8::1]:22", "connect any [::]/0:*",
    };
    for (const char* text : canonical)
        CHECK(format_net_allow_rule(parse_ok(text)) == text);
    CHECK(format_net_allow_rule(parse_ok("connect tcp 127.0.0.1:0-65535")) == "connect tcp 127.0.0.1:*");
    CHECK(format_net_allow_rule(parse_ok("connect tcp 127.0.0.1:80-80")) == "connect tcp 127.0.0.1:80");
    CHECK(format_net_allow_rule(parse_ok("connect tcp 127.0.0.1/32:80")) == "connect tcp 127.0.0.1:80");
    CHECK(format_net_allow_rule(parse_ok("connect tcp [2001:DB8:0:0::1]/128:80")) == "connect tcp [2001:db8::1]:80");
}

TEST_CASE("net.allow rules: errors say what is wrong", "[net_allow]") {
    struct Case {
        const char* text;
        const char* says;
    };
    const Case cases[] = {
        {"", "OPERATION PROTOCOL ADDRESS:PORT"},
        {"bind tcp", "OPERATION PROTOCOL ADDRESS:PORT"},
        {"bind tcp 1.2.3.4:80 more", "OPERATION PROTOCOL ADDRESS:PORT"},
        {"listen tcp 1.2.3.4:80", "\"listen\" is not an operation (expected bind or connect)"},
        {"BIND tcp 1.2.3.4:80", "\"BIND\" is not an operation"},
        {"bind sctp 1.2.3.4:80", "\"sctp\" is not a protocol (expected tcp, udp or any)"},
        {"bind tcp 1.2.3.4", "\"1.2.3.4\" has no port"},
        {"bind tcp [::1]", "\"[::1]\" has no port"},
        {"bind tcp 1.2.3:80", "\"1.2.3\" is not an IPv4 address"},
        {"bind tcp 256.0.0.1:80", "\"256.0.0.1\" is not an IPv4 address"},
        {"bind tcp localhost:80", "\"localhost\" is not an IPv4 address"},
        {"bind tcp ::1:80", "an IPv6 address goes in brackets, as in [::1]"},
        {"bind tcp [::1:80", "has a '[' without its ']'"},
        {"bind tcp [fe80::1%eth0]:80", "\"fe80::1%eth0\" is not an IPv6 address"},
        {"bind tcp [fd00::/8]:80", "the prefix length goes after the bracket"},
        {"bind tcp [::1]x:80", "unexpected \"x\" after the address"},
        {"bind tcp 10.0.0.0/33:80", "\"/33\" is not a prefix length (expected /0 to /32)"},
        {"bind tcp [fd00::]/129:80", "\"/129\" is not a prefix length (expected /0 to /128)"},
        {"bind tcp 10.0.0.0/:80", "\"/\" is not a prefix length"},
        {"bind tcp 10.0.0.1/8:80", "has address bits set past its prefix (the network is 10.0.0.0/8)"},
        {"bind tcp [fd00::1]/8:80", "(the network is [fd00::]/8)"},
        {"bind tcp 1.2.3.4:", "\"\" is not a port"},
        {"bind tcp 1.2.3.4:65536", "\"65536\" is not a port"},
        {"bind tcp 1.2.3.4:-1", "\"-1\" is not a port"},
        {"bind tcp 1.2.3.4:http", "\"http\" is not a port"},
        {"bind tcp 1.2.3.4:1-2-3", "\"1-2-3\" is not a port"},
        {"bind tcp 1.2.3.4:90-80", "the port range \"90-80\" is empty (90 is greater than 80)"},
    };
    for (const Case& c : cases) {
        std::string message = parse_error(c.text);
        INFO(c.text << " -> " << message);
        CHECK(message.find(c.says) != std::string::npos);
    }
}

TEST_CASE("net.allow rules: what a rule matches", "[net_allow]") {
    const NetOp bind = NetOp::Bind, connect = NetOp::Connect;
    const NetProto tcp = NetProto::Tcp, udp = NetProto::Udp;

    // The operation and the protocol.
    CHECK(allows("bind tcp 127.0.0.1:6379", bind, tcp, "127.0.0.1", 6379));
    CHECK_FALSE(allows("bind tcp 127.0.0.1:6379", connect, tcp, "127.0.0.1", 6379));
    CHECK_FALSE(allows("connect tcp 127.0.0.1:6379", bind, tcp, "127.0.0.1", 6379));
    CHECK_FALSE(allows("bind tcp 127.0.0.1:6379", bind, udp, "127.0.0.1", 6379));
    CHECK(allows("bind any 127.0.0.1:6379", bind, udp, "127.0.0.1", 6379));
    CHECK(allows("bind any 127.0.0.1:6379", bind, tcp, "127.0.0.1", 6379));
    // Another socket type is allowed only by a rule for any protocol.
    CHECK(allows("bind any 127.0.0.1:6379", bind, NetProto::Any, "127.0.0.1", 6379));
    CHECK_FALSE(allows("bind tcp 127.0.0.1:6379", bind, NetProto::Any, "127.0.0.1", 6379));

    // Ports: a number, an inclusive range, *; 0 only when the rule includes it.
    CHECK_FALSE(allows("bind tcp 127.0.0.1:6379", bind, tcp, "127.0.0.1", 6380));
    CHECK_FALSE(allows("bind tcp 127.0.0.1:6379", bind, tcp, "127.0.0.1", 0));
    CHECK(allows("bind tcp 0.0.0.0:8000-8100", bind, tcp, "0.0.0.0", 8000));
    CHECK(allows("bind tcp 0.0.0.0:8000-8100", bind, tcp, "0.0.0.0", 8100));
    CHECK_FALSE(allows("bind tcp 0.0.0.0:8000-8100", bind, tcp, "0.0.0.0", 7999));
    CHECK_FALSE(allows("bind tcp 0.0.0.0:8000-8100", bind, tcp, "0.0.0.0", 8101));
    CHECK(allows("bind udp [::1]:0", bind, udp, "::1", 0));
    CHECK_FALSE(allows("bind udp [::1]:0", bind, udp, "::1", 53));
    CHECK(allows("bind tcp 127.0.0.1:*", bind, tcp, "127.0.0.1", 0));
    CHECK(allows("bind tcp 127.0.0.1:*", bind, tcp, "127.0.0.1", 65535));
    CHECK_FALSE(allows("connect tcp 127.0.0.1:1-65535", connect, tcp, "127.0.0.1", 0));

    // Addresses: exact, the wildcard address is just another address, prefixes.
    CHECK_FALSE(allows("bind tcp 127.0.0.1:*", bind, tcp, "127.0.0.2", 80));
    CHECK_FALSE(allows("bind tcp 127.0.0.1:*", bind, tcp, "0.0.0.0", 80));
    CHECK_FALSE(allows("bind tcp 0.0.0.0:*", bind, tcp, "127.0.0.1", 80));
    CHECK(allows("connect tcp 10.0.0.0/8:*", connect, tcp, "10.255.1.2", 80));
    CHECK_FALSE(allows("connect tcp 10.0.0.0/8:*", connect, tcp, "11.0.0.1", 80));
    CHECK(allows("connect tcp 192.168.4.0/22:*", connect, tcp, "192.168.7.255", 80));
    CHECK_FALSE(allows("connect tcp 192.168.4.0/22:*", connect, tcp, "192.168.8.0", 80));
    CHECK(allows("connect tcp 0.0.0.0/0:*", connect, tcp, "203.0.113.9", 80));
    CHECK_FALSE(allows("connect tcp 0.0.0.0/0:*", connect, tcp, "2001:db8::1", 80));
    CHECK(allows("connect tcp [fd00::]/8:*", connect, tcp, "fdab::1", 80));
    CHECK_FALSE(allows("connect tcp [fd00::]/8:*", connect, tcp, "fe00::1", 80));
    CHECK(allows("connect tcp [2001:db8::]/33:*", connect, tcp, "2001:db8:7fff::1", 80));
    CHECK_FALSE(allows("connect tcp [2001:db8::]/33:*", connect, tcp, "2001:db8:8000::1", 80));
    CHECK_FALSE(allows("connect tcp [::1]:*", connect, tcp, "127.0.0.1", 80));
    CHECK(allows("connect tcp *:443", connect, tcp, "198.51.100.7", 443));
    CHECK(allows("connect tcp *:443", connect, tcp, "2001:db8::7", 443));
    CHECK_FALSE(allows("connect tcp *:443", connect, tcp, "2001:db8::7", 80));

    // An IPv4-mapped IPv6 address matches IPv4 rules, and IPv6 rules as itself.
    CHECK(allows("connect tcp 127.0.0.1:80", connect, tcp, "::ffff:127.0.0.1", 80));
    CHECK(allows("connect tcp 10.0.0.0/8:80", connect, tcp, "::ffff:10.1.2.3", 80));
    CHECK_FALSE(allows("connect tcp 10.0.0.0/8:80", connect, tcp, "::ffff:11.1.2.3", 80));
    CHECK_FALSE(allows("connect tcp 127.0.0.1:80", connect, tcp, "::127.0.0.1", 80));  // IPv4-compatible
    CHECK_FALSE(allows("connect tcp 127.0.0.1:80", connect, tcp, "64:ff9b::127.0.0.1", 80));
    CHECK(allows("connect tcp [::ffff:127.0.0.1]:80", connect, tcp, "::ffff:127.0.0.1", 80));
    CHECK(allows("connect tcp [::]/0:80", connect, tcp, "::ffff:127.0.0.1", 80));
    CHECK_FALSE(allows("connect tcp [::ffff:127.0.0.1]:80", connect, tcp, "127.0.0.1", 80));
}

// Manifest text in tests starts on the line after R"( so that line 1 is the first written line.
ManifestResult parse(const TempDir& dir, const char* raw) {
    std::string text = raw[0] == '\n' ? std::string(raw + 1) : std::string(raw);
    return parse_manifest(text, "app.manifest.toml", dir.path(), {}, "/");
}

TEST_CASE("net.allow in a manifest: unset, empty and with rules", "[net_allow][manifest]") {
    TempDir dir;
    ManifestResult r = parse(dir, R"(
libos.entrypoint = "/bin/true"
)");
    REQUIRE(r.ok());
    CHECK_FALSE(r.manifest.net_allow.has_value());
    CHECK(format_manifest(r.manifest).find("# net.allow: not set, every address and port is allowed\n") !=
          std::string::npos);

    r = parse(dir, R"(
libos.entrypoint = "/bin/true"
net.allow = []
)");
    REQUIRE(r.ok());
    REQUIRE(r.manifest.net_allow.has_value());
    CHECK(r.manifest.net_allow->empty());
    CHECK(format_manifest(r.manifest).find("net.allow = []  # no address is allowed\n") != std::string::npos);

    r = parse(dir, R"(
libos.entrypoint = "/bin/true"

[net]
allow = [
  "bind tcp 127.0.0.1:6379",
  "connect tcp 127.0.0.1:1-65535",
  "bind udp [::1]:0",
  "connect tcp *:443",
  "bind tcp 0.0.0.0:8000-8100",
]
)");
    INFO((r.error ? r.error->to_string() : ""));
    REQUIRE(r.ok());
    REQUIRE(r.manifest.net_allow.has_value());
    std::vector<std::string> rules;
    for (const boot::NetAllowRule& rule : *r.manifest.net_allow)
        rules.push_back(format_net_allow_rule(rule));
    CHECK(rules == std::vector<std::string>{"bind tcp 127.0.0.1:6379", "connect tcp 127.0.0.1:1-65535",
                                            "bind udp [::1]:0", "connect tcp *:443", "bind tcp 0.0.0.0:8000-8100"});
    CHECK(format_manifest(r.manifest).find("net.allow = [\"bind tcp 127.0.0.1:6379\", \"connect tcp "
                                           "127.0.0.1:1-65535\", \"bind udp [::1]:0\", \"connect tcp *:443\", "
                                           "\"bind tcp 0.0.0.0:8000-8100\"]\n") != std::string::npos);
}

ManifestError expect_error(const char* raw, const std::string& key, uint32_t line) {
    TempDir dir;
    ManifestResult r = parse(dir, raw);
    INFO(raw);
    REQUIRE_FALSE(r.ok());
    INFO(r.error->to_string());
    CHECK(r.error->key == key);
    CHECK(r.error->line == line);
    std::string prefix = "app.manifest.toml:" + std::to_string(line) + ": " + key + ": ";
    CHECK(r.error->to_string().rfind(prefix, 0) == 0);
    return *r.error;
}

TEST_CASE("error: net.allow names the key, the rule's index and text, and the line", "[net_allow][errors]") {
    ManifestError e = expect_error(R"(
libos.entrypoint = "/bin/true"
net.allow = [
  "bind tcp 127.0.0.1:6379",

  "connect tcp 127.0.0.1:70000",
]
)",
                                   "net.allow[1]", 5);
    CHECK(e.to_string() ==
          "app.manifest.toml:5: net.allow[1]: \"connect tcp 127.0.0.1:70000\": \"70000\" is not a port (expected a "
          "number from 0 to 65535, a range like 8000-8100, or *)");

    // The first bad rule in source order, even when a later one is bad too.
    expect_error(R"(
libos.entrypoint = "/bin/true"
net.allow = ["bind tcp 127.0.0.1:*", "connect tcp localhost:80",
             "listen tcp 127.0.0.1:80"]
)",
                 "net.allow[1]", 2);

    e = expect_error(R"(
libos.entrypoint = "/bin/true"
net.allow = "connect tcp *:443"
)",
                     "net.allow", 2);
    CHECK(e.message.find("expected an array of strings") != std::string::npos);

    e = expect_error(R"(
libos.entrypoint = "/bin/true"
net.allow = ["connect tcp *:443", 443]
)",
                     "net.allow[1]", 2);
    CHECK(e.message == "expected a string, got an integer");

    expect_error(R"(
libos.entrypoint = "/bin/true"
net.deny = []
)",
                 "net.deny", 2);

    expect_error(R"(
libos.entrypoint = "/bin/true"
net = "everything"
)",
                 "net", 2);
}

}  // namespace
}  // namespace carbyne::launcher
