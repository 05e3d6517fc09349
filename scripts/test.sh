#!/usr/bin/env bash
# The project's test command (the README points here): formatting, go vet and
# staticcheck, every test of the root module (unit, component tests on the
# emulator, the end-to-end test with the real bootstrap, reliability tests,
# the parser's fuzz corpus) with the race detector, then the CDK module's
# template tests.
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.7.0

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path '*/node_modules/*'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi

echo "== go vet, staticcheck"
go vet ./...
go run "$STATICCHECK" ./...

# -race: the responder runs restore and containment side by side and the
# emulator serves many goroutines; a data race is a defect like a failing test.
echo "== tests (root module, race detector on)"
go test -race -count=1 ./...

# The CDK module (its own go.mod): template assertions and cdk-nag. jsii runs on
# Node.js 20, which it calls end-of-life; the variable silences that banner.
echo "== tests (infra module)"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
(cd infra && go vet ./... && go test -count=1 ./...)
