// Command echofn is a throwaway Lambda handler for the emulator's tests: it
// logs every event it receives as one JSON line and returns it unchanged.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))

	lambda.Start(func(_ context.Context, event json.RawMessage) (json.RawMessage, error) {
		logger.Info("echo", "event", event)

		return event, nil
	})
}
