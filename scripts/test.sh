#!/usr/bin/env bash
# The project's test command (the README points here): static checks and every
# test of the root module, then the CDK module's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

test -z "$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './infra/node_modules/*'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
go vet ./...
go test -count=1 ./...

# The CDK module (its own go.mod): template assertions and cdk-nag. jsii runs on
# Node.js 20, which it calls end-of-life; the variable silences that banner.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
(cd infra && go vet ./... && go test -count=1 ./...)
