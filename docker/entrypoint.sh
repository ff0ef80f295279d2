#!/bin/sh
# Container entry point, same contract as bert-as-service's docker/entrypoint.sh: the first
# argument is the number of workers and the model is mounted at /model, i.e.
#   bert-serving-start -http_port 8125 -num_worker=$1 -model_dir /model
# Additions: any further arguments are passed through to bert-serving-start (later flags win, so
# `4 -http_port 9000` moves the HTTP port), and two variables for non-default layouts:
#   BERT_SERVING_MODEL_DIR  model folder (default /model)
#   BERT_SERVING_HTTP_PORT  HTTP port (default 8125; set it empty to serve ZeroMQ only)
# exec: the server becomes PID 1's process and receives `docker stop`'s SIGTERM directly.
set -eu

num_worker="${1:-1}"
if [ "$#" -gt 0 ]; then
  shift
fi
model_dir="${BERT_SERVING_MODEL_DIR:-/model}"
http_port="${BERT_SERVING_HTTP_PORT-8125}"

if [ -n "$http_port" ]; then
  set -- -http_port "$http_port" -num_worker="$num_worker" -model_dir "$model_dir" "$@"
else
  set -- -num_worker="$num_worker" -model_dir "$model_dir" "$@"
fi
exec bert-serving-start "$@"
