package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/posture"
)

// importCheckFindings imports the check's failures into the Security Hub of
// the configured region, as findings of the checked account (the default
// product: the credentials' account must be the findings' account), in
// batches of at most 100. It says on stderr what was imported; a rejected
// finding or a failed call is an error, after the report was written.
func importCheckFindings(ctx context.Context, e *env, cfg aws.Config, rep *posture.Report) error {
	if rep.Account == "" {
		return fmt.Errorf("--securityhub: the account behind the credentials is unknown (sts:GetCallerIdentity failed), so the findings cannot name it")
	}
	fs := posture.ASFF(rep, cfg.Region, time.Now())
	if len(fs) == 0 {
		fmt.Fprintf(e.stderr, "security hub: no failure to import (account %s, %s)\n", rep.Account, cfg.Region)
		return nil
	}
	hub := notify.SecurityHub{Client: securityhub.NewFromConfig(cfg), Region: cfg.Region}
	res, err := hub.Import(ctx, fs)
	fmt.Fprintf(e.stderr, "security hub: imported %d of %d failure(s) as findings of account %s in %s (product %s)\n",
		res.Imported, len(fs), rep.Account, cfg.Region, notify.ProductARN(cfg.Region, rep.Account))
	for _, f := range res.Failed {
		fmt.Fprintf(e.stderr, "security hub: rejected %s\n", f)
	}
	switch {
	case err != nil:
		return fmt.Errorf("--securityhub: %w", err)
	case len(res.Failed) > 0:
		return fmt.Errorf("--securityhub: %d finding(s) rejected: %s", len(res.Failed), strings.Join(res.Failed, "; "))
	}
	return nil
}
