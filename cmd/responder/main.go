// Command responder is trailguard's Lambda function (the bootstrap binary).
// Wiring only: the engine lives in internal/respond.
package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) error {
		return errors.New("responder: engine not wired yet")
	})
}
