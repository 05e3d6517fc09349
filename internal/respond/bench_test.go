package respond_test

import (
	"testing"

	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// BenchmarkParseClassifyPlan measures the pure part of handling one event:
// the bytes EventBridge delivers to the ordered plan (target: ≤ 20 µs and
// ≤ 40 allocations). Run: go test -run '^$' -bench . -benchmem ./internal/respond/
func BenchmarkParseClassifyPlan(b *testing.B) {
	for _, name := range []string{"stoplogging-iamuser", "stoplogging-assumedrole", "updatetrail-degrade", "puteventselectors-advanced-no-management"} {
		raw, err := samples.Event(name)
		if err != nil {
			b.Fatal(err)
		}
		s := settings(b, nil)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				ev, err := trail.Parse(raw)
				if err != nil {
					b.Fatal(err)
				}
				p := respond.NewPlan(respond.Classify(ev, s), s, now)
				if len(p.Actions) == 0 {
					b.Fatal("empty plan")
				}
			}
		})
	}
}
