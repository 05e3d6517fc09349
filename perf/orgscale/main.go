// Command orgscale prints organization mode's scale figures: on paper, the
// reconciliation's API calls per run for an organization of a given size
// against each API's rate limit, the period and concurrency that need, and
// the hub's monthly cost; and measured, a reconciliation run against a
// simulated organization on the organization emulator (orgemu), with its
// time and its calls by operation. The paper model's calls per account and
// region come from the catalog (the spoke's rules), the same source the
// reconciliation uses, and the measured run checks the model.
//
//	go run ./perf/orgscale                  # paper (1000 x 17) and measured (200 x 3)
//	go run ./perf/orgscale -accounts 1000 -regions 17 -measure-accounts 200 -measure-regions 3
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/testworld/orgemu"
)

// Assumptions of the paper model. Each is a default quota or list price as
// published at the time of writing (us-east-1, arm64); check your account's
// Service Quotas and the current price list.
const (
	// EventBridge control-plane APIs (DescribeRule, ListTargetsByRule):
	// 50 requests/s per account and region. The spoke checks run in each
	// member's own quota, so the per-account rate is what matters.
	eventBridgeAPIRate = 50.0
	// Organizations ListAccounts pages hold at most 20 accounts; the API is
	// throttled per organization, assumed here at 1 request/s.
	listAccountsPage = 20
	orgsAPIRate      = 1.0
	// STS AssumeRole: one call per member per credentials lifetime (1 h),
	// counted against the hub account; AWS does not publish a fixed rate,
	// assumed here at 100 requests/s.
	stsRate          = 100.0
	credentialsHours = 1.0
	// callLatency is one AWS API round trip from Lambda, assumed.
	callLatency = 40 * time.Millisecond
	// lambdaTimeout is Lambda's maximum run time; the hub's reconciliation
	// must fit in it (and in the function's configured timeout).
	lambdaTimeout = 15 * time.Minute

	// Prices (USD).
	lambdaGBSecond    = 0.0000133334 // arm64
	lambdaPerMillion  = 0.20
	eventsPerMillion  = 1.00 // cross-account events delivered to the hub's bus
	logsPerGB         = 0.50 // CloudWatch Logs ingestion
	hubMemoryGB       = 0.25 // the responder's 256 MB
	logBytesPerRun    = 64 * 1024
	logBytesPerEvent  = 4 * 1024
	eventHandleSecond = 0.2 // a handled event, restore and alert included
)

func main() {
	accounts := flag.Int("accounts", 1000, "paper: accounts in the organization")
	regions := flag.Int("regions", 17, "paper: regions with spokes")
	period := flag.Duration("period", 15*time.Minute, "paper: reconciliation period")
	events := flag.Int("events", 10000, "paper: tamper-catalog events forwarded to the hub per month")
	mAccounts := flag.Int("measure-accounts", 200, "measured: simulated accounts (0 skips the run)")
	mRegions := flag.Int("measure-regions", 3, "measured: regions")
	concurrency := flag.Int("concurrency", config.DefaultOrgConcurrency, "accounts reconciled at a time")
	flag.Parse()

	paper(*accounts, *regions, *period, *events, *concurrency)
	if *mAccounts > 0 {
		if err := measure(*mAccounts, *mRegions, *concurrency); err != nil {
			fmt.Fprintln(os.Stderr, "orgscale:", err)
			os.Exit(1)
		}
	}
}

// perAccountCalls is what reconciliation calls in one member account per
// run: DescribeRule and ListTargetsByRule for each spoke rule in each region
// (global services' rules in us-east-1 only). Credentials come from the
// cache; trails are read only in the accounts that hold them.
func perAccountCalls(regions int) int {
	global := len(catalog.SpokeRulesIn(catalog.GlobalRegion))
	other := len(catalog.SpokeRulesIn("eu-west-1"))
	return 2 * (global + (regions-1)*other)
}

