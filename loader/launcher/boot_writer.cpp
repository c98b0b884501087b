// Boot config encoding: the launcher's half of the format in carbyne/boot_config.h.
#include "boot_writer.h"

#include <string.h>

#include <utility>

#include "absl/strings/str_format.h"

namespace carbyne::launcher {

namespace {

void put32(uint8_t* at, uint32_t v) {
    for (int i = 0; i < 4; i++)
        at[i] = uint8_t(v >> (8 * i));
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

BootConfigWriter::BootConfigWriter() {
    m_bytes.resize(boot::kHeaderSize);
    memcpy(m_bytes.data(), boot::kMagic, sizeof(boot::kMagic));
    put32(m_bytes.data() + 8, boot::kVersion);
    put32(m_bytes.data() + 12, 0);
}

void BootConfigWriter::fail(absl::Status status) {
    if (m_status.ok())
        m_status = std::move(status);
}

void BootConfigWriter::begin_record(boot::Tag tag, uint64_t payload_size) {
    if (payload_size > boot::kMaxSize) {
        fail(absl::OutOfRangeError(absl::StrFormat("boot config record %d is too large", uint16_t(tag))));
        payload_size = 0;
    }
    uint8_t head[8] = {};
    head[0] = uint8_t(uint16_t(tag));
    head[1] = uint8_t(uint16_t(tag) >> 8);
    put32(head + 4, uint32_t(payload_size));
    append(head, sizeof(head));
}

void BootConfigWriter::append(const void* data, size_t size) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    m_bytes.insert(m_bytes.end(), p, p + size);
}

void BootConfigWriter::end_record() { m_bytes.resize((m_bytes.size() + 7) & ~size_t{7}, 0); }

void BootConfigWriter::add_string(boot::Tag tag, std::string_view value) {
    if (has_nul(value))
        fail(absl::InvalidArgumentError(
            absl::StrFormat("boot config record %d: a string contains a NUL character", uint16_t(tag))));
    begin_record(tag, uint64_t{value.size()} + 1);
    append(value.data(), value.size());
    m_bytes.push_back(0);
    end_record();
}

void BootConfigWriter::add_u64(boot::Tag tag, uint64_t value) {
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = uint8_t(value >> (8 * i));
    begin_record(tag, sizeof(le));
    append(le, sizeof(le));
    end_record();
}

void BootConfigWriter::add_mount(boot::MountType type, uint32_t flags, std::string_view path, std::string_view uri) {
    if (has_nul(path) || has_nul(uri))
        fail(absl::InvalidArgumentError("boot config mount record: a path contains a NUL character"));
    boot::MountRecordHeader h{uint32_t(type), flags, uint32_t(path.size() + 1), uint32_t(uri.size() + 1)};
    uint8_t raw[sizeof(h)];
    put32(raw + 0, h.type);
    put32(raw + 4, h.flags);
    put32(raw + 8, h.path_size);
    put32(raw + 12, h.uri_size);
    begin_record(boot::Tag::Mount, sizeof(raw) + uint64_t{path.size()} + 1 + uri.size() + 1);
    append(raw, sizeof(raw));
    append(path.data(), path.size());
    m_bytes.push_back(0);
    append(uri.data(), uri.size());
    m_bytes.push_back(0);
    end_record();
}

void BootConfigWriter::add_net_allow_rule(const boot::NetAllowRule& rule) {
    uint8_t raw[boot::kNetAllowRuleSize];
    boot::encode_net_allow_rule(rule, raw);
    begin_record(boot::Tag::NetAllowRule, sizeof(raw));
    append(raw, sizeof(raw));
    end_record();
}

absl::StatusOr<std::vector<uint8_t>> BootConfigWriter::finish() {
    std::vector<uint8_t> bytes = std::exchange(m_bytes, {});
    absl::Status status = std::exchange(m_status, absl::OkStatus());
    if (!status.ok())
        return status;
    if (bytes.size() > boot::kMaxSize)
        return absl::OutOfRangeError(
            absl::StrFormat("the boot config is %d bytes, more than the limit of %d", bytes.size(), boot::kMaxSize));
    put32(bytes.data() + 12, uint32_t(bytes.size()));
    return bytes;
}

absl::StatusOr<std::vector<uint8_t>> encode_boot_config(const Manifest& m, std::string_view libos_path) {
    BootConfigWriter w;
    w.add_string(boot::Tag::LibosPath, libos_path);
    w.add_u64(boot::Tag::LogLevel, uint64_t(m.log_level));
    if (m.log_file)
        w.add_string(boot::Tag::LogFile, *m.log_file);
    w.add_string(boot::Tag::Entrypoint, m.entrypoint);
    for (const std::string& arg : m.argv)
        w.add_string(boot::Tag::Argv, arg);
    for (const std::string& entry : m.env)
        w.add_string(boot::Tag::Env, entry);
    for (const Mount& mount : m.mounts) {
        uint32_t flags = mount.readonly ? boot::kMountReadOnly : 0;
        std::string_view uri = mount.type == boot::MountType::Chroot ? std::string_view(mount.host_path) : "none";
        w.add_mount(mount.type, flags, mount.path, uri);
    }
    w.add_string(boot::Tag::StartDir, m.start_dir);
    w.add_u64(boot::Tag::StackSize, m.stack_size);
    w.add_u64(boot::Tag::BrkMaxSize, m.brk_max_size);
    if (m.sandbox)
        w.add_u64(boot::Tag::Sandbox, 1);
    // NetAllow marks that the key is set (an empty list allows nothing) and counts the rules.
    if (m.net_allow) {
        w.add_u64(boot::Tag::NetAllow, m.net_allow->size());
        for (const boot::NetAllowRule& rule : *m.net_allow)
            w.add_net_allow_rule(rule);
    }
    return w.finish();
}

}  // namespace carbyne::launcher
