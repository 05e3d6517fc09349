package awsx

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/trail"
)

// Notifier returns how the engine tells the owners: the SNS alert, and with
// TRAILGUARD_SECURITYHUB=true a Security Hub finding as well. Drift findings
// belong to the responder's own account (the one reconciliation checks).
//
// In organization mode (members not nil) a member event's finding must be
// imported by the member account itself (with the default product the
// caller must be the finding's account), so each member's findings go
// through a Security Hub client with the member role's credentials, built
// once per account; the hub's own findings use the hub's client.
func Notifier(s config.Settings, c Clients, log *slog.Logger, members *MemberClients) Notifiers {
	alert := notify.SNS{Client: c.SNS, TopicARN: s.TopicARN}
	if !s.SecurityHub || c.SecurityHub == nil {
		return alert
	}
	account := ""
	if a, ok := trail.ParseARN(s.SelfRoleARN); ok {
		account = a.Account
	}
	hub := notify.SecurityHub{Client: c.SecurityHub, Region: c.SecurityHub.Options().Region, Account: account, Log: log}
	if members != nil {
		hub.ClientFor = memberSecurityHub(members, account, c.SecurityHub)
	}
	return Both{Alert: alert, Findings: hub}
}

// memberSecurityHub gives each account's Security Hub client: the hub's own
// for the hub's account, the member role's elsewhere (cached per account;
// credentials are fetched on first use and refreshed by the SDK).
func memberSecurityHub(m *MemberClients, hubAccount string, hub *securityhub.Client) func(context.Context, string) (notify.FindingsImporter, error) {
	var mu sync.Mutex
	clients := map[string]*securityhub.Client{}
	return func(_ context.Context, account string) (notify.FindingsImporter, error) {
		if account == hubAccount || account == "" {
			return hub, nil
		}
		if !config.ValidAccountID(account) {
			return nil, fmt.Errorf("%q is not an account id", account)
		}
		mu.Lock()
		defer mu.Unlock()
		c, ok := clients[account]
		if !ok {
			c = securityhub.NewFromConfig(m.memberConfig(account))
			clients[account] = c
		}
		return c, nil
	}
}

// Notifiers tell the owners about responses and about drift.
type Notifiers interface {
	respond.Notifier
	respond.DriftNotifier
}

// Both sends the SNS alert and the Security Hub finding side by side. Only
// the alert's error is returned: the finding is a copy for the security
// team, and its failure (logged by the findings notifier) must not fail the
// invocation, whose retry would alert again.
type Both struct {
	Alert    notify.SNS
	Findings notify.SecurityHub
}

// Notify alerts and imports the finding.
func (b Both) Notify(ctx context.Context, r respond.Report) error {
	return b.together(func() error { return b.Alert.Notify(ctx, r) }, func() { _ = b.Findings.Notify(ctx, r) })
}

// NotifyDrift alerts and imports one finding per drift.
func (b Both) NotifyDrift(ctx context.Context, r respond.ReconcileReport) error {
	return b.together(func() error { return b.Alert.NotifyDrift(ctx, r) }, func() { _ = b.Findings.NotifyDrift(ctx, r) })
}

func (b Both) together(alert func() error, finding func()) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// A bug in the finding's rendering must not end the runtime from
		// this goroutine, nor stop the alert.
		defer func() {
			if p := recover(); p != nil {
				l := b.Findings.Log
				if l == nil {
					l = slog.Default()
				}
				l.Error("security hub finding: internal error", slog.Any("panic", p))
			}
		}()
		finding()
	}()
	err := alert()
	wg.Wait()
	return err
}
