// Prints the process identity the kernel (or the LibOS) answers: pid and nodename.
// Its output differs by design between runs; scripts/check-identity reads it.
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void) {
  struct utsname name;
  if (uname(&name) != 0) {
    perror("uname");
    return 1;
  }
  printf("pid %ld\n", (long)getpid());
  printf("nodename %s\n", name.nodename);
  return 0;
}
