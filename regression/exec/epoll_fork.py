# An epoll set made before fork keeps working after it: a socket pair and a pipe that fork
# shared (their readiness is the host's now) wake the parent's epoll_wait, whether the
# data comes from one of its threads or from the child.
import os, select, socket, threading, time

a, b = socket.socketpair()
r, w = os.pipe()
ep = select.epoll()
ep.register(a.fileno(), select.EPOLLIN)
ep.register(r, select.EPOLLIN)
names = {a.fileno(): "socket", r: "pipe"}

pid = os.fork()
if pid == 0:
    time.sleep(0.3)
    os.write(w, b"from the child")
    os._exit(0)

threading.Timer(0.1, lambda: b.send(b"from a thread")).start()
seen = []
deadline = time.monotonic() + 5
while len(seen) < 2 and time.monotonic() < deadline:
    for fd, ev in ep.poll(1):
        if fd == a.fileno():
            seen.append(("socket", a.recv(100)))
        else:
            seen.append(("pipe", os.read(r, 100)))
print(sorted(seen))
os.waitpid(pid, 0)
