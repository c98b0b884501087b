// Manifest parsing and validation: TOML text in, effective configuration or one error out.
#include "manifest.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <utility>

#include <toml++/toml.h>

#include "absl/strings/str_format.h"

namespace carbyne::launcher {

namespace {

const char* type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::none: break;
    }
    return "nothing";
}

uint32_t line_of(const toml::source_region& where) { return where.begin.line; }

std::string join_key(std::string_view prefix, std::string_view name) {
    return prefix.empty() ? std::string(name) : absl::StrFormat("%s.%s", prefix, name);
}

std::string index_key(std::string_view prefix, size_t index) { return absl::StrFormat("%s[%d]", prefix, index); }

// Gramine keys that mean nothing here; the hint saves a trip to the documentation.
std::string unknown_key_message(std::string_view key) {
    if (key == "loader.entrypoint")
        return "unknown key (carbyne finds libos.so itself; remove this key)";
    if (key == "loader.insecure__use_cmdline_argv")
        return "unknown key (command-line arguments of 'carbyne run' are always appended to loader.argv)";
    return "unknown key";
}

// Collects the errors of one manifest and builds the configuration from it.
class Validator {
public:
    Validator(std::string_view file_name, std::string_view base_dir, const std::vector<std::string>& host_env,
              std::string_view cwd)
        : m_file(file_name), m_base_dir(base_dir), m_host_env(host_env), m_cwd(cwd) {}

    ManifestResult run(const toml::table& root) {
        ManifestResult result;
        Manifest& m = result.manifest;

        for (const auto& [k, node] : root) {
            std::string name(k.str());
            if (name == "libos")
                walk_libos(node);
            else if (name == "loader")
                walk_loader(node, m);
            else if (name == "fs")
                walk_fs(node);
            else if (name == "sys")
                walk_sys(node, m);
            else if (name == "net")
                walk_net(node, m);
            else if (name == "trusted_files" || name == "allowed_files")
                unsupported(k, name);
            else
                error(line_of(k.source()), name, unknown_key_message(name));
        }

        m.start_dir = m_start_dir;
        finish_mounts(m, root);
        finish_entrypoint(m, root);
        finish_env(m);
        if (!m_argv_set)
            m.argv = {m.entrypoint};

        if (!m_errors.empty()) {
            std::stable_sort(m_errors.begin(), m_errors.end(),
                             [](const ManifestError& a, const ManifestError& b) { return a.line < b.line; });
            result.error = m_errors.front();
        }
        return result;
    }

private:
    void error(uint32_t line, std::string key, std::string message) {
        m_errors.push_back(ManifestError{m_file, line, 0, std::move(key), std::move(message)});
    }

    void unsupported(const toml::key& k, const std::string& key) {
        error(line_of(k.source()), key, "not supported yet");
    }

    void unknown(const toml::key& k, const std::string& key) {
        error(line_of(k.source()), key, unknown_key_message(key));
    }

    void wrong_type(const toml::node& node, const std::string& key, const char* expected) {
        error(line_of(node.source()), key, absl::StrFormat("expected %s, got %s", expected, type_name(node.type())));
    }

    const toml::table* as_table(const toml::node& node, const std::string& key) {
        if (const toml::table* t = node.as_table())
            return t;
        wrong_type(node, key, "a table");
        return nullptr;
    }

    // A string value without NUL characters (the boot config stores C strings).
    std::optional<std::string> as_string(const toml::node& node, const std::string& key) {
        const toml::value<std::string>* v = node.as_string();
        if (!v) {
            wrong_type(node, key, "a string");
            return std::nullopt;
        }
        const std::string& s = v->get();
        if (s.find('\0') != std::string::npos) {
            error(line_of(node.source()), key, "must not contain NUL characters");
            return std::nullopt;
        }
        return s;
    }

    std::optional<bool> as_bool(const toml::node& node, const std::string& key) {
        if (const toml::value<bool>* v = node.as_boolean())
            return v->get();
        wrong_type(node, key, "a boolean");
        return std::nullopt;
    }

