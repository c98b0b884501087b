// Exits with the status given as its only argument, after one line of output.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s STATUS\n", argv[0]);
    return 2;
  }
  int status = atoi(argv[1]);
  printf("exiting with %d\n", status);
  exit(status);
}
