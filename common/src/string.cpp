// memcpy, memset and friends for the freestanding parts; the compiler emits calls to them.
#include <carbyne/string.h>

extern "C" {

// `rep movsb`/`rep stosb` are fast on every CPU with ERMS and keep the compiler from
// turning these loops back into calls to themselves.
void* memcpy(void* dst, const void* src, size_t size) {
    void* ret = dst;
    asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(size) : : "memory");
    return ret;
}

void* memmove(void* dst, const void* src, size_t size) {
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<const unsigned char*>(src);
    if (d <= s || d >= s + size)
        return memcpy(dst, src, size);
    // Overlapping with dst above src: copy backwards.
    d += size - 1;
    s += size - 1;
    asm volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(size) : : "memory");
    return dst;
}

void* memset(void* dst, int value, size_t size) {
    void* ret = dst;
    asm volatile("rep stosb" : "+D"(dst), "+c"(size) : "a"(value) : "memory");
    return ret;
}

int memcmp(const void* a, const void* b, size_t size) {
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < size; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char* s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char* s, size_t max) {
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char* a, const char* b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
}

int strncmp(const char* a, const char* b, size_t size) {
    for (size_t i = 0; i < size; i++) {
        if (a[i] != b[i] || !a[i])
            return static_cast<unsigned char>(a[i]) - static_cast<unsigned char>(b[i]);
    }
    return 0;
}

}  // extern "C"

namespace carbyne {

size_t strlcpy(char* dst, const char* src, size_t size) {
    size_t len = strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

bool parse_u64(const char* s, uint64_t* out) {
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        uint64_t d = uint64_t(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

}  // namespace carbyne
