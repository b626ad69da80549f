#!/bin/sh
# keepalived's track script in the failover benchmark: the director's own :80 answers a TCP
# connect within 0.4 s, on the first try or on a second 0.1 s later (what Vigil's tracked check
# lb-http does: retries 1, delayBeforeRetry 0.1; one failed check takes the node out, fall 1).
connect() { /usr/bin/timeout 0.4 /bin/bash -c '</dev/tcp/127.0.0.1/80'; }
connect || { sleep 0.1; connect; }
