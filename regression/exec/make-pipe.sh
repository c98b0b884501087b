#!/bin/sh
# make -j2 builds a two-file C program (gcc runs cc1, as, collect2 and ld), which then
# runs. -pipe: cc1 hands its output to as through a pipe (a temporary file in /tmp would
# need a tmpfs that processes share).
set -e
dir=$(mktemp -d make-pipe.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/a.c" <<'C'
#include <stdio.h>
int b(void);
int main(void) { printf("b() = %d\n", b()); return 0; }
C
echo 'int b(void) { return 42; }' > "$dir/b.c"
printf 'CFLAGS = -O1 -pipe\nprog: a.o b.o\n\t$(CC) -o $@ a.o b.o\n' > "$dir/Makefile"
make -s -j2 -C "$dir" >/dev/null
"$dir/prog"
