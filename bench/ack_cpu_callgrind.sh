#!/bin/bash
# ack_cpu_callgrind.sh CHECKOUT OUT [bench/ack_cpu.py args...]: instructions of the measured
# requests only (callgrind instrumentation toggled on and off around them); see bench/ack_cpu.py.
tree=$1; out=$2; shift 2
script=$(cd "$(dirname "$0")" && pwd)/ack_cpu.py  # this checkout's, run in the one measured
d=$(mktemp -d)
cd "$tree"  # the checkout measured (a path; it needs its own .venv)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$out .venv/bin/python "$script" --handshake $d --rounds 1 "$@" > $out.stdout 2> $out.stderr &
vg=$!
while [ ! -f $d/start-request ]; do sleep 0.2; kill -0 $vg 2>/dev/null || { echo "died"; exit 1; }; done
pid=$(cat $d/start-request)
callgrind_control -i on $pid >/dev/null; callgrind_control -z $pid > /dev/null; touch $d/start-ok
while [ ! -f $d/end-request ]; do sleep 0.2; kill -0 $vg 2>/dev/null || { echo "died"; exit 1; }; done
callgrind_control -i off $pid > /dev/null; callgrind_control -d $pid > /dev/null; touch $d/end-ok
wait $vg
grep -h "^summary\|^totals" $out.* 2>/dev/null | sort | uniq -c
grep RESULT $out.stdout
