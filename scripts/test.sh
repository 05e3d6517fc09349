#!/usr/bin/env bash
# The project's test command (the README points here): static checks and every
# test of the root module, then the CDK module's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

test -z "$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './infra/node_modules/*'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
go vet ./...
go test -count=1 ./...
