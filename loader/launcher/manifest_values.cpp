// Manifest values: sizes, log levels, net.allow rules, paths inside the LibOS and on the host,
// the environment.
#include "manifest.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace carbyne::launcher {

absl::StatusOr<uint64_t> parse_size(std::string_view text) {
    auto bad = [&] {
        return absl::InvalidArgumentError(absl::StrFormat(
            "\"%s\" is not a size (expected a number of bytes, optionally followed by K, M or G)", text));
    };
    if (text.empty())
        return bad();
    uint64_t unit = 1;
    switch (text.back()) {
        case 'K': case 'k': unit = uint64_t{1} << 10; break;
        case 'M': case 'm': unit = uint64_t{1} << 20; break;
        case 'G': case 'g': unit = uint64_t{1} << 30; break;
        default: break;
    }
    std::string_view digits = unit == 1 ? text : text.substr(0, text.size() - 1);
    if (digits.empty())
        return bad();
    uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9')
            return bad();
        if (value > (UINT64_MAX - uint64_t(c - '0')) / 10)
            return absl::OutOfRangeError(absl::StrFormat("size \"%s\" is too large", text));
        value = value * 10 + uint64_t(c - '0');
    }
    if (value > UINT64_MAX / unit)
        return absl::OutOfRangeError(absl::StrFormat("size \"%s\" is too large", text));
    return value * unit;
}

std::string format_size(uint64_t size) {
    if (size != 0) {
        if (size % (uint64_t{1} << 30) == 0)
            return absl::StrFormat("%dG", size >> 30);
        if (size % (uint64_t{1} << 20) == 0)
            return absl::StrFormat("%dM", size >> 20);
        if (size % (uint64_t{1} << 10) == 0)
            return absl::StrFormat("%dK", size >> 10);
    }
    return absl::StrFormat("%d", size);
}

std::optional<boot::LogLevel> parse_log_level(std::string_view name) {
    static constexpr boot::LogLevel kLevels[] = {boot::LogLevel::None, boot::LogLevel::Error, boot::LogLevel::Warning,
                                                 boot::LogLevel::Debug, boot::LogLevel::Trace};
    for (boot::LogLevel level : kLevels) {
        if (name == log_level_name(level))
            return level;
    }
    return std::nullopt;
}

const char* log_level_name(boot::LogLevel level) {
    switch (level) {
        case boot::LogLevel::None: return "none";
        case boot::LogLevel::Error: return "error";
        case boot::LogLevel::Warning: return "warning";
        case boot::LogLevel::Debug: return "debug";
        case boot::LogLevel::Trace: return "trace";
    }
    return "unknown";
}

namespace {

// A decimal number from 0 to `max`, digits only.
std::optional<uint32_t> parse_small_number(std::string_view text, uint32_t max) {
    if (text.empty() || text.size() > 5)
        return std::nullopt;
    uint32_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + uint32_t(c - '0');
    }
    if (value > max)
        return std::nullopt;
    return value;
}

// "*", "N" or "N-M" into the rule's port range.
absl::Status parse_ports(std::string_view text, boot::NetAllowRule* rule) {
    if (text == "*") {
        rule->port_min = 0;
        rule->port_max = UINT16_MAX;
        return absl::OkStatus();
    }
    size_t dash = text.find('-');
    std::optional<uint32_t> low = parse_small_number(text.substr(0, dash), UINT16_MAX);
    std::optional<uint32_t> high =
        dash == std::string_view::npos ? low : parse_small_number(text.substr(dash + 1), UINT16_MAX);
    if (!low || !high)
        return absl::InvalidArgumentError(absl::StrFormat(
            "\"%s\" is not a port (expected a number from 0 to 65535, a range like 8000-8100, or *)", text));
    if (*low > *high)
        return absl::InvalidArgumentError(
            absl::StrFormat("the port range \"%s\" is empty (%d is greater than %d)", text, *low, *high));
    rule->port_min = uint16_t(*low);
    rule->port_max = uint16_t(*high);
    return absl::OkStatus();
}

// The rule's address without its prefix length: "10.0.0.0" or "[fd00::]".
std::string address_text(const boot::NetAllowRule& rule) {
    char buf[INET6_ADDRSTRLEN];
    bool v4 = rule.family == boot::NetFamily::Inet;
    if (!inet_ntop(v4 ? AF_INET : AF_INET6, rule.addr, buf, sizeof(buf)))
        return "?";
    return v4 ? std::string(buf) : absl::StrFormat("[%s]", buf);
}

