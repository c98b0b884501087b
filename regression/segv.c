// A program that dereferences NULL without a SIGSEGV handler: it dies by SIGSEGV, and the
// parent sees 128+11.
#include <string.h>
#include <unistd.h>

int main(void) {
  const char msg[] = "before the fault\n";
  write(1, msg, strlen(msg));
  volatile int *null_pointer = (volatile int *)0;
  *null_pointer = 1;
  write(1, "after the fault\n", 16);
  return 0;
}
