// vformat: the formatter behind every log line of the PAL and the LibOS.
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <stdint.h>

namespace carbyne {
namespace {

struct Out {
    char* buf;
    size_t size;
    size_t len = 0;

    void put(char c) {
        if (len + 1 < size)
            buf[len] = c;
        len++;
    }
    void pad(char c, int count) {
        for (int i = 0; i < count; i++)
            put(c);
    }
};

// `precision` is the minimum number of digits (-1: none given; 0 with a zero value prints
// no digits), as in printf.
void put_number(Out& out, uint64_t value, unsigned base, bool upper, bool negative, int width, bool left,
                bool zero_pad, const char* prefix, int precision) {
    char digits[24];
    int n = 0;
    const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    if (value || precision != 0) {
        do {
            digits[n++] = set[value % base];
            value /= base;
        } while (value);
    }
    int zeros = precision > n ? precision - n : 0;
    if (precision >= 0)
        zero_pad = false;  // a precision overrides the '0' flag
    int prefix_len = int(strlen(prefix)) + (negative ? 1 : 0);
    int padding = width > n + zeros + prefix_len ? width - n - zeros - prefix_len : 0;
    if (!left && !zero_pad)
        out.pad(' ', padding);
    if (negative)
        out.put('-');
    for (const char* p = prefix; *p; p++)
        out.put(*p);
    if (!left && zero_pad)
        out.pad('0', padding);
    out.pad('0', zeros);
    while (n)
        out.put(digits[--n]);
    if (left)
        out.pad(' ', padding);
}

}  // namespace

size_t vformat(char* buf, size_t size, const char* fmt, va_list args) {
    Out out{buf, size};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out.put(*fmt);
            continue;
        }
        fmt++;
        bool left = false, zero_pad = false, alternate = false;
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                zero_pad = true;
            else if (*fmt == '#')
                alternate = true;
            else
                break;
        }
        int width = 0;
        if (*fmt == '*') {
            width = va_arg(args, int);
            if (width < 0) {  // a negative width is '-' and the width
                left = true;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        int precision = -1;
        if (*fmt == '.') {
            fmt++;
            precision = 0;
            if (*fmt == '*') {
                precision = va_arg(args, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    precision = precision * 10 + (*fmt++ - '0');
            }
        }
        int longs = 0;
        bool half = false;
        for (;; fmt++) {
            if (*fmt == 'l' || *fmt == 'z' || *fmt == 'j' || *fmt == 't')
                longs++;
            else if (*fmt == 'h')
                half = true;
            else
                break;
        }
        auto get_signed = [&]() -> int64_t {
            if (longs)
                return va_arg(args, int64_t);
            int v = va_arg(args, int);
            return half ? int16_t(v) : v;
        };
        auto get_unsigned = [&]() -> uint64_t {
            if (longs)
                return va_arg(args, uint64_t);
            unsigned v = va_arg(args, unsigned);
            return half ? uint16_t(v) : v;
        };
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = get_signed();
            uint64_t mag = v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v);
            put_number(out, mag, 10, false, v < 0, width, left, zero_pad, "", precision);
            break;
        }
        case 'u':
            put_number(out, get_unsigned(), 10, false, false, width, left, zero_pad, "", precision);
            break;
        case 'x':
        case 'X': {
            uint64_t v = get_unsigned();
            put_number(out, v, 16, *fmt == 'X', false, width, left, zero_pad,
                       alternate && v ? (*fmt == 'X' ? "0X" : "0x") : "", precision);
            break;
        }
        case 'o': {
            uint64_t v = get_unsigned();
            put_number(out, v, 8, false, false, width, left, zero_pad, alternate && v ? "0" : "", precision);
            break;
        }
        case 'p':
            put_number(out, uintptr_t(va_arg(args, void*)), 16, false, false, width, left, zero_pad, "0x", -1);
            break;
        case 'c': {
            char c = char(va_arg(args, int));
            if (!left)
                out.pad(' ', width - 1);
            out.put(c);
            if (left)
                out.pad(' ', width - 1);
            break;
        }
        case 's': {
            const char* s = va_arg(args, const char*);
            if (!s)
                s = "(null)";
            int len = int(precision >= 0 ? strnlen(s, size_t(precision)) : strlen(s));
            if (!left)
                out.pad(' ', width - len);
            for (int i = 0; i < len; i++)
                out.put(s[i]);
            if (left)
                out.pad(' ', width - len);
            break;
        }
        case '%':
            out.put('%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            out.put('%');
            out.put(*fmt);
            break;
        }
    }
    if (size)
        buf[out.len < size ? out.len : size - 1] = '\0';
    return out.len;
}

size_t format(char* buf, size_t size, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    size_t n = vformat(buf, size, fmt, args);
    va_end(args);
    return n;
}

}  // namespace carbyne
