package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/trailguard/trailguard/internal/respond"
)

// FindingsImporter is the part of Security Hub the notifier calls.
type FindingsImporter interface {
	BatchImportFindings(context.Context, *securityhub.BatchImportFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

// SecurityHub imports reports as ASFF findings. It satisfies
// respond.Notifier and respond.DriftNotifier, and it never fails: Security
// Hub is a second copy of the alert, so a rejected finding, Security Hub
// being disabled or unreachable is logged with the reason and must not make
// the invocation fail (Lambda would retry it and send the SNS alert again).
//
// With the default product ARN the calling account must be the finding's
// account. In organization mode the hub responds to member events, so
// ClientFor gives the client of the finding's account (assumed role);
// single-account mode sets Client only.
type SecurityHub struct {
	Client FindingsImporter
	// ClientFor, when set, returns the client that imports the findings of
	// an account (organization mode); Client is then the fallback.
	ClientFor func(ctx context.Context, account string) (FindingsImporter, error)
	// Region is the region of the Security Hub called (the ProductArn's).
	Region string
	// Account is the account reconciliation checks (drift findings).
	Account string
	Log     *slog.Logger
	Now     func() time.Time
}

// ImportResult counts what one import achieved.
type ImportResult struct {
	Imported int
	// Failed lists the rejected findings: Id and reason.
	Failed []string
}

// Notify imports the report's finding. The error is always nil; failures
// are logged (see SecurityHub).
func (h SecurityHub) Notify(ctx context.Context, r respond.Report) error {
	res, err := h.Import(ctx, []Finding{ASFF(r, h.Region, h.now())})
	h.log(ctx, "response", res, err)
	return nil
}

// NotifyDrift imports one finding per drift of the run. The error is always
// nil; failures are logged.
func (h SecurityHub) NotifyDrift(ctx context.Context, r respond.ReconcileReport) error {
	res, err := h.Import(ctx, DriftASFF(r, h.Account, h.Region, h.now()))
	h.log(ctx, "drift", res, err)
	return nil
}

func (h SecurityHub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h SecurityHub) log(ctx context.Context, what string, res ImportResult, err error) {
	l := h.Log
	if l == nil {
		l = slog.Default()
	}
	switch {
	case err != nil:
		l.ErrorContext(ctx, "security hub import failed", slog.String("findings", what), slog.Int("imported", res.Imported),
			slog.Any("rejected", res.Failed), slog.String("error", err.Error()))
	case len(res.Failed) > 0:
		l.ErrorContext(ctx, "security hub rejected findings", slog.String("findings", what), slog.Int("imported", res.Imported), slog.Any("rejected", res.Failed))
	default:
		l.InfoContext(ctx, "security hub findings imported", slog.String("findings", what), slog.Int("imported", res.Imported))
	}
}

// Import sends findings to Security Hub, each account's through its own
// client, at most MaxFindingsPerImport per call. A finding over
// MaxFindingBytes is not sent (Security Hub would reject it) and is counted
// as rejected. Every batch is tried; the error joins the failed calls.
func (h SecurityHub) Import(ctx context.Context, fs []Finding) (ImportResult, error) {
	var res ImportResult
	var errs []error
	byAccount := map[string][]shtypes.AwsSecurityFinding{}
	var accounts []string
	for _, f := range fs {
		b, err := json.Marshal(f)
		switch {
		case err != nil:
			res.Failed = append(res.Failed, f.ID+": "+err.Error())
			continue
		case len(b) > MaxFindingBytes:
			res.Failed = append(res.Failed, fmt.Sprintf("%s: %d bytes, over Security Hub's %d", f.ID, len(b), MaxFindingBytes))
			continue
		}
		if _, ok := byAccount[f.AwsAccountID]; !ok {
			accounts = append(accounts, f.AwsAccountID)
		}
		byAccount[f.AwsAccountID] = append(byAccount[f.AwsAccountID], f.SDK())
	}
	for _, account := range accounts {
		client := h.Client
		if h.ClientFor != nil {
			c, err := h.ClientFor(ctx, account)
			if err != nil {
				errs = append(errs, fmt.Errorf("security hub client for account %s: %w", account, err))
				continue
			}
			client = c
		}
		if client == nil {
			errs = append(errs, fmt.Errorf("no security hub client for account %s", account))
			continue
		}
		all := byAccount[account]
		for start := 0; start < len(all); start += MaxFindingsPerImport {
			batch := all[start:min(start+MaxFindingsPerImport, len(all))]
			out, err := client.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: batch})
			if err != nil {
				errs = append(errs, fmt.Errorf("import %d finding(s) of account %s: %w", len(batch), account, err))
				continue
			}
			res.Imported += int(aws.ToInt32(out.SuccessCount))
			for _, ff := range out.FailedFindings {
				res.Failed = append(res.Failed, aws.ToString(ff.Id)+": "+aws.ToString(ff.ErrorCode)+": "+aws.ToString(ff.ErrorMessage))
			}
		}
	}
	return res, errors.Join(errs...)
}

