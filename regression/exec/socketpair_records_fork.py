# Datagram and seqpacket socket pairs shared by fork: messages queued before the fork and
# sent after it keep their boundaries both ways, a short read truncates one (MSG_TRUNC),
# poll sees them, and the end of the other side is seen.
import os
import select
import socket

for kind, name in ((socket.SOCK_DGRAM, "dgram"), (socket.SOCK_SEQPACKET, "seqpacket")):
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    a.send(b"queued before fork")
    a.send(b"second")
    b.send(b"to the parent, queued")
    pid = os.fork()
    if pid == 0:
        a.close()
        got = [b.recv(100), b.recv(100)]
        for i in range(3):
            b.send(b"child message %d" % i)
        b.send(b"x" * 50)
        data, _, flags, _ = b.recvmsg(100)
        ok = got == [b"queued before fork", b"second"] and data == b"from the parent after fork"
        os._exit(0 if ok else 1)
    b.close()
    print(name, "queued for the parent:", a.recv(100))
    p = select.poll()
    p.register(a, select.POLLIN)
    print(name, "readable:", bool(p.poll(10000)))
    print(name, [a.recv(100) for _ in range(3)])
    data, _, flags, _ = a.recvmsg(10)
    print(name, "truncated:", data, bool(flags & socket.MSG_TRUNC))
    a.send(b"from the parent after fork")
    _, status = os.waitpid(pid, 0)
    print(name, "child:", os.waitstatus_to_exitcode(status))
    if kind == socket.SOCK_SEQPACKET:
        print(name, "after the child's end:", a.recv(100))
    a.close()
