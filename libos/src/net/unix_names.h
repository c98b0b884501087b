// The instance's UNIX socket names: a socket bound in one process is connected to from
// another, as on one host (unix(7)'s names are one namespace for the whole instance).
//
// Each process keeps its own sockets in its own name table (net/unix.cpp); the leader keeps
// the instance's registry of which process holds which name: abstract names by their type
// and bytes, file-system names by their node (dev, ino). A bind publishes its name there
// (an abstract name another process holds is EADDRINUSE), the socket's end withdraws it,
// and a process's end withdraws all of its names (at the latest when it is reaped). A stream connect that finds no socket
// in its own process asks the registry: the connecting socket and a new socket queued on
// the listener's backlog become the two ends of a host socket pair, the listener's process
// getting its end by a push (ipc/push.h).
//
// Limits: only SOCK_STREAM connects cross processes (a seqpacket connect or a datagram
// send to another process's name is ECONNREFUSED, with a log line). A connect to another
// process succeeds once the registry has found the name: if the listener closes or its
// backlog is full meanwhile, the new connection is reset (the connector reads end of
// file) rather than refused.
#pragma once

#include <libos/pal.h>
#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

#include "socket.h"

namespace carbyne::libos::ckpt {
class Encoder;
}

namespace carbyne::libos::net {

struct UnixKey {
    int32_t type;        // the socket type of an abstract name; -1 for a node
    uint32_t len;        // bytes used in `bytes`
    uint8_t bytes[112];  // an abstract name's bytes, or a node's dev and ino
};

// The caller bound `key` (a socket of type `type`; `creds` what a connector sees of it).
Result<void> unix_names_publish(const UnixKey& key, int type, const SockCreds& creds);
// The caller's socket named `key` is gone.
void unix_names_withdraw(const UnixKey& key);
// A stream connect to the listener another process holds as `key`: that process gets
// `theirs` (taken in all cases) as its end. Returns the listener's credentials;
// ECONNREFUSED when no other process holds the name, EPROTOTYPE when it is another type.
Result<SockCreds> unix_names_connect(const UnixKey& key, int type, PalHandle* theirs);

// In the listener's process, a push: a connection's payload and its host end.
void unix_names_accept(const uint8_t* payload, uint32_t size, PalHandle* h);
// In net/unix.cpp: queues a connection whose end is `h` (taken in all cases) on the
// listener named `key`, from a socket with `creds`.
Result<void> unix_accept_remote(const UnixKey& key, const SockCreds& creds, PalHandle* h);

// -- The leader's side ------------------------------------------------------------------

// One request of the member whose channel is `ch` (a handle follows a connect's).
Result<void> unix_names_serve(PalHandle* ch, const uint8_t* request, size_t size, ckpt::Encoder& reply);
// The member whose channel is `member` is gone: its names go.
void unix_names_member_gone(uint64_t member);
// Process `pid` has been reaped (its sockets are closed, as on Linux by then): its names go.
void unix_names_process_gone(int pid);

}  // namespace carbyne::libos::net