// SDK converts the finding to the SDK's type for BatchImportFindings.
func (f Finding) SDK() shtypes.AwsSecurityFinding {
	s := shtypes.AwsSecurityFinding{
		SchemaVersion: aws.String(f.SchemaVersion), Id: aws.String(f.ID), ProductArn: aws.String(f.ProductARN),
		GeneratorId: aws.String(f.GeneratorID), AwsAccountId: aws.String(f.AwsAccountID), Region: optional(f.Region),
		Types: f.Types, FirstObservedAt: optional(f.FirstObservedAt), LastObservedAt: optional(f.LastObservedAt),
		CreatedAt: aws.String(f.CreatedAt), UpdatedAt: aws.String(f.UpdatedAt),
		Severity: &shtypes.Severity{Label: shtypes.SeverityLabel(f.Severity.Label), Original: optional(f.Severity.Original)},
		Title:    aws.String(f.Title), Description: aws.String(f.Description), SourceUrl: optional(f.SourceURL),
		ProductFields: f.ProductFields, RecordState: shtypes.RecordState(f.RecordState),
	}
	if f.Remediation != nil {
		s.Remediation = &shtypes.Remediation{Recommendation: &shtypes.Recommendation{
			Text: aws.String(f.Remediation.Recommendation.Text), Url: optional(f.Remediation.Recommendation.URL)}}
	}
	for _, r := range f.Resources {
		res := shtypes.Resource{Type: aws.String(r.Type), Id: aws.String(r.ID), Partition: shtypes.Partition(r.Partition), Region: optional(r.Region)}
		if r.Details != nil && len(r.Details.Other) > 0 {
			res.Details = &shtypes.ResourceDetails{Other: r.Details.Other}
		}
		s.Resources = append(s.Resources, res)
	}
	if a := f.Action; a != nil {
		c := a.AwsAPICallAction
		s.Action = &shtypes.Action{ActionType: aws.String(a.ActionType), AwsApiCallAction: &shtypes.AwsApiCallAction{
			Api: optional(c.API), ServiceName: optional(c.ServiceName), CallerType: optional(c.CallerType),
			FirstSeen: optional(c.FirstSeen), LastSeen: optional(c.LastSeen)}}
		if c.RemoteIPDetails != nil {
			s.Action.AwsApiCallAction.RemoteIpDetails = &shtypes.ActionRemoteIpDetails{IpAddressV4: aws.String(c.RemoteIPDetails.IPAddressV4)}
		}
	}
	if c := f.Compliance; c != nil {
		s.Compliance = &shtypes.Compliance{Status: shtypes.ComplianceStatus(c.Status), RelatedRequirements: c.RelatedRequirements, SecurityControlId: optional(c.SecurityControlID)}
	}
	if f.Workflow != nil {
		s.Workflow = &shtypes.Workflow{Status: shtypes.WorkflowStatus(f.Workflow.Status)}
	}
	if n := f.Note; n != nil {
		s.Note = &shtypes.Note{Text: aws.String(n.Text), UpdatedBy: aws.String(n.UpdatedBy), UpdatedAt: aws.String(n.UpdatedAt)}
	}
	if p := f.FindingProviderFields; p != nil {
		s.FindingProviderFields = &shtypes.FindingProviderFields{Types: p.Types}
		if p.Severity != nil {
			s.FindingProviderFields.Severity = &shtypes.FindingProviderSeverity{Label: shtypes.SeverityLabel(p.Severity.Label), Original: optional(p.Severity.Original)}
		}
	}
	return s
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
