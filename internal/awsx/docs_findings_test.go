package awsx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"testing"

	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

var findingsOut = flag.String("findings-out", "", "write the finding of a real response on the emulator (ASFF as Security Hub returns it, and the alert's OCSF) to this file, for scripts/update-docs.sh")

// TestDocsFindings answers the article's attack on the emulator with
// Security Hub on, reads the finding back from Security Hub and writes it,
// with the alert's OCSF rendering of the same response, for the docs.
func TestDocsFindings(t *testing.T) {
	w := newWorld(t)
	w.stop(t)
	s := w.settings(t, map[string]string{config.EnvSecurityHub: "true"})
	var logs bytes.Buffer
	e := respond.New(s, w.clients.CloudTrail, w.clients.IAM, awsx.Notifier(s, w.clients, slog.New(slog.NewJSONHandler(&logs, nil)), nil))
	ev := w.event(t, "stoplogging-iamuser")
	rep, err := e.Respond(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	got := findings(t, w.clients.SecurityHub, notify.FindingID("123456789012", "us-east-1", ev.Record.EventID))
	if len(got) != 1 {
		t.Fatalf("%d findings; log:\n%s", len(got), logs.String())
	}
	asff, err := compact(got[0])
	if err != nil {
		t.Fatal(err)
	}
	ocsf, err := json.MarshalIndent(notify.Document(rep).OCSF, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if *findingsOut == "" {
		return
	}
	out, err := json.Marshal(map[string]json.RawMessage{"asff": asff, "ocsf": ocsf})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*findingsOut, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// compact renders an SDK finding as the ASFF JSON Security Hub shows:
// fields that are not set are left out.
func compact(f shtypes.AwsSecurityFinding) (json.RawMessage, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return json.MarshalIndent(prune(v), "", "  ")
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = prune(e); e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
		return x
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i := range x {
			x[i] = prune(x[i])
		}
		return x
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}
