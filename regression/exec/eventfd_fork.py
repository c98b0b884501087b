# An eventfd shared by fork: one counter for parent and child (its value at the fork, then
# every read and write of either), EFD_SEMAPHORE, EFD_NONBLOCK's EAGAIN, poll and an epoll
# set made before the fork seeing the other process's write.
import os
import select
import time

fd = os.eventfd(3, os.EFD_NONBLOCK)
os.eventfd_write(fd, 4)
ep = select.epoll()
ep.register(fd, select.EPOLLIN)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    ok = os.eventfd_read(fd) == 7  # the value at the fork
    os.write(w, b"r")
    time.sleep(0.2)
    os.eventfd_write(fd, 100)
    os._exit(0 if ok else 1)
os.read(r, 1)
print("epoll after the child's read:", ep.poll(0))
print("epoll sees the child's write:", [e for _, e in ep.poll(10)] == [select.EPOLLIN])
print("read after the child's write:", os.eventfd_read(fd))
try:
    os.eventfd_read(fd)
    print("read of zero succeeded")
except BlockingIOError:
    print("read of zero: EAGAIN")
print("child:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

sem = os.eventfd(2, os.EFD_SEMAPHORE)
pid = os.fork()
if pid == 0:
    os._exit(0 if os.eventfd_read(sem) == 1 and os.eventfd_read(sem) == 1 else 1)
print("semaphore child:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
p = select.poll()
p.register(sem, select.POLLIN)
print("semaphore empty, readable:", bool(p.poll(0)))
pid = os.fork()
if pid == 0:
    time.sleep(0.1)
    os.eventfd_write(sem, 5)
    os._exit(0)
print("blocking read woken by the child:", os.eventfd_read(sem))
os.waitpid(pid, 0)
print("left:", sum(os.eventfd_read(sem) for _ in range(4)))
