#!/bin/sh
# make -j2 builds a two-file C program (gcc runs cc1, as, collect2 and ld), which then
# runs. With "-pipe" cc1 hands its output to as through a pipe; without it, through a
# temporary file in /tmp that the next process reads (a tmpfs the processes share).
set -e
dir=$(mktemp -d make-gcc.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/a.c" <<'C'
#include <stdio.h>
int b(void);
int main(void) { printf("b() = %d\n", b()); return 0; }
C
echo 'int b(void) { return 42; }' > "$dir/b.c"
printf 'CFLAGS = -O1 %s\nprog: a.o b.o\n\t$(CC) $(CFLAGS) -o $@ a.o b.o\n' "${1:-}" > "$dir/Makefile"
make -s -j2 -C "$dir" >/dev/null
"$dir/prog"
