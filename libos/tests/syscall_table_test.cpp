// Unit tests of the system-call table (libos/src/entry/syscall_table.h): numbers and names
// agree with the kernel's, and every entry is well-formed for the dispatcher, the trace
// and the generated compatibility docs.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "../src/entry/syscall_table.h"

#include <asm/unistd.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace {

// The levels the table may use; any other word fails to compile here.
enum class Level { Full, Partial, Enosys };

const char* level_name(Level l) {
    switch (l) {
    case Level::Full: return "Full";
    case Level::Partial: return "Partial";
    case Level::Enosys: return "Enosys";
    }
    return "?";
}

struct Entry {
    long nr;
    const char* name;
    Level level;
    const char* args;
    const char* note;
    long kernel_nr;  // __NR_<name> from the kernel's uapi headers
};

#define CARBYNE_TEST_ENTRY(nr, name, level, args, note) {nr, #name, Level::level, args, note, __NR_##name},
const std::vector<Entry> kEntries = {CARBYNE_SYSCALLS(CARBYNE_TEST_ENTRY)};
#undef CARBYNE_TEST_ENTRY

}  // namespace

TEST_CASE("the syscall table is not empty", "[syscall-table]") {
    CHECK(kEntries.size() >= 10);
}

TEST_CASE("every number is the kernel's number for that name", "[syscall-table]") {
    for (const Entry& e : kEntries) {
        INFO(e.name << ": table says " << e.nr << ", __NR_" << e.name << " is " << e.kernel_nr);
        CHECK(e.nr == e.kernel_nr);
    }
}

TEST_CASE("syscall numbers are unique and below 512", "[syscall-table]") {
    std::set<long> seen;
    for (const Entry& e : kEntries) {
        INFO(e.name << " (" << e.nr << ")");
        CHECK(e.nr >= 0);
        CHECK(e.nr < 512);
        CHECK(seen.insert(e.nr).second);
    }
}

TEST_CASE("syscall names are unique", "[syscall-table]") {
    std::set<std::string> seen;
    for (const Entry& e : kEntries) {
        INFO(e.name);
        CHECK(std::strlen(e.name) > 0);
        CHECK(seen.insert(e.name).second);
    }
}

TEST_CASE("every level is Full, Partial or Enosys, and only Full may go without a note", "[syscall-table]") {
    for (const Entry& e : kEntries) {
        INFO(e.name << " is " << level_name(e.level) << ", note \"" << e.note << "\"");
        CHECK((e.level == Level::Full || e.level == Level::Partial || e.level == Level::Enosys));
        if (e.level != Level::Full)
            CHECK(std::strlen(e.note) > 0);
    }
}

TEST_CASE("argument strings use the trace letters and at most 6 arguments", "[syscall-table]") {
    for (const Entry& e : kEntries) {
        INFO(e.name << " has args \"" << e.args << "\"");
        CHECK(std::strlen(e.args) <= 6);
        CHECK(std::strspn(e.args, "iuxfpsoz") == std::strlen(e.args));
    }
}

TEST_CASE("the table lists a few calls every program makes", "[syscall-table]") {
    std::set<std::string> names;
    for (const Entry& e : kEntries)
        names.insert(e.name);
    for (const char* required : {"read", "write", "openat", "close", "mmap", "exit_group"}) {
        INFO(required);
        CHECK(names.count(required) == 1);
    }
}
