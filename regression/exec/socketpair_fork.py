# A UNIX socket pair made before fork carries data both ways between the processes (what
# was queued before the fork included), and the end of one side is the other's EOF;
# multiprocessing.Pipe (duplex: a socket pair) between two processes.
import os, socket, select, multiprocessing as mp, signal

# A socketpair made before fork: data queued before, both ways after, EOF at close.
a, b = socket.socketpair()
a.sendall(b"queued before fork")
pid = os.fork()
if pid == 0:
    a.close()
    got = b.recv(100)
    b.sendall(got.upper())
    r, _, _ = select.select([b], [], [], 5)
    rest = b.recv(100)
    b.sendall(b"child got " + rest)
    os._exit(0 if b.recv(100) == b"" else 1)
b.close()
print(a.recv(100))
a.sendall(b"after fork")
print(a.recv(100))
a.shutdown(socket.SHUT_WR)
print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print("eof", a.recv(10))
a.close()

# multiprocessing.Pipe (duplex: a socketpair) between two processes.
def echo(conn):
    while True:
        m = conn.recv()
        if m is None:
            break
        conn.send(m * 2)
    conn.close()

if __name__ == "__main__":
    mine, theirs = mp.Pipe()
    p = mp.Process(target=echo, args=(theirs,))
    p.start()
    theirs.close()
    for x in (1, "ab", [3]):
        mine.send(x)
        print(mine.recv())
    mine.send(None)
    p.join()
    print("exit", p.exitcode)
