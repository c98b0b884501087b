#!/bin/bash
# kill reaches any process of the instance (a sibling, a grandchild, the parent) and whole
# groups across processes; getpgid/getsid of another process; an orphan is reparented.
pidfile=$(mktemp kill-across.XXXXXX)
sleep 5 &
victim=$!
sh -c "kill $victim"            # a sibling kills it
wait $victim; echo "sibling killed: $?"
( sleep 5 & echo $! > "$pidfile"; wait ) &
sub=$!
sleep 0.2
/bin/kill -TERM "$(cat "$pidfile")"   # a grandchild of this shell, killed by another child
wait $sub; echo "grandchild killed, subshell: $?"
( trap 'echo "subshell got USR1"; exit 3' USR1; sh -c 'kill -USR1 $PPID'; sleep 5 ) 
echo "subshell: $?"
sh -c 'echo "ppid is parent: $([ $PPID = '$$' ] && echo yes)"'
# An orphan's parent becomes 1.
sh -c 'sh -c "sleep 0.3; [ \$(cut -d\" \" -f4 /proc/self/stat) != \$0 ] && echo orphan reparented" $$ & '; sleep 0.6
# kill 0 from a child reaches its whole group, the shell that leads it included.
setsid bash -c 'trap "echo group leader got USR1" USR1; sh -c "kill -USR1 0"; wait' || true
# A child that starts its own session at once is seen so by the others.
setsid sleep 3 &
s=$!
sleep 0.3
/usr/bin/python3 -c "import os, sys; p = int(sys.argv[1]); print('session leader:', os.getsid(p) == p, os.getpgid(p) == p)" $s
kill $s
wait $s || true
/usr/bin/python3 -c '
import os, signal, time
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    time.sleep(5)
    os._exit(0)
os.setpgid(pid, pid)
time.sleep(0.1)
print("child group", os.getpgid(pid) == pid, "sid same", os.getsid(pid) == os.getsid(0))
os.killpg(pid, signal.SIGTERM)
print("killpg:", os.waitpid(pid, 0)[1] & 0x7f)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.read(r, 1)
    os._exit(0 if os.getpgrp() == os.getpid() and os.getpgid(0) == os.getpid() else 1)
os.setpgid(pid, pid)
os.write(w, b"x")
print("the child sees the group its parent gave it:", os.waitpid(pid, 0)[1] == 0)
try:
    os.setpgid(1, 0)
except OSError as e:
    print("setpgid of a non-child:", e.errno)
try:
    os.kill(4000000, 0)
except ProcessLookupError:
    print("ESRCH")
try:
    os.getpgid(4000000)
except ProcessLookupError:
    print("getpgid ESRCH")
'
rm -f "$pidfile"
