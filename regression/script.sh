#!/bin/sh
# A "#!" script run directly: the kernel (or the LibOS) starts /bin/sh with the script's
# path and arguments. Only shell builtins, so that it needs no fork.
echo "argc $#"
for arg in "$@"; do
  echo "arg [$arg]"
done
case "$0" in
  */script.sh) echo "ok argv0 names the script" ;;
  *) echo "FAIL argv0 is $0"; exit 1 ;;
esac
read -r line
echo "stdin [$line]"
exit 3
