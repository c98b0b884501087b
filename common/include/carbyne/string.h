// Freestanding string and memory functions for pal/, libos/ and loader/elf.
#pragma once

#include <stddef.h>
#include <stdint.h>

#if __STDC_HOSTED__
#include <string.h>  // host builds of the pure code (unit tests) use libc's
#else
extern "C" {
void* memcpy(void* dst, const void* src, size_t size);
void* memmove(void* dst, const void* src, size_t size);
void* memset(void* dst, int value, size_t size);
int memcmp(const void* a, const void* b, size_t size);
size_t strlen(const char* s);
size_t strnlen(const char* s, size_t max);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t size);
}
#endif

namespace carbyne {

inline bool str_equal(const char* a, const char* b) { return strcmp(a, b) == 0; }

inline bool starts_with(const char* s, const char* prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

// Copies at most size-1 bytes and always terminates (size > 0); returns strlen(src).
size_t strlcpy(char* dst, const char* src, size_t size);

// Parses a decimal unsigned integer; false on empty input, junk or overflow.
bool parse_u64(const char* s, uint64_t* out);

}  // namespace carbyne
