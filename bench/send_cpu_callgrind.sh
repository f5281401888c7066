#!/bin/bash
# send_cpu_callgrind.sh CHECKOUT OUT [bench/send_cpu.py args...]: instructions of the measured
# sends only (callgrind instrumentation toggled on and off around them); see bench/send_cpu.py.
# One round (the script passes --rounds 1). Under callgrind the process runs ~50 times slower:
# keep --concurrency low (20); the client's timeout is raised to 300 s (--timeout).
tree=$1; out=$2; shift 2
script=$(cd "$(dirname "$0")" && pwd)/send_cpu.py  # this checkout's, run in the one measured
d=$(mktemp -d)
cd "$tree"  # the checkout measured (a path; it needs its own .venv)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$out .venv/bin/python "$script" --handshake $d --rounds 1 --timeout 300 "$@" > $out.stdout 2> $out.stderr &
vg=$!
while [ ! -f $d/start-request ]; do sleep 0.2; kill -0 $vg 2>/dev/null || { echo "died"; cat $out.stderr | tail -5; exit 1; }; done
pid=$(cat $d/start-request)
callgrind_control -i on $pid >/dev/null; callgrind_control -z $pid > /dev/null; touch $d/start-ok
while [ ! -f $d/end-request ]; do sleep 0.2; kill -0 $vg 2>/dev/null || { echo "died"; tail -5 $out.stderr; exit 1; }; done
callgrind_control -i off $pid > /dev/null; callgrind_control -d $pid > /dev/null; touch $d/end-ok
wait $vg
grep -h "^summary\|^totals" $out.* 2>/dev/null | sort | uniq -c
grep "^round\|RESULT" $out.stdout
rm -rf "$d"
