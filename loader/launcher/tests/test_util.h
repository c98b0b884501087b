// Helpers shared by the launcher unit tests: a scratch directory and small file writers.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace carbyne::launcher::testing {

// A fresh directory under the system temporary directory, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "carbyne-test-XXXXXX").string();
        char* made = mkdtemp(tmpl.data());
        if (!made)
            throw std::runtime_error("mkdtemp failed");
        // Canonical, so comparisons with realpath() results hold even if TMPDIR is a symlink.
        m_path = std::filesystem::canonical(made).string();
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return m_path; }
    std::string operator/(const std::string& name) const { return m_path + "/" + name; }

    std::string mkdir(const std::string& name) const {
        std::filesystem::create_directories(*this / name);
        return *this / name;
    }

    std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) const {
        std::string p = *this / name;
        std::filesystem::create_directories(std::filesystem::path(p).parent_path());
        std::ofstream(p) << text;
        chmod(p.c_str(), mode);
        return p;
    }

private:
    std::string m_path;
};

}  // namespace carbyne::launcher::testing