    std::optional<uint64_t> as_size(const toml::node& node, const std::string& key) {
        if (const toml::value<int64_t>* v = node.as_integer()) {
            if (v->get() < 0) {
                error(line_of(node.source()), key, "a size must not be negative");
                return std::nullopt;
            }
            return uint64_t(v->get());
        }
        if (!node.is_string()) {
            wrong_type(node, key, "a size (an integer or a string like \"8M\")");
            return std::nullopt;
        }
        absl::StatusOr<uint64_t> size = parse_size(node.as_string()->get());
        if (!size.ok()) {
            error(line_of(node.source()), key, std::string(size.status().message()));
            return std::nullopt;
        }
        return *size;
    }

    std::optional<std::string> as_inside_path(const toml::node& node, const std::string& key) {
        std::optional<std::string> s = as_string(node, key);
        if (!s)
            return std::nullopt;
        absl::StatusOr<std::string> path = normalize_inside_path(*s);
        if (!path.ok()) {
            error(line_of(node.source()), key, std::string(path.status().message()));
            return std::nullopt;
        }
        return *path;
    }

    void walk_libos(const toml::node& node) {
        const toml::table* t = as_table(node, "libos");
        if (!t)
            return;
        for (const auto& [sub, value] : *t) {
            std::string key = join_key("libos", sub.str());
            if (sub.str() == "entrypoint") {
                if (std::optional<std::string> s = as_string(value, key)) {
                    m_entrypoint = *s;
                    m_entrypoint_line = line_of(value.source());
                }
            } else {
                unknown(sub, key);
            }
        }
    }

    void walk_loader(const toml::node& node, Manifest& m) {
        const toml::table* t = as_table(node, "loader");
        if (!t)
            return;
        for (const auto& [sub, value] : *t) {
            std::string key = join_key("loader", sub.str());
            std::string_view name = sub.str();
            if (name == "argv") {
                walk_argv(value, key, m);
            } else if (name == "env") {
                if (const toml::table* env = as_table(value, key))
                    walk_env(*env, key);
            } else if (name == "insecure__use_host_env") {
                if (std::optional<bool> b = as_bool(value, key))
                    m_use_host_env = *b;
            } else if (name == "log_level") {
                if (std::optional<std::string> s = as_string(value, key)) {
                    if (std::optional<boot::LogLevel> level = parse_log_level(*s))
                        m.log_level = *level;
                    else
                        error(line_of(value.source()), key,
                              absl::StrFormat("unknown log level \"%s\" (expected none, error, warning, debug or "
                                              "trace)",
                                              *s));
                }
            } else if (name == "log_file") {
                if (std::optional<std::string> s = as_string(value, key)) {
                    if (s->empty())
                        error(line_of(value.source()), key, "must not be empty");
                    else if ((*s)[0] == '/')
                        m.log_file = *s;
                    else
                        m.log_file = absl::StrFormat("%s/%s", m_cwd, *s);
                }
            } else {
                unknown(sub, key);
            }
        }
    }

    void walk_argv(const toml::node& node, const std::string& key, Manifest& m) {
        const toml::array* a = node.as_array();
        if (!a) {
            wrong_type(node, key, "an array of strings");
            return;
        }
        if (a->empty()) {
            error(line_of(node.source()), key, "must not be empty (argv[0] is required)");
            return;
        }
        std::vector<std::string> argv;
        bool ok = true;
        for (size_t i = 0; i < a->size(); i++) {
            std::optional<std::string> s = as_string((*a)[i], index_key(key, i));
            if (s)
                argv.push_back(*s);
            else
                ok = false;
        }
        if (ok) {
            m.argv = std::move(argv);
            m_argv_set = true;
        }
    }

