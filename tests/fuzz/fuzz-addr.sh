#!/bin/sh
# fuzz-addr.sh - fuzz addr_parse for FUZZ_SECONDS (see fuzz-one.sh)
exec "$(dirname "$0")/fuzz-one.sh" addr "addr_parse"
