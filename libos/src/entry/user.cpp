// Checked copies between the LibOS and application memory.
#include <libos/pal.h>
#include <libos/user.h>

#include "../mm/arena.h"

extern "C" {
long libos_usercopy(void* dst, const void* src, size_t size);
long libos_userset(void* dst, int value, size_t size);
long libos_userstr(char* dst, const char* src, size_t max);
extern const char libos_usercopy_begin[], libos_usercopy_end[], libos_usercopy_fault[];
}

namespace carbyne::libos {

namespace {
constexpr uint64_t kUserTop = 1ull << 47;

bool overlaps(uint64_t a, uint64_t size, uint64_t start, uint64_t end) { return a < end && start < a + size; }
}  // namespace

bool user_access_ok(uint64_t addr, size_t size) {
    constexpr uint64_t kUserPtrMax = kUserTop - 4096;  // USER_PTR_MAX (TASK_SIZE_MAX)
    uint64_t end;
    return !__builtin_add_overflow(addr, size, &end) && end <= kUserPtrMax;
}

bool user_range_ok(uint64_t addr, size_t size) {
    uint64_t end;
    if (__builtin_add_overflow(addr, size, &end) || end > kUserTop || addr == 0)
        return false;
    // The LibOS's and the PAL's own memory: their images, the LibOS's arena (heap, tmpfs
    // data) and the PAL's region (thread stacks and TCBs, handles).
    return !overlaps(addr, size, g_boot->pal_start, g_boot->pal_end) &&
           !overlaps(addr, size, g_boot->libos_start, g_boot->libos_end) &&
           !overlaps(addr, size, g_boot->pal_memory_start, g_boot->pal_memory_end) && !mm::arena_overlaps(addr, size);
}

Result<void> copy_from_user(void* dst, uint64_t user_src, size_t size) {
    if (!size)
        return {};
    if (!user_range_ok(user_src, size) || libos_usercopy(dst, reinterpret_cast<const void*>(user_src), size))
        return Errno(EFAULT);
    return {};
}

Result<void> copy_to_user(uint64_t user_dst, const void* src, size_t size) {
    if (!size)
        return {};
    if (!user_range_ok(user_dst, size) || libos_usercopy(reinterpret_cast<void*>(user_dst), src, size))
        return Errno(EFAULT);
    return {};
}

Result<void> clear_user(uint64_t user_dst, size_t size) {
    if (!size)
        return {};
    if (!user_range_ok(user_dst, size) || libos_userset(reinterpret_cast<void*>(user_dst), 0, size))
        return Errno(EFAULT);
    return {};
}

Result<size_t> copy_string_from_user(char* dst, uint64_t user_src, size_t max) {
    if (!user_range_ok(user_src, 1))
        return Errno(EFAULT);
    // Never read past the end of user space, even when max would allow it.
    if (max > kUserTop - user_src)
        max = kUserTop - user_src;
    long n = libos_userstr(dst, reinterpret_cast<const char*>(user_src), max);
    if (n < 0)
        return Errno(EFAULT);
    if (size_t(n) == max)
        return Errno(ENAMETOOLONG);
    return size_t(n);
}

bool usercopy_fixup(uint64_t* rip, uint64_t* rax) {
    if (*rip < uint64_t(libos_usercopy_begin) || *rip >= uint64_t(libos_usercopy_end))
        return false;
    *rip = uint64_t(libos_usercopy_fault);
    *rax = uint64_t(-EFAULT);
    return true;
}

}  // namespace carbyne::libos
