package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard/internal/respond"
)

// An alert that SNS refuses is an alert lost: Publish fails on every retry.
// SNS counts the message body (every protocol's variant together, as the one
// JSON object MessageStructure=json sends), the subject and the message
// attributes against one limit, in UTF-8 bytes after JSON escaping. The raw
// event is by far the largest part, so it is carried once per audience (the
// machine document and the email text) instead of once per protocol, and
// cut, with a note, when the whole does not fit: the machine document keeps
// it whole as long as possible, then both carry the same first bytes. The
// whole event is always in the responder's log line for the event.

// SNSLimit is SNS's limit on one Publish: message, subject and attributes.
const SNSLimit = 256 << 10

// Budget is what an alert may use of SNSLimit; the rest is room to spare.
const Budget = 200 << 10

// PublishSize is how much of SNSLimit a Publish uses.
func PublishSize(in *sns.PublishInput) int {
	n := len(deref(in.Message)) + len(deref(in.Subject))
	for k, v := range in.MessageAttributes {
		n += len(k) + len(deref(v.DataType)) + len(deref(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rawPart is the part of the raw event one variant carries.
type rawPart struct {
	data  []byte
	total int
	id    string
}

func (p rawPart) whole() bool { return len(p.data) == p.total }

// eventRaw is the event as received, or its record when it was not kept.
func eventRaw(r respond.Report) []byte {
	if len(r.Event.Raw) > 0 {
		return r.Event.Raw
	}
	b, _ := json.Marshal(r.Event.Record)
	return b
}

// rawOf returns the first n bytes of the raw event (all of it if n < 0),
// cut at a character boundary.
func rawOf(r respond.Report, n int) rawPart {
	b := eventRaw(r)
	p := rawPart{data: b, total: len(b), id: r.Event.Record.EventID}
	if n >= 0 && n < len(b) {
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		p.data = b[:n]
	}
	return p
}

// rawText renders the raw event for the text variant, with a note when cut.
func (p rawPart) text() string {
	where := "the whole event is in the responder's log line for event " + p.id
	switch {
	case p.whole():
		return string(p.data)
	case len(p.data) == 0:
		return fmt.Sprintf("(not attached: the event is %d bytes, more than an SNS message can carry; %s)", p.total, where)
	}
	return string(p.data) + fmt.Sprintf("\n… (cut: the first %d of %d bytes, to fit SNS's message limit; %s)", len(p.data), p.total, where)
}

// marshal encodes v as JSON without HTML escaping (<, > and & stay one byte
// instead of six: the message is not HTML).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// variants builds the MessageStructure=json message whose document carries
// docN bytes of the raw event and whose text carries textN (-1: all).
func variants(r respond.Report, docN, textN int) (string, error) {
	machine, err := marshal(document(r, rawOf(r, docN)))
	if err != nil {
		return "", fmt.Errorf("encode alert document: %w", err)
	}
	chat, err := marshal(Chat(r))
	if err != nil {
		return "", fmt.Errorf("encode chat alert: %w", err)
	}
	// Protocols without an entry get "default": SQS, Lambda, Firehose,
	// HTTP, email-json and mobile push all read the machine document.
	b, err := marshal(map[string]string{
		"default": string(machine),
		"email":   text(r, rawOf(r, textN)),
		"https":   string(chat),
		"sms":     Subject(r),
	})
	if err != nil {
		return "", fmt.Errorf("encode message: %w", err)
	}
	return string(b), nil
}

// fitted returns the message, within budget bytes if it can be done by
// cutting the raw event.
func fitted(r respond.Report, budget int) (string, error) {
	total := len(eventRaw(r))
	try := func(docN, textN int) (string, bool, error) {
		m, err := variants(r, docN, textN)
		return m, len(m) <= budget, err
	}
	// largest returns the largest n in [0, total] for which fits(n) holds,
	// given that fits(0) holds, to within a few hundred bytes.
	largest := func(fits func(n int) (bool, error)) (int, error) {
		lo, hi := 0, total
		for hi-lo > 256 {
			mid := (lo + hi) / 2
			ok, err := fits(mid)
			if err != nil {
				return 0, err
			}
			if ok {
				lo = mid
			} else {
				hi = mid
			}
		}
		return lo, nil
	}
	if m, ok, err := try(-1, -1); ok || err != nil {
		return m, err
	}
	if _, ok, err := try(-1, 0); err != nil {
		return "", err
	} else if ok {
		// The document keeps the whole event; the text as much as fits.
		n, err := largest(func(n int) (bool, error) { _, ok, err := try(-1, n); return ok, err })
		if err != nil {
			return "", err
		}
		m, _, err := try(-1, n)
		return m, err
	}
	m, ok, err := try(0, 0)
	if err != nil || !ok {
		// What is left is the report itself; never seen with a valid event.
		return m, err
	}
	n, err := largest(func(n int) (bool, error) { _, ok, err := try(n, n); return ok, err })
	if err != nil {
		return "", err
	}
	m, _, err = try(n, n)
	return m, err
}
