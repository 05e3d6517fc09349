package posture_test

import (
	"context"
	"fmt"
	"os"

	"github.com/trailguard/trailguard/internal/posture"
)

// Check returns a Report: print it as a table or JSON, or walk its findings.
// Here the clients answer with recorded responses; in the CLI they are
// posture.NewClients(cfg) with cfg from config.LoadDefaultConfig.
func ExampleCheck() {
	clients := newFakeAccountWorld().clients()
	rep, err := posture.Check(context.Background(), clients, posture.Options{FailOn: posture.High})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	for _, f := range rep.Findings {
		if f.Status != posture.Pass && f.Severity >= rep.FailOn {
			fmt.Printf("%-5s %-8s %-26s %s %s\n", f.Status, f.Severity, f.ID, f.Region, f.Resource)
		}
	}
	fmt.Println("exit 1:", rep.Failing())
	// Output:
	// error high     region.covered             ap-east-1 ap-east-1
	// error high     region.responder-rule      ap-east-1 ap-east-1
	// fail  high     region.responder-rule      eu-west-1 guard
	// fail  high     trail.management-events    eu-west-1 eu-app
	// error critical bucket.public-access-block eu-west-1 eu-app-logs
	// fail  high     bucket.lifecycle           us-east-1 org-main-logs
	// fail  high     bucket.policy              us-east-1 org-main-logs
	// fail  high     region.responder-rule      us-east-1 tg-cloudtrail-v1
	// fail  high     trail.delivery             us-east-1 org-main
	// exit 1: true
}

func ExampleParseSeverity() {
	s, err := posture.ParseSeverity("HIGH")
	fmt.Println(s, err, s >= posture.Medium)
	// Output: high <nil> true
}
