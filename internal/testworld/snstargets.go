package testworld

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// snsTargets is our test double for EventBridge rules that target an SNS
// topic, which kumo stores but never delivers to (it delivers to SQS and
// Lambda targets only). After kumo accepted a PutEvents, the double matches
// each event against the enabled rules of the default bus that have an SNS
// target, with the pattern features trailguard's owners' rules use (lists of
// values, prefix, suffix, wildcard, nested fields, $or), applies the
// target's input transformer, and publishes the result to the topic through
// kumo. Events kumo delivers itself are untouched.
type snsTargets struct{ s *Server }

func (d snsTargets) serve(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != eventsTarget+"PutEvents" {
		return false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	d.s.proxy.ServeHTTP(rec, r)
	relay(w, rec)
	if rec.Code != http.StatusOK {
		return true
	}
	var in struct {
		Entries []struct {
			Source       string `json:"Source"`
			DetailType   string `json:"DetailType"`
			Detail       string `json:"Detail"`
			EventBusName string `json:"EventBusName"`
		} `json:"Entries"`
	}
	if json.Unmarshal(body, &in) != nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	for _, e := range in.Entries {
		if e.EventBusName != "" && e.EventBusName != "default" {
			continue
		}
		event := map[string]any{"version": "0", "id": "00000000-0000-4000-8000-000000000000", "source": e.Source, "detail-type": e.DetailType,
			"account": AccountID, "region": Region, "time": time.Now().UTC().Format(time.RFC3339), "resources": []any{}}
		var detail any
		if json.Unmarshal([]byte(e.Detail), &detail) != nil {
			continue
		}
		event["detail"] = detail
		d.deliver(ctx, event)
	}
	return true
}

// deliver publishes event to the SNS targets of every enabled rule it
// matches. Failures are dropped, as EventBridge drops what it cannot deliver
// without a dead-letter queue.
func (d snsTargets) deliver(ctx context.Context, event map[string]any) {
	cfg := d.s.Config(ctx)
	eb, topics := eventbridge.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	rules, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{})
	if err != nil {
		return
	}
	for _, rule := range rules.Rules {
		if rule.State != "ENABLED" || aws.ToString(rule.EventPattern) == "" {
			continue
		}
		var pattern map[string]any
		if json.Unmarshal([]byte(aws.ToString(rule.EventPattern)), &pattern) != nil || !matchObject(pattern, event) {
			continue
		}
		targets, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: rule.Name})
		if err != nil {
			continue
		}
		for _, t := range targets.Targets {
			if !strings.HasPrefix(aws.ToString(t.Arn), "arn:aws:sns:") {
				continue
			}
			msg, _ := json.Marshal(event)
			message := string(msg)
			switch {
			case t.Input != nil:
				message = aws.ToString(t.Input)
			case t.InputTransformer != nil:
				message = transform(event, t.InputTransformer.InputPathsMap, aws.ToString(t.InputTransformer.InputTemplate))
			}
			_, _ = topics.Publish(ctx, &sns.PublishInput{TopicArn: t.Arn, Message: aws.String(message)})
		}
	}
}

// matchObject reports whether value matches an EventBridge pattern object.
func matchObject(pattern map[string]any, value any) bool {
	obj, _ := value.(map[string]any)
	for k, p := range pattern {
		if k == "$or" {
			alts, _ := p.([]any)
			ok := false
			for _, a := range alts {
				if m, isMap := a.(map[string]any); isMap && matchObject(m, value) {
					ok = true
				}
			}
			if !ok {
				return false
			}
			continue
		}
		v, present := obj[k]
		switch p := p.(type) {
		case map[string]any:
			if !present || !matchObject(p, v) {
				return false
			}
		case []any:
			if !present || !matchValues(p, v) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// matchValues reports whether a field's value (or, for a list, one of its
// elements) matches one of the pattern's values.
func matchValues(pattern []any, v any) bool {
	if list, ok := v.([]any); ok {
		for _, e := range list {
			if matchValues(pattern, e) {
				return true
			}
		}
		return false
	}
	s, isString := v.(string)
	for _, p := range pattern {
		switch p := p.(type) {
		case string:
			if isString && s == p {
				return true
			}
		case map[string]any:
			if !isString {
				continue
			}
			for op, arg := range p {
				a, _ := arg.(string)
				switch op {
				case "prefix":
					if strings.HasPrefix(s, a) {
						return true
					}
				case "suffix":
					if strings.HasSuffix(s, a) {
						return true
					}
				case "wildcard":
					if wildcard(a, s) {
						return true
					}
				}
			}
		}
	}
	return false
}

// wildcard matches s against a pattern where * stands for any run of
// characters.
func wildcard(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return true
}

// transform applies an input transformer: each <name> in the template is
// replaced by the value at its $.a.b path ("" when missing). A template that
// is a JSON string is delivered as its text, as EventBridge does.
func transform(event map[string]any, paths map[string]string, template string) string {
	out := template
	for name, path := range paths {
		var v any = event
		for _, k := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		s := ""
		switch x := v.(type) {
		case nil:
		case string:
			s = x
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		out = strings.ReplaceAll(out, "<"+name+">", s)
	}
	var text string
	if json.Unmarshal([]byte(out), &text) == nil {
		return text
	}
	return out
}
