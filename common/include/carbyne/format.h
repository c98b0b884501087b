// A small printf for freestanding code: %d %i %u %x %X %o %p %s %c %% with the l, ll, z and
// h length modifiers, '-', '0' and '#' flags, field width and precision (both also as '*';
// precision is the minimum digit count for integers and the maximum length for %s).
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace carbyne {

// Like vsnprintf: writes at most size-1 characters plus a NUL and returns the length the
// whole output would have had.
size_t vformat(char* buf, size_t size, const char* fmt, va_list args);
size_t format(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace carbyne
