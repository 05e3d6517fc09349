package respond_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// The log line carries the whole event: an alert too large for SNS carries
// it cut, and says so.
func TestHandlerLogsTheWholeEvent(t *testing.T) {
	var logs bytes.Buffer
	h := respond.Handler{Engine: engine(t, newFake(), nil), Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	raw, _ := samples.Event("puteventselectors-many-data-resources")
	if err := h.Handle(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	var line struct{ Event struct{ Raw json.RawMessage } }
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	ev, err := trail.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var got, want bytes.Buffer
	_ = json.Compact(&got, line.Event.Raw)
	_ = json.Compact(&want, ev.Raw)
	if got.Len() < 40<<10 || got.String() != want.String() {
		t.Errorf("log line's event: %d bytes, want the whole %d-byte event", got.Len(), want.Len())
	}
}
