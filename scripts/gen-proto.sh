#!/usr/bin/env bash
# Regenerates codec/larspb from lars.proto with protoc and the plugin versions pinned in go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v protoc >/dev/null 2>&1; then
  echo "protoc not found: installing Debian's protobuf-compiler" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq protobuf-compiler >/dev/null; fi
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$bin/protoc-gen-go-vtproto" github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto
pkg=github.com/larsgo/lars/codec/larspb
pools=""
for m in HostInfo GetRouteRequest GetRouteResponse HostCallResult ReportStatusRequest GetHostRequest GetHostResponse ReportRequest; do
  pools="$pools --go-vtproto_opt=pool=$pkg.$m"
done
# shellcheck disable=SC2086
protoc -I codec/larspb \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" \
  --plugin=protoc-gen-go-vtproto="$bin/protoc-gen-go-vtproto" \
  --go_out=codec/larspb --go_opt=paths=source_relative \
  --go-vtproto_out=codec/larspb --go-vtproto_opt=paths=source_relative \
  --go-vtproto_opt=features=marshal+unmarshal+size+pool+equal+clone $pools \
  codec/larspb/lars.proto
