#!/bin/sh
# The lab's notify hook: records its arguments (group, state, epoch) with the time and node.
echo "$(date +%s%3N) ${VIGIL_NODE:-?} $*" >> "${VIGIL_NOTIFY_LOG:-/dev/null}"
