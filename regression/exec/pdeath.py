# PR_SET_PDEATHSIG: a grandchild whose parent ends gets its parent-death signal; a child
# forked after it was set does not inherit it.
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2
r, w = os.pipe()
middle = os.fork()
if middle == 0:
    ready_r, ready_w = os.pipe()
    gc = os.fork()
    if gc == 0:
        def on_term(sig, frame):
            os.write(w, b"parent-death signal %d\n" % sig)
            os._exit(0)
        signal.signal(signal.SIGTERM, on_term)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        got = ctypes.c_int(0)
        libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(got), 0, 0, 0)
        os.write(ready_w, b"%d" % got.value)
        time.sleep(5)
        os.write(w, b"no signal\n")
        os._exit(1)
    print("grandchild set", os.read(ready_r, 10).decode(), flush=True)
    os._exit(0)
os.close(w)
os.waitpid(middle, 0)
print(os.read(r, 100).decode().strip())
# A forked child does not inherit it.
libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
pid = os.fork()
if pid == 0:
    got = ctypes.c_int(-1)
    libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(got), 0, 0, 0)
    os._exit(got.value)
print("inherited:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
