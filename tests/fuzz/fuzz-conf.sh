#!/bin/sh
# fuzz-conf.sh - fuzz the configuration loader for FUZZ_SECONDS (see fuzz-one.sh)
exec "$(dirname "$0")/fuzz-one.sh" conf "the configuration loader"
