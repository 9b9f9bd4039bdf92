#!/bin/sh
# fuzz-decide.sh - fuzz policy_decide on arbitrary facts for FUZZ_SECONDS (see fuzz-one.sh)
exec "$(dirname "$0")/fuzz-one.sh" decide "policy_decide on arbitrary facts"
