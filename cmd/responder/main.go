// Command responder is trailguard's Lambda function, built as the bootstrap
// of a provided.al2023 runtime. It only wires: settings are read and checked,
// SDK clients built and the responder's own role resolved once, at init;
// each invocation then goes to the engine in internal/respond.
//
// It must stay small and fast to start: no CDK, no CLI framework and no
// emulator may enter its dependency graph (a test in internal/cli checks).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/trailguard/trailguard/internal/awsx"
)

func main() {
	log := lambdacontext.NewLogger()
	h, err := awsx.NewHandler(context.Background(), os.Getenv, log)
	if err != nil {
		// Lambda records the init failure; the function never acts with
		// half a configuration.
		log.Error("responder cannot start", "error", err.Error())
		fmt.Fprintln(os.Stderr, "trailguard responder:", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
