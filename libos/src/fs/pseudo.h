// The pseudo file systems /proc, /dev and /sys: a constant tree of named nodes, shown
// through one FileSystem class (pseudo.cpp). procfs.cpp, devfs.cpp and sysfs.cpp only
// declare their trees and the functions that generate content.
//
// A node is a directory, a file whose text is generated into a buffer when it is opened
// (reads, pread and lseek then work on that snapshot, as Linux's seq_file does), a symlink
// whose target is generated when it is read, or a device whose open() makes its own File.
// A directory may also have dynamic entries, numbers computed at each lookup and readdir
// (the pid directories, fd/, task/, cpuN): each entry is a copy of one template node, and
// the number is carried down the path in a Ctx so that /proc/1/task/1/fd/3 knows its pid,
// tid and fd.
//
// The trees are constexpr data (no constructors run in the LibOS). Inode numbers are made
// from the node's place in libos.so and the numbers in its Ctx: stable for a run and
// unique within a mount.
//
// Lock order: nothing here holds a lock while generating content; generators take the
// process, descriptor-table and VMA locks themselves, one at a time.
#pragma once

#include <carbyne/boot_config.h>
#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

#include "vfs.h"

namespace carbyne::libos::ckpt {
class Encoder;
class Decoder;
}  // namespace carbyne::libos::ckpt

namespace carbyne::libos::fs {

// Mounts /proc, /dev (with a tmpfs at /dev/shm) and /sys after the manifest's mounts, so
// they shadow a host /proc or /dev seen through a chroot of the host's root. Also keeps
// argv and the environment from the boot config for /proc/<pid>/cmdline and environ.
Result<void> pseudofs_mount_all(const boot::Reader& config);

// Replaces what /proc/<pid>/cmdline and environ show (for execve and #! scripts, whose
// argv differs from the boot config's). Both arrays are NULL-terminated; either may be
// null to keep the current one. ENOMEM leaves the old values.
Result<void> procfs_set_args(const char* const* argv, const char* const* envp);
// /proc/self/cmdline and environ into a fork checkpoint, and back in the child.
void procfs_args_save(ckpt::Encoder& out);
Result<void> procfs_args_restore(ckpt::Decoder& in);

namespace pseudo {

// The generated text of a pseudo file. An allocation failure is remembered and reported
// by status() at the end, so that generators can append without checking each step.
class Text {
public:
    Text() = default;
    ~Text();
    Text(const Text&) = delete;
    Text& operator=(const Text&) = delete;