    void walk_env(const toml::table& env, const std::string& prefix) {
        for (const auto& [sub, value] : env) {
            std::string name(sub.str());
            std::string key = join_key(prefix, name);
            uint32_t line = line_of(sub.source());
            if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
                error(line, key, "an environment variable name must be non-empty and contain no '=' or NUL");
                continue;
            }
            if (value.is_string()) {
                if (std::optional<std::string> s = as_string(value, key))
                    m_env.emplace_back(name, *s);
                continue;
            }
            const toml::table* t = value.as_table();
            if (!t) {
                wrong_type(value, key, "a string or a table { value = \"...\" } or { passthrough = true }");
                continue;
            }
            std::optional<std::string> text;
            std::optional<bool> passthrough;
            bool bad = false;
            for (const auto& [field, field_value] : *t) {
                std::string field_key = join_key(key, field.str());
                if (field.str() == "value") {
                    text = as_string(field_value, field_key);
                    bad |= !text;
                } else if (field.str() == "passthrough") {
                    passthrough = as_bool(field_value, field_key);
                    bad |= !passthrough;
                } else {
                    unknown(field, field_key);
                    bad = true;
                }
            }
            if (bad)
                continue;
            if (text && passthrough) {
                error(line_of(value.source()), key, "set either value or passthrough, not both");
            } else if (passthrough && !*passthrough) {
                error(line_of(value.source()), key,
                      "passthrough = false is not allowed (remove the entry to not pass the variable)");
            } else if (passthrough) {
                m_env.emplace_back(name, std::nullopt);
            } else if (text) {
                m_env.emplace_back(name, *text);
            } else {
                error(line_of(value.source()), key, "needs a value or passthrough = true");
            }
        }
    }

    void walk_fs(const toml::node& node) {
        const toml::table* t = as_table(node, "fs");
        if (!t)
            return;
        for (const auto& [sub, value] : *t) {
            std::string key = join_key("fs", sub.str());
            std::string_view name = sub.str();
            if (name == "root") {
                if (const toml::table* root = as_table(value, key)) {
                    if (std::optional<ParsedMount> mount = walk_mount(*root, key, true))
                        m_root = std::move(mount);
                }
            } else if (name == "mounts") {
                const toml::array* a = value.as_array();
                if (!a) {
                    wrong_type(value, key, "an array of tables");
                    continue;
                }
                for (size_t i = 0; i < a->size(); i++) {
                    std::string item_key = index_key(key, i);
                    if (const toml::table* mt = as_table((*a)[i], item_key)) {
                        if (std::optional<ParsedMount> mount = walk_mount(*mt, item_key, false))
                            m_mounts.push_back(std::move(*mount));
                    }
                }
            } else if (name == "start_dir") {
                if (std::optional<std::string> path = as_inside_path(value, key))
                    m_start_dir = *path;
            } else if (name == "insecure__keys") {
                unsupported(sub, key);
            } else {
                unknown(sub, key);
            }
        }
    }

    struct ParsedMount {
        Mount mount;
        std::string key;     // "fs.root" or "fs.mounts[i]"
        uint32_t line = 0;   // of the path (or of the table when the path is implicit)
    };

    std::optional<ParsedMount> walk_mount(const toml::table& t, const std::string& key, bool is_root) {
        ParsedMount pm{Mount{}, key, line_of(t.source())};
        bool bad = false;
        bool have_path = false;
        const toml::node* uri_node = nullptr;
        std::string uri_key;

        for (const auto& [sub, value] : t) {
            std::string sub_key = join_key(key, sub.str());
            std::string_view name = sub.str();
            if (name == "type") {
                std::optional<std::string> s = as_string(value, sub_key);
                if (!s) {
                    bad = true;
                } else if (*s == "chroot") {
                    pm.mount.type = boot::MountType::Chroot;
                } else if (*s == "tmpfs") {
                    pm.mount.type = boot::MountType::Tmpfs;
                } else if (*s == "encrypted") {
                    error(line_of(value.source()), sub_key, "mount type \"encrypted\" is not supported yet");
                    bad = true;
                } else {
                    error(line_of(value.source()), sub_key,
                          absl::StrFormat("unknown mount type \"%s\" (expected chroot or tmpfs)", *s));
                    bad = true;
                }
            } else if (name == "path" && !is_root) {
                std::optional<std::string> path = as_inside_path(value, sub_key);
                if (path) {
                    pm.mount.path = *path;
                    pm.line = line_of(value.source());
                    have_path = true;
                } else {
                    bad = true;
                }
            } else if (name == "path" && is_root) {
                error(line_of(sub.source()), sub_key, "fs.root is always mounted at \"/\"; remove this key");
                bad = true;
            } else if (name == "uri") {
                uri_node = &value;
                uri_key = sub_key;
            } else if (name == "readonly") {
                std::optional<bool> b = as_bool(value, sub_key);
                if (b)
                    pm.mount.readonly = *b;
                else
                    bad = true;
            } else {
                unknown(sub, sub_key);
                bad = true;
            }
        }
        if (bad)
            return std::nullopt;
        if (is_root) {
            pm.mount.path.assign(1, '/');  // not = "/": GCC 12 warns falsely (-Wrestrict)
        } else if (!have_path) {
            error(line_of(t.source()), join_key(key, "path"), "required key is missing");
            return std::nullopt;
        }

        if (pm.mount.type == boot::MountType::Tmpfs) {
            if (uri_node) {
                error(line_of(uri_node->source()), uri_key, "not allowed for a tmpfs mount");
                return std::nullopt;
            }
            return pm;
        }
        if (!uri_node) {
            error(line_of(t.source()), join_key(key, "uri"), "required key is missing (a chroot mount needs a host uri)");
            return std::nullopt;
        }
        std::optional<std::string> uri = as_string(*uri_node, uri_key);
        if (!uri)
            return std::nullopt;
        std::optional<std::string> host_path = resolve_uri(*uri, *uri_node, uri_key);
        if (!host_path)
            return std::nullopt;
        pm.mount.host_path = *host_path;
        return pm;
    }

    std::optional<std::string> resolve_uri(const std::string& uri, const toml::node& node, const std::string& key) {
        constexpr std::string_view kFile = "file:";
        if (uri.compare(0, kFile.size(), kFile) != 0) {
            error(line_of(node.source()), key, absl::StrFormat("\"%s\" must start with \"file:\"", uri));
            return std::nullopt;
        }
        std::string_view path = std::string_view(uri).substr(kFile.size());
        if (path.empty()) {
            error(line_of(node.source()), key, "\"file:\" needs a host path after it");
            return std::nullopt;
        }
        absl::StatusOr<std::string> resolved = resolve_host_path(path, m_base_dir);
        if (!resolved.ok()) {
            error(line_of(node.source()), key, std::string(resolved.status().message()));
            return std::nullopt;
        }
        return *resolved;
    }

    void walk_sys(const toml::node& node, Manifest& m) {
        const toml::table* t = as_table(node, "sys");
        if (!t)
            return;
        for (const auto& [sub, value] : *t) {
            std::string key = join_key("sys", sub.str());
            std::string_view name = sub.str();
            if (name == "stack") {
                walk_size_table(value, key, "size", &m.stack_size, /*allow_zero=*/false);
            } else if (name == "brk") {
                walk_size_table(value, key, "max_size", &m.brk_max_size, /*allow_zero=*/true);
            } else if (name == "sandbox") {
                if (std::optional<bool> b = as_bool(value, key))
                    m.sandbox = *b;
            } else if (name == "enable_sigterm_injection") {
                unsupported(sub, key);
            } else {
                unknown(sub, key);
            }
        }
    }

    void walk_net(const toml::node& node, Manifest& m) {
        const toml::table* t = as_table(node, "net");
        if (!t)
            return;
        for (const auto& [sub, value] : *t) {
            std::string key = join_key("net", sub.str());
            if (sub.str() == "allow")
                walk_net_allow(value, key, m);
            else
                unknown(sub, key);
        }
    }

    // Each rule is checked, so that one manifest check reports the first bad rule by line.
    void walk_net_allow(const toml::node& node, const std::string& key, Manifest& m) {
        const toml::array* a = node.as_array();
        if (!a) {
            wrong_type(node, key, "an array of strings (rules like \"connect tcp 127.0.0.1:80\")");
            return;
        }
        std::vector<boot::NetAllowRule> rules;
        bool ok = true;
        for (size_t i = 0; i < a->size(); i++) {
            std::string item_key = index_key(key, i);
            std::optional<std::string> text = as_string((*a)[i], item_key);
            if (!text) {
                ok = false;
                continue;
            }
            absl::StatusOr<boot::NetAllowRule> rule = parse_net_allow_rule(*text);
            if (!rule.ok()) {
                error(line_of((*a)[i].source()), item_key,
                      absl::StrFormat("\"%s\": %s", *text, rule.status().message()));
                ok = false;
                continue;
            }
            rules.push_back(*rule);
        }
        if (ok)
            m.net_allow = std::move(rules);
    }

    void walk_size_table(const toml::node& node, const std::string& key, std::string_view field, uint64_t* out,
                         bool allow_zero) {
        const toml::table* t = as_table(node, key);
        if (!t)
            return;
        for (const auto& [sub, value] : *t) {
            std::string sub_key = join_key(key, sub.str());
            if (sub.str() != field) {
                unknown(sub, sub_key);
                continue;
            }
            std::optional<uint64_t> size = as_size(value, sub_key);
            if (!size)
                continue;
            if (*size == 0 && !allow_zero) {
                error(line_of(value.source()), sub_key, "must be greater than zero");
                continue;
            }
            *out = *size;
        }
    }

    // Puts the mount at "/" first (fs.root, an fs.mounts entry at "/", or the default: the
    // manifest's directory, as Gramine mounts its working directory) and rejects duplicates.
    void finish_mounts(Manifest& m, const toml::table& root) {
        std::map<std::string, const ParsedMount*> seen;
        std::optional<ParsedMount> root_mount = m_root;
        if (root_mount)
            seen.emplace("/", &*root_mount);
        std::vector<Mount> rest;
        for (const ParsedMount& pm : m_mounts) {
            auto [it, inserted] = seen.emplace(pm.mount.path, &pm);
            if (!inserted) {
                error(pm.line, join_key(pm.key, "path"),
                      absl::StrFormat("a mount at \"%s\" is already defined by %s", pm.mount.path, it->second->key));
                continue;
            }
            if (pm.mount.path == "/")
                root_mount = pm;
            else
                rest.push_back(pm.mount);
        }
        if (!root_mount) {
            absl::StatusOr<std::string> dir = resolve_host_path(m_base_dir, "/");
            if (!dir.ok()) {
                error(line_of(root.source()), "fs.root", std::string(dir.status().message()));
                return;
            }
            root_mount = ParsedMount{Mount{boot::MountType::Chroot, "/", *dir, false}, "fs.root", 0};
        }
        m.mounts.clear();
        m.mounts.push_back(root_mount->mount);
        m.mounts.insert(m.mounts.end(), rest.begin(), rest.end());
    }

    void finish_entrypoint(Manifest& m, const toml::table& root) {
        if (!m_entrypoint) {
            uint32_t line = 1;
            if (const toml::node* libos = root.get("libos"))
                line = line_of(libos->source());
            error(line, "libos.entrypoint", "required key is missing");
            return;
        }
        const std::string& e = *m_entrypoint;
        if (e.rfind("file:", 0) == 0) {
            error(m_entrypoint_line, "libos.entrypoint",
                  "is a path inside the LibOS, not a URI: remove the \"file:\" prefix");
            return;
        }
        if (e.empty()) {
            error(m_entrypoint_line, "libos.entrypoint", "must not be empty");
            return;
        }
        // A relative entrypoint starts from fs.start_dir, as in Gramine.
        std::string full = e[0] == '/' ? e : absl::StrFormat("%s/%s", m_start_dir, e);
        absl::StatusOr<std::string> path = normalize_inside_path(full);
        if (!path.ok()) {
            error(m_entrypoint_line, "libos.entrypoint", std::string(path.status().message()));
            return;
        }
        m.entrypoint = *path;
    }

    std::optional<std::string> host_value(const std::string& name) const {
        for (const std::string& entry : m_host_env) {
            if (entry.size() > name.size() && entry[name.size()] == '=' && entry.compare(0, name.size(), name) == 0)
                return entry.substr(name.size() + 1);
        }
        return std::nullopt;
    }

    // Host environment first (when asked for), then loader.env entries, which override.
    void finish_env(Manifest& m) {
        std::vector<std::pair<std::string, std::string>> env;
        std::map<std::string, size_t> index;
        auto set = [&](const std::string& name, const std::string& value, bool override) {
            auto [it, inserted] = index.emplace(name, env.size());
            if (inserted)
                env.emplace_back(name, value);
            else if (override)
                env[it->second].second = value;
        };
        if (m_use_host_env) {
            for (const std::string& entry : m_host_env) {
                size_t eq = entry.find('=');
                if (eq == std::string::npos || eq == 0)
                    continue;
                set(entry.substr(0, eq), entry.substr(eq + 1), false);
            }
        }
        for (const auto& [name, value] : m_env) {
            if (value)
                set(name, *value, true);
            else if (std::optional<std::string> host = host_value(name))
                set(name, *host, true);
        }
        m.env.clear();
        for (const auto& [name, value] : env)
            m.env.push_back(absl::StrFormat("%s=%s", name, value));
    }

    std::string m_file;
    std::string m_base_dir;
    const std::vector<std::string>& m_host_env;
    std::string m_cwd;

    std::vector<ManifestError> m_errors;
    std::optional<std::string> m_entrypoint;
    uint32_t m_entrypoint_line = 0;
    bool m_argv_set = false;
    bool m_use_host_env = false;
    // loader.env in key order; no value means { passthrough = true }.
    std::vector<std::pair<std::string, std::optional<std::string>>> m_env;
    std::optional<ParsedMount> m_root;
    std::vector<ParsedMount> m_mounts;
    std::string m_start_dir = "/";
};