func paper(accounts, regions int, period time.Duration, events, concurrency int) {
	fmt.Printf("== on paper: %d accounts x %d regions, reconciliation every %s ==\n", accounts, regions, period)
	per := perAccountCalls(regions)
	total := per * accounts
	pages := int(math.Ceil(float64(accounts) / listAccountsPage))
	runsPerHour := float64(time.Hour) / float64(period)
	assumes := float64(accounts) / credentialsHours // per hour, whatever the period
	fmt.Printf("calls per run: %d (EventBridge DescribeRule + ListTargetsByRule: %d per account), Organizations ListAccounts: %d, STS AssumeRole: %.0f per hour at most\n",
		total+pages, per, pages, assumes)
	fmt.Printf("spoke rules per account: %d in %s, %d in each other region\n",
		len(catalog.SpokeRulesIn(catalog.GlobalRegion)), catalog.GlobalRegion, len(catalog.SpokeRulesIn("eu-west-1")))

	// Within an account the regions are checked one call at a time, so an
	// account sees at most 1/callLatency requests per second.
	perAccountRate := float64(time.Second) / float64(callLatency)
	fmt.Printf("rate against limits: EventBridge %.0f/s per member account and region (limit %.0f/s); ListAccounts %d pages at %.0f/s = %.0f s; AssumeRole %.2f/s averaged (assumed limit %.0f/s)\n",
		perAccountRate, eventBridgeAPIRate, pages, orgsAPIRate, float64(pages)/orgsAPIRate, assumes/3600, stsRate)

	accountTime := time.Duration(per) * callLatency
	runTime := func(c int) time.Duration {
		return time.Duration(math.Ceil(float64(accounts)/float64(c)))*accountTime + time.Duration(float64(pages)/orgsAPIRate*float64(time.Second))
	}
	fmt.Printf("one account takes %s (%d calls x %s); a run at concurrency %d takes %s\n", accountTime.Round(time.Millisecond), per, callLatency, concurrency, runTime(concurrency).Round(time.Second))
	need := 1
	for need < accounts && runTime(need) > min(period, lambdaTimeout) {
		need *= 2
	}
	fmt.Printf("concurrency needed to finish within min(period, Lambda's 15 min): %d (run %s)\n", need, runTime(need).Round(time.Second))

	gbs := runTime(need).Seconds() * hubMemoryGB
	runsPerMonth := runsPerHour * 730
	lambda := runsPerMonth*gbs*lambdaGBSecond + (runsPerMonth+float64(events))*lambdaPerMillion/1e6 +
		float64(events)*eventHandleSecond*hubMemoryGB*lambdaGBSecond
	ev := float64(events) * eventsPerMillion / 1e6
	logs := (runsPerMonth*logBytesPerRun + float64(events)*logBytesPerEvent) / (1 << 30) * logsPerGB
	fmt.Printf("hub cost per month: Lambda $%.2f (%.0f runs x %.0f GB-s + %d events), EventBridge cross-account events $%.2f, CloudWatch Logs $%.2f, API calls $0 (control-plane reads and STS are free): total $%.2f\n",
		lambda, runsPerMonth, gbs, events, ev, logs, lambda+ev+logs)
	fmt.Println()
}

func measure(accounts, regions, concurrency int) error {
	ctx := context.Background()
	all := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1", "us-west-2"}
	if regions > len(all) {
		regions = len(all)
	}
	var members []string
	for i := range accounts {
		members = append(members, fmt.Sprintf("9%011d", i+1))
	}
	w, err := orgemu.NewWorld(ctx, orgemu.WorldSpec{Management: "123456789012", Hub: "222222222222", Members: members, Regions: all[:regions]})
	if err != nil {
		return err
	}
	defer w.Close()
	env := w.Settings("arn:aws:sns:us-east-1:222222222222:trailguard-alerts")
	s, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	cfg := w.Org.Config(w.HubCreds)
	hub := awsx.NewClients(cfg)
	orgs := organizations.NewFromConfig(cfg)
	e := awsx.NewEngine(s, hub, respond.WithClients(awsx.NewMemberClients(s, cfg, sts.NewFromConfig(cfg), orgs, hub)), respond.WithDriftNotifier(noAlert{}))

	fmt.Printf("== measured: reconciliation of %d accounts (%d members, the management account, the hub) x %d regions on the organization emulator, concurrency %d ==\n",
		accounts+2, accounts, regions, concurrency)
	for run := 1; run <= 2; run++ {
		w.Org.ResetCalls()
		t0 := time.Now()
		rep, err := e.ReconcileOrg(ctx, awsx.OrgAccounts{API: orgs}, concurrency)
		took := time.Since(t0)
		if err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
		calls := w.Org.Calls()
		var total int
		keys := make([]string, 0, len(calls))
		for k, n := range calls {
			total += n
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, calls[k]))
		}
		label := "cold (first run: one AssumeRole per account)"
		if run == 2 {
			label = "warm (credentials cached)"
		}
		fmt.Printf("run %d, %s: %s, %d accounts, %d calls (%.0f calls/s), %d drifts\n  %s\n",
			run, label, took.Round(time.Millisecond), len(rep.Accounts), total, float64(total)/took.Seconds(), len(rep.Reconcile.Drifts), strings.Join(parts, ", "))
		if run == 2 {
			model := perAccountCalls(regions)*(accounts+1) + int(math.Ceil(float64(accounts+2)/listAccountsPage))
			fmt.Printf("  model: %d spoke calls x %d accounts with a spoke + ListAccounts pages = %d (measured %d without the organization trail's 3 reads)\n",
				perAccountCalls(regions), accounts+1, model, total-3)
		}
	}
	return nil
}

// noAlert takes drift alerts in the measurement (there are none in a clean
// organization).
type noAlert struct{}

func (noAlert) NotifyDrift(context.Context, respond.ReconcileReport) error { return nil }
