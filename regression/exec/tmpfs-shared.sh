#!/bin/bash
# One /tmp and one /dev/shm for every process: what one command writes the next reads, a
# file inherited over fork is one open file description (one offset), and changes to the
# namespace made by a child are seen by its parent at once.
set -e
d=$(mktemp -d /tmp/shared.XXXXXX)
trap 'rm -rf "$d" /dev/shm/"${d##*/}"' EXIT

/bin/echo "written by a child" > "$d/a"
cat "$d/a"
sh -c "echo appended by sh >> $d/a"
/bin/cat "$d/a" | wc -l

# One offset: a subshell, a child process and the shell itself write through one fd.
{ echo one; /bin/echo two; (echo three); /usr/bin/printf 'four\n'; } > "$d/b"
cat "$d/b"
exec 3< "$d/b"
read -r first <&3
/usr/bin/head -c 4 <&3   # the child reads from where the shell stopped: "two"
read -r rest <&3
echo "first=$first rest=$rest"
exec 3<&-

# The namespace: made, renamed and removed by children, seen by the shell and others.
/bin/mkdir -p "$d/x/y"
/bin/sh -c "echo deep > $d/x/y/f; ln -s y/f $d/x/link; mv $d/x $d/z"
[ -d "$d/x" ] && echo "x still there" || echo "x renamed"
cat "$d/z/link"
/usr/bin/stat -c '%F %s' "$d/z/y/f" "$d/z/link"
/usr/bin/find "$d" -mindepth 1 | sort | sed "s|$d|D|"
/bin/rm -r "$d/z"
ls -A "$d" | wc -l

# Owner, mode and times set by a child, read by the parent.
touch "$d/m"
/bin/chmod 640 "$d/m"
/usr/bin/touch -d '2001-02-03 04:05:06 UTC' "$d/m"
stat -c '%a %Y' "$d/m"

# /dev/shm as well, and python3 in a child reading what the shell wrote.
echo "in shm" > /dev/shm/"${d##*/}"
/usr/bin/python3 -c "import sys; print(open(sys.argv[1]).read().strip())" /dev/shm/"${d##*/}"

# A file made by a child with O_EXCL: a second O_EXCL fails in another child.
/usr/bin/python3 -c "import os, sys; os.close(os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY))" "$d/excl"
/usr/bin/python3 -c "
import os, sys
try:
    os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
except FileExistsError:
    print('EEXIST')" "$d/excl"