    void append(const char* s, size_t size);
    void puts(const char* s);
    void putc(char c) { append(&c, 1); }
    void print(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    // Room for `size` more bytes at the end; fill them, then commit() how many were used.
    // nullptr when out of memory.
    char* reserve(size_t size);
    void commit(size_t size) { m_size += size; }

    Result<void> status() const;
    const char* data() const { return m_data ? m_data : ""; }
    size_t size() const { return m_size; }
    // Hands the buffer (kmalloc'ed, may be null when empty) to the caller.
    char* release();

private:
    char* m_data = nullptr;
    size_t m_size = 0;
    size_t m_capacity = 0;
    bool m_failed = false;
};

// The numbers a path passed through: /proc/<pid>/task/<tid>/fd/<fd>, /sys/.../cpu<n>.
struct Ctx {
    int pid = 0;  // 0: not below a pid directory
    int tid = 0;  // 0: not below task/<tid>
    int fd = -1;
    int cpu = -1;
    int pty = -1;  // /dev/pts/<n>
};

enum class Slot : uint8_t { Pid, Tid, Fd, Cpu, Pty };

enum class Kind : uint8_t { Dir, File, Symlink, Device };

struct Node;

// Writes a file's content or a symlink's target. An error makes open or readlink fail
// (ENOENT when what the node shows has gone away).
using GenerateFn = Result<void> (*)(const Ctx& ctx, Text* out);
// Takes what was written to a file (a write(2) of `size` bytes at offset 0): its store
// method, as sysfs calls it. An error fails the write.
using StoreFn = Result<void> (*)(const Ctx& ctx, const char* data, size_t size);
// Opens a device; `st` is the node's status, which the File reports from fstat.
using OpenDeviceFn = Result<File*> (*)(uint32_t flags, const char* path, const Stat& st);

// A directory's entries that are numbers: "1", "3", or with a prefix "cpu0".
struct DynEntries {
    Slot slot;
    const char* prefix;  // "" for plain numbers
    // Writes up to `max` ids in ascending order; returns how many there are.
    size_t (*list)(const Ctx& ctx, int* ids, size_t max);
    bool (*exists)(const Ctx& ctx, int id);
    const Node* node;  // what each entry is (its name is ignored)
};

struct Node {
    const char* name;
    Kind kind;
    uint16_t perm;                       // permission bits (S_IRUSR...)
    const Node* children = nullptr;      // Dir: the fixed entries
    uint16_t child_count = 0;
    const DynEntries* dyn = nullptr;     // Dir: the numbered entries, if any
    GenerateFn generate = nullptr;       // File content / Symlink target...
    const char* text = nullptr;          // ...or this fixed text when generate is null
    OpenDeviceFn open = nullptr;         // Device
    uint64_t rdev = 0;                   // Device: makedev(major, minor)
    uint64_t size = 0;                   // st_size shown (Linux shows 0 in /proc, 4096 in /sys)
    uint32_t (*perm_of)(const Ctx& ctx) = nullptr;  // permission bits that depend on the Ctx
    bool magic = false;                  // Symlink: resolved to an object (FileSystem::magic_link)
    StoreFn store = nullptr;             // File: what a write does (none: the write fails)
    void (*stat_of)(const Ctx& ctx, Stat* st) = nullptr;  // status that depends on the Ctx
};

// Node constructors for the trees.
template <size_t N>
constexpr Node dir(const char* name, const Node (&children)[N], uint16_t perm = 0555,
                   const DynEntries* dyn = nullptr) {
    return Node{.name = name, .kind = Kind::Dir, .perm = perm, .children = children,
                .child_count = uint16_t(N), .dyn = dyn};
}
constexpr Node dyn_dir(const char* name, const DynEntries* dyn, uint16_t perm = 0555) {
    return Node{.name = name, .kind = Kind::Dir, .perm = perm, .dyn = dyn};
}
constexpr Node empty_dir(const char* name, uint16_t perm = 0555) {
    return Node{.name = name, .kind = Kind::Dir, .perm = perm};
}
constexpr Node file(const char* name, GenerateFn generate, uint16_t perm = 0444, uint64_t size = 0) {
    return Node{.name = name, .kind = Kind::File, .perm = perm, .generate = generate, .size = size};
}
// A file that can be written too: `store` takes what is written.
constexpr Node rw_file(const char* name, GenerateFn generate, StoreFn store, uint16_t perm = 0644) {
    return Node{.name = name, .kind = Kind::File, .perm = perm, .generate = generate, .store = store};
}
constexpr Node text_file(const char* name, const char* text, uint16_t perm = 0444, uint64_t size = 0) {
    return Node{.name = name, .kind = Kind::File, .perm = perm, .text = text, .size = size};
}
constexpr Node symlink(const char* name, GenerateFn target) {
    return Node{.name = name, .kind = Kind::Symlink, .perm = 0777, .generate = target};
}
constexpr Node fixed_symlink(const char* name, const char* target) {
    return Node{.name = name, .kind = Kind::Symlink, .perm = 0777, .text = target};
}
// A link Linux resolves to an object (/proc/<pid>/cwd, exe, root): `target` shows its path.
constexpr Node magic_link(const char* name, GenerateFn target) {
    return Node{.name = name, .kind = Kind::Symlink, .perm = 0777, .generate = target, .magic = true};
}
constexpr Node device(const char* name, OpenDeviceFn open, uint64_t rdev, uint16_t perm = 0666) {
    return Node{.name = name, .kind = Kind::Device, .perm = perm, .open = open, .rdev = rdev};
}

constexpr uint64_t makedev(uint64_t major, uint64_t minor) {
    return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~uint64_t{0xff}) << 12) |
           ((major & ~uint64_t{0xfff}) << 32);
}

// What sets one pseudo file system apart from another.
struct FsInfo {
    const char* type;        // shown in /proc/mounts
    const Node* root;
    uint64_t dev;            // st_dev of every node
    uint64_t magic;          // statfs f_type
    Errno create_error;      // creating a name that does not exist (mkdir, O_CREAT...)
    bool strict_write;       // opening a read-only file for writing is EACCES even for root
};

// A File that reports a node's status; the base of every file a pseudo file system opens.
class NodeFile : public File {
public:
    NodeFile(uint32_t flags, const char* path, const Stat& st) : File(flags, path), m_stat(st) {}
    Result<void> stat(Stat* out) override {
        *out = m_stat;
        return {};
    }

protected:
    Stat m_stat;
};

// The FileSystem showing a tree.
Result<FileSystem*> create(const FsInfo* info);

// When the LibOS started (the boot-time clock), for process start times and uptime.
uint64_t start_boottime_ns();

// The CPUs as a Linux list ("0" or "0-7"): online, possible, Cpus_allowed_list.
void put_cpu_list(Text* out);

}  // namespace pseudo

// The three trees (procfs.cpp, devfs.cpp, sysfs.cpp).
extern const pseudo::FsInfo g_procfs_info;
extern const pseudo::FsInfo g_devfs_info;
extern const pseudo::FsInfo g_sysfs_info;

// procfs.cpp: start-up state it keeps (boot id, argv, environment).
Result<void> procfs_init(const boot::Reader& config);

}  // namespace carbyne::libos::fs
