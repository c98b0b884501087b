// /sys: the CPU list glibc's get_nprocs/sysconf and Python's os.cpu_count read, and the
// transparent-huge-page settings glibc's malloc reads. The LibOS does not use huge pages
// for the application, so "never" is selected.
#include <libos/pal.h>

#include "pseudo.h"

namespace carbyne::libos::fs {

namespace {

using pseudo::Ctx;
using pseudo::DynEntries;
using pseudo::Node;
using pseudo::Slot;
using pseudo::Text;

constexpr uint64_t kAttrSize = 4096;  // sysfs attributes show a page as their size

uint64_t cpu_count() { return g_boot->cpu_count ? g_boot->cpu_count : 1; }

size_t list_cpus(const Ctx&, int* ids, size_t max) {
    uint64_t n = cpu_count();
    for (size_t i = 0; i < n && i < max; i++)
        ids[i] = int(i);
    return size_t(n);
}

bool cpu_exists(const Ctx&, int id) { return id >= 0 && uint64_t(id) < cpu_count(); }

// Every CPU is online and there are no others: online, possible and present agree.
Result<void> gen_cpu_list(const Ctx&, Text* out) {
    pseudo::put_cpu_list(out);
    out->putc('\n');
    return {};
}

using pseudo::dir;
using pseudo::dyn_dir;
using pseudo::empty_dir;
using pseudo::file;
using pseudo::text_file;

constexpr Node kCpuDir = empty_dir("", 0755);
constexpr DynEntries kCpuEntries = {Slot::Cpu, "cpu", list_cpus, cpu_exists, &kCpuDir};

constexpr Node kCpu[] = {
    text_file("offline", "\n", 0444, kAttrSize),
    file("online", gen_cpu_list, 0444, kAttrSize),
    file("possible", gen_cpu_list, 0444, kAttrSize),
    file("present", gen_cpu_list, 0444, kAttrSize),
};
constexpr Node kSystem[] = {dir("cpu", kCpu, 0755, &kCpuEntries)};
constexpr Node kDevices[] = {dir("system", kSystem, 0755)};

constexpr Node kHugepage[] = {
    text_file("defrag", "always defer defer+madvise madvise [never]\n", 0644, kAttrSize),
    text_file("enabled", "always madvise [never]\n", 0644, kAttrSize),
    text_file("hpage_pmd_size", "2097152\n", 0444, kAttrSize),
};
constexpr Node kMm[] = {dir("transparent_hugepage", kHugepage, 0755)};
constexpr Node kKernel[] = {dir("mm", kMm, 0755)};

constexpr Node kRootChildren[] = {
    dir("devices", kDevices, 0755),
    dir("kernel", kKernel, 0755),
};
constexpr Node kRoot = dir("", kRootChildren, 0555);

}  // namespace

// Creating anything is EPERM; opening an attribute without a store method for writing is
// EACCES, even for root.
constinit const pseudo::FsInfo g_sysfs_info = {
    "sysfs", &kRoot, pseudo::makedev(0, 0x7c3), 0x62656572 /* SYSFS_MAGIC */, Errno(EPERM), true};

}  // namespace carbyne::libos::fs
