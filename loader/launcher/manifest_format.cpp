// Printing the effective configuration for `carbyne manifest check`.
#include "manifest.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace carbyne::launcher {

namespace {

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        unsigned char u = static_cast<unsigned char>(c);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (u < 0x20 || u == 0x7f)
                    out += absl::StrFormat("\\u%04X", u);
                else
                    out += c;
        }
    }
    out += '"';
    return out;
}

// A key as TOML writes it: bare when it can be, quoted otherwise.
std::string key_text(std::string_view name) {
    bool bare = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    return bare ? std::string(name) : quote(name);
}

}  // namespace

std::string format_manifest(const Manifest& m) {
    std::string out;
    auto line = [&](std::string_view text) {
        out.append(text.data(), text.size());
        out += '\n';
    };
    line(absl::StrFormat("libos.entrypoint = %s", quote(m.entrypoint)));
    std::vector<std::string> argv;
    for (const std::string& a : m.argv)
        argv.push_back(quote(a));
    line(absl::StrFormat("loader.argv = [%s]", absl::StrJoin(argv, ", ")));
    if (m.env.empty())
        line("# loader.env: no environment variables");
    for (const std::string& entry : m.env) {
        size_t eq = entry.find('=');
        line(absl::StrFormat("loader.env.%s = %s", key_text(std::string_view(entry).substr(0, eq)),
                             quote(std::string_view(entry).substr(eq + 1))));
    }
    line(absl::StrFormat("loader.log_level = %s", quote(log_level_name(m.log_level))));
    if (m.log_file)
        line(absl::StrFormat("loader.log_file = %s", quote(*m.log_file)));
    else
        line("# loader.log_file: not set, the log goes to stderr");
    line(absl::StrFormat("fs.start_dir = %s", quote(m.start_dir)));
    for (size_t i = 0; i < m.mounts.size(); i++) {
        const Mount& mount = m.mounts[i];
        bool chroot = mount.type == boot::MountType::Chroot;
        std::string uri = chroot ? absl::StrFormat(", uri = %s", quote("file:" + mount.host_path)) : "";
        line(absl::StrFormat("fs.mounts[%d] = { type = \"%s\", path = %s%s, readonly = %s }", i,
                             chroot ? "chroot" : "tmpfs", quote(mount.path), uri, mount.readonly ? "true" : "false"));
    }
    line(absl::StrFormat("sys.stack.size = %s  # %d bytes", quote(format_size(m.stack_size)), m.stack_size));
    line(absl::StrFormat("sys.brk.max_size = %s  # %d bytes", quote(format_size(m.brk_max_size)), m.brk_max_size));
    line(m.sandbox ? "sys.sandbox = true" : "sys.sandbox = false  # the application can reach the host kernel");
    if (!m.net_allow) {
        line("# net.allow: not set, every address and port is allowed");
    } else if (m.net_allow->empty()) {
        line("net.allow = []  # no address is allowed");
    } else {
        std::vector<std::string> rules;
        for (const boot::NetAllowRule& rule : *m.net_allow)
            rules.push_back(quote(format_net_allow_rule(rule)));
        line(absl::StrFormat("net.allow = [%s]", absl::StrJoin(rules, ", ")));
    }
    return out;
}

}  // namespace carbyne::launcher
