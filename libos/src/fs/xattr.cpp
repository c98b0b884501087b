// The attributes of one in-memory object (see xattr.h).
#include "xattr.h"

#include <carbyne/string.h>
#include <libos/heap.h>

namespace carbyne::libos::fs {

namespace {

bool is_user(const char* name) { return strncmp(name, "user.", 5) == 0; }
bool is_trusted(const char* name) { return strncmp(name, "trusted.", 8) == 0; }

}  // namespace

XattrSet::Entry** XattrSet::find(const char* name) {
    for (Entry** e = &m_head; *e; e = &(*e)->next)
        if (strcmp((*e)->data, name) == 0)
            return e;
    return nullptr;
}

void XattrSet::clear() {
    while (Entry* e = m_head) {
        m_head = e->next;
        kfree(e);
    }
    m_user_bytes = 0;
}

Result<size_t> XattrSet::apply(const XattrRequest& req, size_t user_limit) {
    switch (req.op) {
    case XattrOp::Get: {
        Entry** e = find(req.name);
        if (!e)
            return Errno(ENODATA);
        size_t len = (*e)->value_len;
        if (req.size) {
            if (req.size < len)
                return Errno(ERANGE);
            memcpy(req.value, (*e)->data + (*e)->name_len + 1, len);
        }
        return len;
    }
    case XattrOp::List: {
        size_t total = 0;
        for (Entry* e = m_head; e; e = e->next) {
            if (is_trusted(e->data) && !req.privileged)
                continue;
            if (req.size) {
                if (total + e->name_len + 1 > req.size)
                    return Errno(ERANGE);
                memcpy(static_cast<char*>(req.value) + total, e->data, e->name_len + 1);
            }
            total += e->name_len + 1;
        }
        return total;
    }
    case XattrOp::Remove: {
        Entry** e = find(req.name);
        if (!e)
            return Errno(ENODATA);
        Entry* gone = *e;
        *e = gone->next;
        if (is_user(gone->data))
            m_user_bytes -= gone->name_len + gone->value_len;
        kfree(gone);
        return size_t(0);
    }
    case XattrOp::Set: {
        Entry** old = find(req.name);
        if (old && (req.flags & kXattrCreate))
            return Errno(EEXIST);
        if (!old && (req.flags & kXattrReplace))
            return Errno(ENODATA);
        size_t name_len = strlen(req.name);
        bool user = is_user(req.name);
        size_t old_user = old && user ? (*old)->name_len + (*old)->value_len : 0;
        if (user && m_user_bytes - old_user + name_len + req.size > user_limit)
            return Errno(ENOSPC);
        auto* e = static_cast<Entry*>(kmalloc(sizeof(Entry) + name_len + 1 + req.size));
        if (!e)
            return Errno(ENOMEM);
        e->name_len = name_len;
        e->value_len = req.size;
        memcpy(e->data, req.name, name_len + 1);
        if (req.size)
            memcpy(e->data + name_len + 1, req.value, req.size);
        if (old) {
            // In place: the listing order stays.
            Entry* gone = *old;
            e->next = gone->next;
            *old = e;
            kfree(gone);
        } else {
            // At the end, as Linux lists them in the order they were made.
            Entry** tail = &m_head;
            while (*tail)
                tail = &(*tail)->next;
            e->next = nullptr;
            *tail = e;
        }
        if (user)
            m_user_bytes = m_user_bytes - old_user + name_len + req.size;
        return size_t(0);
    }
    }
    return Errno(EINVAL);
}

}  // namespace carbyne::libos::fs
