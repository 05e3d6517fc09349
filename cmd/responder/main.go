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
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

func main() {
	log := lambdacontext.NewLogger()
	ctx := context.Background()

	settings, err := config.Load(os.Getenv)
	if err != nil {
		fail(log.Error, err)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fail(log.Error, fmt.Errorf("load AWS configuration: %w", err))
	}
	clients := awsx.NewClients(cfg)
	if settings, err = awsx.ResolveSelf(ctx, settings, clients.STS); err != nil {
		fail(log.Error, err)
	}
	engine := awsx.NewEngine(settings, clients)
	h := respond.Handler{Engine: engine, Log: log}
	log.Info("responder ready", "mode", settings.Mode, "trails", len(settings.Trails), "allow", len(settings.Allow), "self", settings.SelfRoleARN)
	lambda.Start(h.Handle)
}

// fail reports an init error and exits: Lambda records the init failure and
// the function never acts with half a configuration.
func fail(logf func(string, ...any), err error) {
	logf("responder cannot start", "error", err.Error())
	fmt.Fprintln(os.Stderr, "trailguard responder:", err)
	os.Exit(1)
}
