#!/bin/bash
# make check's differential fuzzer: tests/fuzz/suite.sh with its fixed
# seeds and calls (about 2 minutes on 2 shared cores); make fuzz runs it
# with other seeds and calls.
exec bash "$(dirname "$0")/fuzz/suite.sh" "$@"
