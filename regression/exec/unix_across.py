# UNIX stream sockets named by one process and connected to from another: a path in /tmp
# and an abstract name, SO_PEERCRED both ways, an abstract name another process holds
# (EADDRINUSE), and a name nobody listens on any more (ECONNREFUSED).
import errno
import os
import socket
import struct

PEERCRED = struct.calcsize("3i")


def peer_pid(sock):
    return struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEERCRED))[0]


path = "/tmp/unix-across.%d" % os.getpid()
abstract = "\0unix-across.%d" % os.getpid()
ready_r, ready_w = os.pipe()
done_r, done_w = os.pipe()
child = os.fork()
if child == 0:
    servers = []
    for name in (path, abstract):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(name)
        s.listen(4)
        servers.append(s)
    os.write(ready_w, b"r")
    for s in servers:
        c, _ = s.accept()
        data = c.recv(100)
        c.sendall(b"echo " + data + (b" from my parent" if peer_pid(c) == os.getppid() else b" from someone"))
        c.close()
    os.read(done_r, 1)  # the names stay until the parent has tried to take one
    os._exit(0)
os.read(ready_r, 1)
for label, name in (("path", path), ("abstract", abstract)):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(name)
    print(label, "peer is the child:", peer_pid(c) == child)
    c.sendall(label.encode())
    print(label, c.recv(100).decode())
    print(label, "then end of stream:", c.recv(100) == b"")
    c.close()
taken = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    taken.bind(abstract)
    print("bind of the child's abstract name succeeded")
except OSError as e:
    print("bind of the child's abstract name:", errno.errorcode[e.errno])
os.write(done_w, b"d")
os.waitpid(child, 0)
for label, name in (("path", path), ("abstract", abstract)):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect(name)
        print(label, "connect after the listener ended succeeded")
    except OSError as e:
        print(label, "connect after the listener ended:", errno.errorcode[e.errno])
os.unlink(path)

# The other ways round: the first process listens and its children connect; one child
# listens and its sibling connects.
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(abstract)
server.listen(4)
kids = []
for i in range(2):
    pid = os.fork()
    if pid == 0:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(abstract)
        c.sendall(b"child %d" % i)
        ok = c.recv(100) == b"thanks" and peer_pid(c) == os.getppid()
        os._exit(0 if ok else 1)
    kids.append(pid)
got = []
for i in range(2):
    c, _ = server.accept()
    got.append(c.recv(100).decode())
    c.sendall(b"thanks")
    c.close()
print("the first process heard:", sorted(got))
print("children:", [os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]) for k in kids])
server.close()

ready_r, ready_w = os.pipe()
listener = os.fork()
if listener == 0:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    os.write(ready_w, b"r")
    c, _ = s.accept()
    c.sendall(c.recv(100).upper())
    os._exit(0)
os.read(ready_r, 1)
talker = os.fork()
if talker == 0:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    c.sendall(b"sibling")
    os._exit(0 if c.recv(100) == b"SIBLING" else 1)
print("siblings:", [os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]) for k in (listener, talker)])
os.unlink(path)
