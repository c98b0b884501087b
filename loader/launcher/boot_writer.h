// Encoding the boot config (common/include/carbyne/boot_config.h) that carbyne-pal reads.
#pragma once

#include <stdint.h>

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "carbyne/boot_config.h"
#include "manifest.h"

namespace carbyne::launcher {

// Appends records after the header; finish() fixes the header's total size. Strings must
// not contain NUL (the format stores C strings); a bad record makes finish() fail.
class BootConfigWriter {
public:
    BootConfigWriter();

    void add_string(boot::Tag tag, std::string_view value);
    void add_u64(boot::Tag tag, uint64_t value);
    void add_mount(boot::MountType type, uint32_t flags, std::string_view path, std::string_view uri);
    void add_net_allow_rule(const boot::NetAllowRule& rule);

    // The finished config; the writer is left empty.
    absl::StatusOr<std::vector<uint8_t>> finish();

private:
    void begin_record(boot::Tag tag, uint64_t payload_size);
    void append(const void* data, size_t size);
    void end_record();
    void fail(absl::Status status);

    std::vector<uint8_t> m_bytes;
    absl::Status m_status;
};

// The whole boot config of `manifest`, with `libos_path` the host path of libos.so.
absl::StatusOr<std::vector<uint8_t>> encode_boot_config(const Manifest& manifest, std::string_view libos_path);

}  // namespace carbyne::launcher
