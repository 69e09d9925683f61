#!/bin/sh
# Usage: RunWithDisplay.sh XVFB_RUN PROGRAM [ARGUMENTS...]
# Runs PROGRAM with the caller's X display when DISPLAY is set, else inside `XVFB_RUN -a` with a
# 24-bit screen (VTK's GLX rendering needs one) that does not reset when its last client
# disconnects (it would refuse the next connection meanwhile). Listing the tests needs no display.
xvfb_run="$1"
shift
if [ -n "$DISPLAY" ] || [ ! -x "$xvfb_run" ]; then
  exec "$@"
fi
for argument in "$@"; do
  case "$argument" in
    --gtest_list_tests) exec "$@" ;;
  esac
done
exec "$xvfb_run" -a -s "-screen 0 1280x1024x24 -noreset" "$@"
