// Memory: anonymous mappings, protection changes, placement flags and argument checks.
#include "pal_test.h"

namespace pal_test {

namespace {

constexpr size_t kSize = 4 * kPageSize;
constexpr uint64_t kPfWrite = 1u << 1;

}  // namespace

void check_memory() {
    void* mem = nullptr;
    {
        Check c("memory-alloc-rw");
        if (c.expect_ok(g_api->memory_alloc(nullptr, kSize, PAL_PROT_READ | PAL_PROT_WRITE, 0, &mem),
                        "memory_alloc")) {
            c.expect(uint64_t(mem) % kPageSize == 0, "address %p not page-aligned", mem);
            auto* words = static_cast<uint64_t*>(mem);
            size_t count = kSize / sizeof(uint64_t);
            size_t nonzero = 0;
            for (size_t i = 0; i < count; i++)
                nonzero += words[i] != 0;
            c.expect(nonzero == 0, "%zu words of fresh memory are not zero", nonzero);
            for (size_t i = 0; i < count; i++)
                words[i] = i * 0x9e3779b97f4a7c15ull;
            size_t wrong = 0;
            for (size_t i = 0; i < count; i++)
                wrong += words[i] != i * 0x9e3779b97f4a7c15ull;
            c.expect(wrong == 0, "%zu words read back wrong", wrong);
        } else {
            mem = nullptr;
        }
    }
    {
        Check c("memory-protect");
        if (c.expect(mem != nullptr, "no mapping")) {
            auto* words = static_cast<uint64_t*>(mem);
            c.expect_ok(g_api->memory_protect(mem, kSize, PAL_PROT_READ), "memory_protect read-only");
            Fault f;
            uint64_t value = 0;
            c.expect(!probe_load(&words[1], &f, &value), "reading a read-only page faulted");
            c.expect(value == 0x9e3779b97f4a7c15ull, "read %#lx from the read-only page", value);
            if (c.expect(probe_store(&words[1], 5, &f), "writing a read-only page did not fault")) {
                c.expect(f.exc.kind == PAL_EXC_MEMFAULT && (f.exc.error_code & kPfWrite),
                         "kind %d error_code %#lx", f.exc.kind, f.exc.error_code);
                c.expect(f.exc.addr == uint64_t(&words[1]), "addr %#lx, expected %p", f.exc.addr, &words[1]);
            }
            c.expect(words[1] == 0x9e3779b97f4a7c15ull, "the read-only word changed");
            c.expect_ok(g_api->memory_protect(mem, kSize, PAL_PROT_READ | PAL_PROT_WRITE), "memory_protect back");
            c.expect(!probe_store(&words[1], 5, &f) && words[1] == 5, "writing after the protection came back");
            // Only the range named changes: protect the second page alone.
            c.expect_ok(g_api->memory_protect(static_cast<uint8_t*>(mem) + kPageSize, kPageSize, PAL_PROT_NONE),
                        "memory_protect one page");
            c.expect(!probe_load(&words[0], &f), "the first page lost its access");
            c.expect(probe_load(&words[kPageSize / 8], &f), "the PROT_NONE page stayed readable");
            c.expect(!probe_load(&words[2 * kPageSize / 8], &f), "the third page lost its access");
            g_api->memory_protect(mem, kSize, PAL_PROT_READ | PAL_PROT_WRITE);
        }
    }
    {
        Check c("memory-noreplace-existing");
        if (c.expect(mem != nullptr, "no mapping")) {
            void* out = nullptr;
            auto* second = static_cast<uint8_t*>(mem) + kPageSize;
            c.expect_error(g_api->memory_alloc(second, kPageSize, PAL_PROT_READ | PAL_PROT_WRITE, PAL_MEM_NOREPLACE, &out),
                           PAL_E_EXISTS, "NOREPLACE over a mapping");
            c.expect(static_cast<uint64_t*>(mem)[kPageSize / 8] == (kPageSize / 8) * 0x9e3779b97f4a7c15ull,
                     "the existing mapping's content changed");
        }
    }
    {
        Check c("memory-fixed");
        if (c.expect(mem != nullptr, "no mapping")) {
            // FIXED replaces what is there with zeroed memory.
            void* out = nullptr;
            auto* third = static_cast<uint8_t*>(mem) + 2 * kPageSize;
            if (c.expect_ok(g_api->memory_alloc(third, kPageSize, PAL_PROT_READ | PAL_PROT_WRITE, PAL_MEM_FIXED, &out),
                            "FIXED over a mapping")) {
                c.expect(out == third, "mapped at %p, asked for %p", out, third);
                c.expect(*static_cast<uint64_t*>(out) == 0, "the replaced page is not zero");
            }
        }
    }
    {
        Check c("memory-free");
        if (c.expect(mem != nullptr, "no mapping")) {
            c.expect_ok(g_api->memory_free(mem, kSize), "memory_free");
            Fault f;
            c.expect(probe_load(mem, &f), "the freed range is still readable");
            c.expect(probe_load(static_cast<uint8_t*>(mem) + kSize - 8, &f), "the freed range's end is still readable");
            // The range is free again: NOREPLACE succeeds there, at exactly that address.
            void* out = nullptr;
            if (c.expect_ok(g_api->memory_alloc(mem, kSize, PAL_PROT_READ, PAL_MEM_NOREPLACE, &out),
                            "NOREPLACE on the freed range")) {
                c.expect(out == mem, "mapped at %p, asked for %p", out, mem);
                g_api->memory_free(out, kSize);
            }
        }
    }
    {
        Check c("memory-invalid-arguments");
        void* out = nullptr;
        void* hint = reinterpret_cast<void*>(0x200000000123ull);
        c.expect_error(g_api->memory_alloc(hint, kPageSize, PAL_PROT_READ, PAL_MEM_FIXED, &out), PAL_E_INVAL,
                       "FIXED at an unaligned address");
        c.expect_error(g_api->memory_alloc(nullptr, kPageSize + 1, PAL_PROT_READ, 0, &out), PAL_E_INVAL,
                       "unaligned size");
        c.expect_error(g_api->memory_alloc(nullptr, 0, PAL_PROT_READ, 0, &out), PAL_E_INVAL, "size 0");
        void* page = alloc_pages(2 * kPageSize);
        if (c.expect(page != nullptr, "alloc_pages")) {
            auto* p = static_cast<uint8_t*>(page);
            c.expect_error(g_api->memory_free(p + 8, kPageSize), PAL_E_INVAL, "memory_free at an unaligned address");
            c.expect_error(g_api->memory_free(p, kPageSize + 8), PAL_E_INVAL, "memory_free of an unaligned size");
            c.expect_error(g_api->memory_protect(p + 8, kPageSize, PAL_PROT_READ), PAL_E_INVAL,
                           "memory_protect at an unaligned address");
            Fault f;
            c.expect(!probe_store(p, 1, &f), "a rejected call changed the mapping");
            g_api->memory_free(page, 2 * kPageSize);
        }
    }
    {
        Check c("memory-remap");
        constexpr size_t kPage = kPageSize;
        auto* a = static_cast<uint64_t*>(alloc_pages(2 * kPage));
        if (c.expect(a != nullptr, "alloc_pages")) {
            a[0] = 0x1111;
            a[kPage / 8] = 0x2222;
            void* out = nullptr;
            c.expect_error(g_api->memory_remap(reinterpret_cast<uint8_t*>(a) + 8, kPage, 2 * kPage, PAL_REMAP_MAYMOVE,
                                               nullptr, &out),
                           PAL_E_INVAL, "an unaligned address");
            c.expect_error(g_api->memory_remap(a, 2 * kPage, 0, PAL_REMAP_MAYMOVE, nullptr, &out), PAL_E_INVAL,
                           "new size 0");
            // Growing the first page in place collides with the second.
            c.expect_error(g_api->memory_remap(a, kPage, 2 * kPage, 0, nullptr, &out), PAL_E_NOMEM,
                           "growing in place into a mapped page");
            if (c.expect_ok(g_api->memory_remap(a, 2 * kPage, 4 * kPage, PAL_REMAP_MAYMOVE, nullptr, &out), "grow")) {
                auto* g = static_cast<uint64_t*>(out);
                Fault f;
                c.expect(g[0] == 0x1111 && g[kPage / 8] == 0x2222, "grown mapping holds %#lx %#lx", g[0], g[kPage / 8]);
                c.expect(g[2 * kPage / 8] == 0 && g[4 * kPage / 8 - 1] == 0, "the added pages are not zero");
                if (out != a)
                    c.expect(probe_load(a, &f), "the old address is still mapped after a move");
                a = g;
                void* small = nullptr;
                if (c.expect_ok(g_api->memory_remap(g, 4 * kPage, kPage, 0, nullptr, &small), "shrink")) {
                    c.expect(small == g, "shrinking moved the mapping to %p", small);
                    c.expect(probe_load(&g[kPage / 8], &f), "the cut pages are still mapped");
                }
                void* target = alloc_pages(kPage);
                if (c.expect(target != nullptr, "alloc_pages") &&
                    c.expect_ok(g_api->memory_remap(g, kPage, kPage, PAL_REMAP_MAYMOVE | PAL_REMAP_FIXED, target, &out),
                                "move to a fixed address")) {
                    c.expect(out == target, "moved to %p, asked for %p", out, target);
                    c.expect(*static_cast<uint64_t*>(out) == 0x1111, "the moved page holds %#lx",
                             *static_cast<uint64_t*>(out));
                    c.expect(probe_load(g, &f), "the source is still mapped after a fixed move");
                    a = static_cast<uint64_t*>(out);
                }
            }
            g_api->memory_free(a, kPage);
        }
    }
    {
        Check c("memory-advise-residency");
        constexpr size_t kPages = 4;
        auto* p = static_cast<uint8_t*>(alloc_pages(kPages * kPageSize));
        uint8_t vec[kPages] = {};
        if (c.expect(p != nullptr, "alloc_pages")) {
            if (c.expect_ok(g_api->memory_residency(p, kPages * kPageSize, vec), "residency of fresh memory"))
                c.expect(!(vec[0] & 1) && !(vec[1] & 1), "untouched pages are resident: %#x %#x", vec[0], vec[1]);
            p[0] = 1;
            p[2 * kPageSize] = 1;
            if (c.expect_ok(g_api->memory_residency(p, kPages * kPageSize, vec), "residency after writes"))
                c.expect((vec[0] & 1) && !(vec[1] & 1) && (vec[2] & 1) && !(vec[3] & 1),
                         "written pages 0 and 2: residency %#x %#x %#x %#x", vec[0], vec[1], vec[2], vec[3]);
            c.expect_error(g_api->memory_residency(p + 8, kPageSize, vec), PAL_E_INVAL, "residency, unaligned");
            const int advices[] = {PAL_ADVICE_NORMAL, PAL_ADVICE_RANDOM, PAL_ADVICE_SEQUENTIAL, PAL_ADVICE_WILLNEED};
            for (int advice : advices)
                c.expect_ok(g_api->memory_advise(p, kPages * kPageSize, advice), "advice");
            c.expect_error(g_api->memory_advise(p, kPages * kPageSize, 5), PAL_E_INVAL, "advice 5");
            c.expect_ok(g_api->memory_advise(p, kPages * kPageSize, PAL_ADVICE_DONTNEED), "DONTNEED");
            if (c.expect_ok(g_api->memory_residency(p, kPages * kPageSize, vec), "residency after DONTNEED"))
                c.expect(!(vec[0] & 1) && !(vec[2] & 1), "DONTNEED left pages resident: %#x %#x", vec[0], vec[2]);
            c.expect(p[0] == 0 && p[2 * kPageSize] == 0, "DONTNEED pages read back %d %d, not zero", p[0],
                     p[2 * kPageSize]);
            p[kPageSize] = 7;
            c.expect_ok(g_api->memory_advise(p, kPages * kPageSize, PAL_ADVICE_FREE), "FREE");
            g_api->memory_free(p, kPages * kPageSize);
        }
    }
    {
        // Shared memory: two shared maps alias each other and the stream's data.
        Check c("shm-alias");
        PalHandle* shm = nullptr;
        if (c.expect_ok(g_api->shm_create(2 * kPageSize, &shm), "shm_create")) {
            void* a = nullptr;
            void* b = nullptr;
            int rw = PAL_PROT_READ | PAL_PROT_WRITE;
            if (c.expect_ok(g_api->file_map(shm, nullptr, 2 * kPageSize, 0, rw, PAL_MEM_SHARED, &a), "map a") &&
                c.expect_ok(g_api->file_map(shm, nullptr, kPageSize, kPageSize, rw, PAL_MEM_SHARED, &b), "map b")) {
                auto* pa = static_cast<uint8_t*>(a);
                auto* pb = static_cast<uint8_t*>(b);
                c.expect(pa[0] == 0 && pa[2 * kPageSize - 1] == 0, "fresh shared memory is not zero");
                pa[kPageSize + 5] = 42;
                c.expect(pb[5] == 42, "the second map sees %d, not 42", pb[5]);
                uint8_t byte = 0;
                size_t done = 0;
                if (c.expect_ok(g_api->stream_read(shm, kPageSize + 5, &byte, 1, &done), "stream_read"))
                    c.expect(done == 1 && byte == 42, "stream_read gave %zu bytes, %d", done, byte);
                byte = 7;
                if (c.expect_ok(g_api->stream_write(shm, 3, &byte, 1, &done), "stream_write"))
                    c.expect(pa[3] == 7, "the map sees %d after a stream_write of 7", pa[3]);
                PalStreamAttr attr = {};
                if (c.expect_ok(g_api->stream_attributes(shm, &attr), "stream_attributes"))
                    c.expect(attr.size == 2 * kPageSize, "size %lu", attr.size);
                c.expect_ok(g_api->stream_truncate(shm, 3 * kPageSize), "stream_truncate");
            }
            if (a)
                g_api->memory_free(a, 2 * kPageSize);
            if (b)
                g_api->memory_free(b, kPageSize);
            g_api->stream_close(shm);
        }
    }
}

}  // namespace pal_test
