// The smallest program: one line of output through stdio, exit status 0.
#include <stdio.h>

int main(void) {
  puts("hello, world");
  return 0;
}
