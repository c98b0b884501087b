// libFuzzer target: the manifest parser and validator (loader/launcher), and the boot config
// the launcher encodes from a manifest it accepted.
//
// An input is manifest text. Relative host paths resolve against "/" (host paths are only
// looked up, never opened). For every accepted manifest the target also checks:
//   - the effective configuration keeps the validator's promises: the first mount at "/",
//     mounts at distinct normalized paths, absolute normalized entrypoint and start_dir,
//     each environment variable once, an absolute log file,
//   - it is printable (format_manifest),
//   - each net.allow rule and each size prints in a form that parses back to itself,
//   - the boot config encodes, and the PAL's and the LibOS's decoder reads back exactly
//     the records the launcher wrote.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "boot_writer.h"
#include "carbyne/boot_config.h"
#include "manifest.h"

namespace boot = carbyne::boot;
namespace launcher = carbyne::launcher;

namespace {

[[noreturn]] void fail(const char* what) {
    fprintf(stderr, "manifest fuzz: %s\n", what);
    abort();
}

void check(bool ok, const char* what) {
    if (!ok)
        fail(what);
}

bool same_rule(const boot::NetAllowRule& a, const boot::NetAllowRule& b) {
    return a.op == b.op && a.proto == b.proto && a.family == b.family && a.prefix_len == b.prefix_len &&
           a.port_min == b.port_min && a.port_max == b.port_max && memcmp(a.addr, b.addr, sizeof(a.addr)) == 0;
}

std::string next_string(boot::Reader& reader, boot::Tag tag) {
    boot::Record rec;
    check(reader.next(&rec), "the boot config ends early");
    check(rec.tag == tag, "a boot config record out of order");
    const char* s = rec.as_string();
    check(s != nullptr, "a boot config string record is not a string");
    return s;
}

uint64_t next_u64(boot::Reader& reader, boot::Tag tag) {
    boot::Record rec;
    check(reader.next(&rec), "the boot config ends early");
    check(rec.tag == tag, "a boot config record out of order");
    uint64_t v = 0;
    check(rec.as_u64(&v), "a boot config u64 record is not one");
    return v;
}

// The encoder's record order (encode_boot_config), read back with the decoder.
void check_boot_config(const launcher::Manifest& m) {
    constexpr char kLibos[] = "/usr/libexec/carbyne/libos.so";
    absl::StatusOr<std::vector<uint8_t>> bytes = launcher::encode_boot_config(m, kLibos);
    check(bytes.ok(), "an accepted manifest does not encode");
    boot::Reader reader(bytes->data(), bytes->size());
    check(reader.valid(), "the encoded boot config is invalid");
    check(next_string(reader, boot::Tag::LibosPath) == kLibos, "LibosPath differs");
    check(next_u64(reader, boot::Tag::LogLevel) == uint64_t(m.log_level), "LogLevel differs");
    if (m.log_file)
        check(next_string(reader, boot::Tag::LogFile) == *m.log_file, "LogFile differs");
    check(next_string(reader, boot::Tag::Entrypoint) == m.entrypoint, "Entrypoint differs");
    for (const std::string& arg : m.argv)
        check(next_string(reader, boot::Tag::Argv) == arg, "an Argv record differs");
    for (const std::string& entry : m.env)
        check(next_string(reader, boot::Tag::Env) == entry, "an Env record differs");
    for (const launcher::Mount& mount : m.mounts) {
        boot::Record rec;
        check(reader.next(&rec) && rec.tag == boot::Tag::Mount, "a Mount record is missing");
        boot::MountView view;
        check(boot::decode_mount(rec, &view), "a Mount record does not decode");
        check(view.type == mount.type && view.path == mount.path &&
                  ((view.flags & boot::kMountReadOnly) != 0) == mount.readonly,
              "a Mount record differs");
        if (mount.type == boot::MountType::Chroot)
            check(view.uri == mount.host_path, "a Mount record's host path differs");
    }
    check(next_string(reader, boot::Tag::StartDir) == m.start_dir, "StartDir differs");
    check(next_u64(reader, boot::Tag::StackSize) == m.stack_size, "StackSize differs");
    check(next_u64(reader, boot::Tag::BrkMaxSize) == m.brk_max_size, "BrkMaxSize differs");
    if (m.sandbox)
        check(next_u64(reader, boot::Tag::Sandbox) == 1, "Sandbox differs");
    if (m.net_allow) {
        check(next_u64(reader, boot::Tag::NetAllow) == m.net_allow->size(), "NetAllow differs");
        for (const boot::NetAllowRule& rule : *m.net_allow) {
            boot::Record rec;
            check(reader.next(&rec) && rec.tag == boot::Tag::NetAllowRule, "a NetAllowRule record is missing");
            boot::NetAllowRule decoded;
            check(boot::decode_net_allow_rule(rec, &decoded), "a NetAllowRule record does not decode");
            check(same_rule(decoded, rule), "a NetAllowRule record differs");
        }
    }
    boot::Record extra;
    check(!reader.next(&extra) && !reader.error(), "the boot config does not end cleanly");
}

bool is_normalized(const std::string& path) {
    absl::StatusOr<std::string> again = launcher::normalize_inside_path(path);
    return again.ok() && *again == path;
}

void check_accepted(const launcher::Manifest& m) {
    check(!m.mounts.empty() && m.mounts[0].path == "/", "the first mount is not at /");
    std::set<std::string> paths;
    for (const launcher::Mount& mount : m.mounts) {
        check(is_normalized(mount.path), "a mount path is not normalized");
        check(paths.insert(mount.path).second, "two mounts at one path");
        if (mount.type == boot::MountType::Chroot)
            check(!mount.host_path.empty() && mount.host_path[0] == '/', "a chroot mount without an absolute host path");
        else
            check(mount.type == boot::MountType::Tmpfs && mount.host_path.empty(), "a tmpfs mount with a host path");
    }
    check(is_normalized(m.entrypoint), "the entrypoint is not absolute and normalized");
    check(is_normalized(m.start_dir), "fs.start_dir is not absolute and normalized");
    check(!m.argv.empty(), "argv is empty");
    std::set<std::string> names;
    for (const std::string& entry : m.env) {
        size_t eq = entry.find('=');
        check(eq != std::string::npos && eq > 0, "an environment entry without NAME=");
        check(names.insert(entry.substr(0, eq)).second, "an environment variable twice");
    }
    check(!m.log_file || (!m.log_file->empty() && (*m.log_file)[0] == '/'), "loader.log_file is not absolute");
    check(m.stack_size > 0, "the stack size is zero");
    std::string printed = launcher::format_manifest(m);
    check(!printed.empty() && printed.back() == '\n', "format_manifest() printed nothing");

    for (uint64_t size : {m.stack_size, m.brk_max_size}) {
        absl::StatusOr<uint64_t> again = launcher::parse_size(launcher::format_size(size));
        check(again.ok() && *again == size, "a size does not print and parse back to itself");
    }
    if (m.net_allow) {
        for (const boot::NetAllowRule& rule : *m.net_allow) {
            absl::StatusOr<boot::NetAllowRule> again =
                launcher::parse_net_allow_rule(launcher::format_net_allow_rule(rule));
            check(again.ok() && same_rule(*again, rule), "a net.allow rule does not print and parse back to itself");
        }
    }
    check_boot_config(m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    static const std::vector<std::string> host_env = {"HOME=/root", "PATH=/usr/bin:/bin", "LANG=C", "EMPTY="};
    launcher::ManifestResult result = launcher::parse_manifest(text, "fuzz.manifest.toml", "/", host_env, "/");
    if (result.ok()) {
        check_accepted(result.manifest);
    } else {
        const launcher::ManifestError& e = *result.error;
        check(!e.message.empty(), "an error without a message");
        check(!e.to_string().empty(), "an error that prints as nothing");
    }
    return 0;
}
