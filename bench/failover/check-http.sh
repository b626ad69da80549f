#!/bin/sh
# keepalived's track script in the failover benchmark: the director's own :80 answers a TCP
# connect within half a second (what Vigil's tracked check lb-http does).
exec /usr/bin/timeout 0.5 /bin/bash -c '</dev/tcp/127.0.0.1/80'