// "*", "a.b.c.d[/N]" or "[v6][/N]" into the rule's family, address and prefix length.
absl::Status parse_address(std::string_view text, boot::NetAllowRule* rule) {
    if (text == "*") {
        rule->family = boot::NetFamily::Any;
        rule->prefix_len = 0;
        return absl::OkStatus();
    }
    std::string_view address;
    std::string_view suffix;  // what follows the address: "" or "/N"
    if (!text.empty() && text[0] == '[') {
        size_t close = text.find(']');
        if (close == std::string_view::npos)
            return absl::InvalidArgumentError(absl::StrFormat("\"%s\" has a '[' without its ']'", text));
        address = text.substr(1, close - 1);
        suffix = text.substr(close + 1);
        rule->family = boot::NetFamily::Inet6;
        if (address.find('/') != std::string_view::npos)
            return absl::InvalidArgumentError(
                absl::StrFormat("in \"%s\" the prefix length goes after the bracket, as in [fd00::]/8", text));
    } else {
        size_t slash = text.find('/');
        address = text.substr(0, slash);
        suffix = slash == std::string_view::npos ? std::string_view() : text.substr(slash);
        rule->family = boot::NetFamily::Inet;
        if (address.find(':') != std::string_view::npos)
            return absl::InvalidArgumentError(absl::StrFormat("an IPv6 address goes in brackets, as in [%s]", address));
    }
    bool v4 = rule->family == boot::NetFamily::Inet;
    memset(rule->addr, 0, sizeof(rule->addr));
    if (inet_pton(v4 ? AF_INET : AF_INET6, std::string(address).c_str(), rule->addr) != 1)
        return absl::InvalidArgumentError(
            absl::StrFormat("\"%s\" is not an %s address", address, v4 ? "IPv4" : "IPv6"));

    uint32_t max_prefix = v4 ? 32 : 128;
    rule->prefix_len = uint8_t(max_prefix);
    if (suffix.empty())
        return absl::OkStatus();
    if (suffix[0] != '/')
        return absl::InvalidArgumentError(
            absl::StrFormat("unexpected \"%s\" after the address in \"%s\"", suffix, text));
    std::optional<uint32_t> prefix = parse_small_number(suffix.substr(1), max_prefix);
    if (!prefix)
        return absl::InvalidArgumentError(
            absl::StrFormat("\"%s\" is not a prefix length (expected /0 to /%d)", suffix, max_prefix));
    rule->prefix_len = uint8_t(*prefix);

    // A prefix with bits set past its length is most likely a typo (10.0.0.1/8 for 10.0.0.0/8).
    boot::NetAllowRule network = *rule;
    for (uint32_t bit = *prefix; bit < max_prefix; bit++)
        network.addr[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
    if (memcmp(network.addr, rule->addr, sizeof(rule->addr)) != 0)
        return absl::InvalidArgumentError(
            absl::StrFormat("\"%s\" has address bits set past its prefix (the network is %s/%d)", text,
                            address_text(network), *prefix));
    return absl::OkStatus();
}

}  // namespace