// Reads a whole regular file; the manifest is small, so the size limit is generous.
absl::StatusOr<std::string> read_text_file(const std::string& path) {
    constexpr off_t kMaxManifestSize = 16 << 20;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return absl::NotFoundError(absl::StrFormat("cannot open: %s", strerror(errno)));
    struct stat st;
    absl::Status bad;
    if (fstat(fd, &st) != 0)
        bad = absl::InternalError(absl::StrFormat("cannot stat: %s", strerror(errno)));
    else if (!S_ISREG(st.st_mode))
        bad = absl::InvalidArgumentError("not a regular file");
    else if (st.st_size > kMaxManifestSize)
        bad = absl::InvalidArgumentError("too large for a manifest");
    if (!bad.ok()) {
        close(fd);
        return bad;
    }
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            return absl::InternalError(absl::StrFormat("cannot read: %s", strerror(saved)));
        }
        if (n == 0)
            break;
        text.append(buf, size_t(n));
    }
    close(fd);
    return text;
}

}  // namespace

std::string ManifestError::to_string() const {
    if (line == 0)
        return key.empty() ? absl::StrFormat("%s: %s", file, message)
                           : absl::StrFormat("%s: %s: %s", file, key, message);
    if (key.empty())
        return column ? absl::StrFormat("%s:%d:%d: %s", file, line, column, message)
                      : absl::StrFormat("%s:%d: %s", file, line, message);
    return absl::StrFormat("%s:%d: %s: %s", file, line, key, message);
}

ManifestResult parse_manifest(std::string_view text, std::string_view file_name, std::string_view base_dir,
                              const std::vector<std::string>& host_env, std::string_view cwd) {
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(file_name));
    } catch (const toml::parse_error& e) {
        ManifestResult result;
        result.error = ManifestError{std::string(file_name), e.source().begin.line, e.source().begin.column, "",
                                     std::string(e.description())};
        return result;
    }
    return Validator(file_name, base_dir, host_env, cwd).run(root);
}

ManifestResult load_manifest_file(const std::string& path, const std::vector<std::string>& host_env) {
    ManifestResult result;
    absl::StatusOr<std::string> cwd = current_dir();
    if (!cwd.ok()) {
        result.error = ManifestError{path, 0, 0, "", std::string(cwd.status().message())};
        return result;
    }
    absl::StatusOr<std::string> text = read_text_file(path);
    if (!text.ok()) {
        result.error = ManifestError{path, 0, 0, "", std::string(text.status().message())};
        return result;
    }
    std::filesystem::path full = std::filesystem::path(*cwd) / path;
    std::string base_dir = full.parent_path().lexically_normal().string();
    return parse_manifest(*text, path, base_dir, host_env, *cwd);
}

}  // namespace carbyne::launcher