// OP PROTO ADDRESS:PORT, words separated by spaces or tabs:
//   OP       bind | connect (connect also covers sending a datagram to an address)
//   PROTO    tcp | udp | any
//   ADDRESS  *                 any address of either family
//            a.b.c.d[/N]       an IPv4 address, or a network of prefix length N (0-32)
//            [v6][/N]          an IPv6 address in brackets, or a network (0-128)
//   PORT     * | N | N-M       0 to 65535, inclusive; in a bind rule 0 is an ephemeral port
absl::StatusOr<boot::NetAllowRule> parse_net_allow_rule(std::string_view text) {
    std::vector<absl::string_view> words =
        absl::StrSplit(absl::string_view(text.data(), text.size()), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() != 3)
        return absl::InvalidArgumentError(
            "expected \"OPERATION PROTOCOL ADDRESS:PORT\", as in \"connect tcp 127.0.0.1:8080\"");
    boot::NetAllowRule rule{};
    if (words[0] == "bind")
        rule.op = boot::NetOp::Bind;
    else if (words[0] == "connect")
        rule.op = boot::NetOp::Connect;
    else
        return absl::InvalidArgumentError(
            absl::StrFormat("\"%s\" is not an operation (expected bind or connect)", words[0]));
    if (words[1] == "tcp")
        rule.proto = boot::NetProto::Tcp;
    else if (words[1] == "udp")
        rule.proto = boot::NetProto::Udp;
    else if (words[1] == "any")
        rule.proto = boot::NetProto::Any;
    else
        return absl::InvalidArgumentError(
            absl::StrFormat("\"%s\" is not a protocol (expected tcp, udp or any)", words[1]));

    // The port follows the last ':' (an IPv6 address has its own inside the brackets).
    std::string_view endpoint(words[2].data(), words[2].size());
    size_t colon = endpoint.rfind(':');
    size_t close = endpoint.rfind(']');
    if (colon == std::string_view::npos || (close != std::string_view::npos && colon < close))
        return absl::InvalidArgumentError(
            absl::StrFormat("\"%s\" has no port (expected ADDRESS:PORT, the port a number, a range or *)", endpoint));
    if (absl::Status s = parse_address(endpoint.substr(0, colon), &rule); !s.ok())
        return s;
    if (absl::Status s = parse_ports(endpoint.substr(colon + 1), &rule); !s.ok())
        return s;
    return rule;
}

std::string format_net_allow_rule(const boot::NetAllowRule& rule) {
    const char* op = rule.op == boot::NetOp::Bind ? "bind" : "connect";
    const char* proto = rule.proto == boot::NetProto::Tcp   ? "tcp"
                        : rule.proto == boot::NetProto::Udp ? "udp"
                                                            : "any";
    std::string address = "*";
    if (rule.family != boot::NetFamily::Any) {
        address = address_text(rule);
        uint32_t full = rule.family == boot::NetFamily::Inet ? 32 : 128;
        if (rule.prefix_len != full)
            address += absl::StrFormat("/%d", rule.prefix_len);
    }
    std::string ports;
    if (rule.port_min == 0 && rule.port_max == UINT16_MAX)
        ports = "*";
    else if (rule.port_min == rule.port_max)
        ports = absl::StrFormat("%d", rule.port_min);
    else
        ports = absl::StrFormat("%d-%d", rule.port_min, rule.port_max);
    return absl::StrFormat("%s %s %s:%s", op, proto, address, ports);
}

absl::StatusOr<std::string> normalize_inside_path(std::string_view path) {
    if (path.empty())
        return absl::InvalidArgumentError("path must not be empty");
    if (path.find('\0') != std::string_view::npos)
        return absl::InvalidArgumentError("path must not contain NUL characters");
    if (path[0] != '/')
        return absl::InvalidArgumentError(absl::StrFormat("\"%s\" is not an absolute path", path));
    std::string out;
    for (absl::string_view part : absl::StrSplit(absl::string_view(path.data(), path.size()), '/')) {
        if (part.empty() || part == ".")
            continue;
        if (part == "..")
            return absl::InvalidArgumentError(absl::StrFormat("\"%s\" must not contain \"..\"", path));
        out += '/';
        out.append(part.data(), part.size());
    }
    return out.empty() ? std::string("/") : out;
}

absl::StatusOr<std::string> resolve_host_path(std::string_view path, std::string_view base_dir) {
    std::string full = !path.empty() && path[0] == '/' ? std::string(path) : absl::StrFormat("%s/%s", base_dir, path);
    char* real = realpath(full.c_str(), nullptr);
    if (!real)
        return absl::NotFoundError(absl::StrFormat("host path %s: %s", full, strerror(errno)));
    std::string resolved(real);
    free(real);
    struct stat st;
    if (stat(resolved.c_str(), &st) != 0)
        return absl::NotFoundError(absl::StrFormat("host path %s: %s", resolved, strerror(errno)));
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return absl::InvalidArgumentError(
            absl::StrFormat("host path %s is neither a directory nor a regular file", resolved));
    return resolved;
}

absl::StatusOr<std::string> current_dir() {
    std::error_code ec;
    std::filesystem::path cwd = std::filesystem::current_path(ec);
    if (ec)
        return absl::FailedPreconditionError(
            absl::StrFormat("cannot get the current directory: %s", ec.message()));
    return cwd.string();
}

std::vector<std::string> host_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; e++)
        env.emplace_back(*e);
    return env;
}
}  // namespace carbyne::launcher
