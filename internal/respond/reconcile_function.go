package respond

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/policy"
	"github.com/trailguard/trailguard/internal/trail"
)

// FunctionAPI is the part of Lambda reconciliation reads on the responder
// function itself (AWS_LAMBDA_FUNCTION_NAME).
type FunctionAPI interface {
	GetFunctionConcurrency(context.Context, *lambda.GetFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error)
	GetFunctionEventInvokeConfig(context.Context, *lambda.GetFunctionEventInvokeConfigInput, ...func(*lambda.Options)) (*lambda.GetFunctionEventInvokeConfigOutput, error)
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
}

const lambdaSource = "lambda.amazonaws.com"

// functionDrift compares the responder function with what was deployed: it
// may run (no reserved concurrency of 0), its asynchronous invocations are
// retried and kept at least as long as deployed and still go to an
// on-failure destination (config.AsyncRetryAttempts and
// config.AsyncMaxEventAgeSeconds, the values the stack deploys), and its
// resource policy still lets EventBridge invoke it for trailguard's rules.
// Each is alerted with the catalog's step, never repaired: a responder that
// repairs its own configuration is not to be trusted (whoever changed it
// may have changed its code too), so a person redeploys.
func (e *Engine) functionDrift(ctx context.Context) ([]Drift, error) {
	name := e.settings.FunctionName
	res := "function " + name
	region := e.settings.Region
	in := func(o *lambda.Options) { setRegion(&o.Region, region) }
	t := Target{Kind: catalog.Function, ID: name, Region: region, Protected: true}
	var ds []Drift
	conc, err := e.res.Function.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(name)}, in)
	if errorCode(err) == "ResourceNotFoundException" {
		// Read by another process than the function (the CLI, a hub), or
		// its name is wrong: nothing else to compare.
		return []Drift{{Resource: res, Field: "function", Want: "exists", Got: "deleted",
			Actions: e.asIf(lambdaSource, "DeleteFunction", t, nil, trail.Config{})}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the concurrency of %s: %w", res, err)
	}
	if c := conc.ReservedConcurrentExecutions; c != nil && *c == 0 {
		ds = append(ds, Drift{Resource: res, Field: "reservedConcurrency", Want: "above 0", Got: "0 (throttled: the responder never runs)",
			Actions: e.asIf(lambdaSource, "PutFunctionConcurrency", t, nil, trail.Config{})})
	}

	inv, err := e.res.Function.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name)}, in)
	switch {
	case errorCode(err) == "ResourceNotFoundException":
		ds = append(ds, Drift{Resource: res, Field: "asyncInvokeConfig", Want: "as deployed, with an on-failure destination", Got: "deleted",
			Actions: e.asIf(lambdaSource, "DeleteFunctionEventInvokeConfig", t, nil, trail.Config{})})
	case err != nil:
		return ds, fmt.Errorf("read the asynchronous invoke configuration of %s: %w", res, err)
	default:
		var weaker []string
		if n := inv.MaximumRetryAttempts; n != nil && *n < config.AsyncRetryAttempts {
			weaker = append(weaker, fmt.Sprintf("%d retries (deployed: %d)", *n, config.AsyncRetryAttempts))
		}
		if n := inv.MaximumEventAgeInSeconds; n != nil && *n < config.AsyncMaxEventAgeSeconds {
			weaker = append(weaker, fmt.Sprintf("events dropped after %d s (deployed: %d s)", *n, config.AsyncMaxEventAgeSeconds))
		}
		if inv.DestinationConfig == nil || inv.DestinationConfig.OnFailure == nil || aws.ToString(inv.DestinationConfig.OnFailure.Destination) == "" {
			weaker = append(weaker, "no on-failure destination")
		}
		if len(weaker) > 0 {
			ds = append(ds, Drift{Resource: res, Field: "asyncInvokeConfig", Want: "as deployed, with an on-failure destination", Got: strings.Join(weaker, "; "),
				Actions: e.asIf(lambdaSource, "PutFunctionEventInvokeConfig", t, nil, trail.Config{})})
		}
	}

	got, err := e.rulesMayInvoke(ctx, name, in)
	if err != nil {
		return ds, fmt.Errorf("read the resource policy of %s: %w", res, err)
	}
	if got != "" {
		ds = append(ds, Drift{Resource: res, Field: "resourcePolicy", Want: "lets events.amazonaws.com lambda:InvokeFunction for trailguard's rules", Got: got,
			Actions: e.asIf(lambdaSource, "RemovePermission", t, nil, trail.Config{})})
	}
	return ds, nil
}

// rulesMayInvoke judges the function's resource policy with the IAM
// evaluator for each of trailguard's rules that invoke it: "" when every
// one may, otherwise why not.
func (e *Engine) rulesMayInvoke(ctx context.Context, name string, in func(*lambda.Options)) (string, error) {
	rules := e.ownRuleARNs(false)
	fn := e.settings.FunctionARN()
	if len(rules) == 0 || fn == "" {
		return "", nil
	}
	out, err := e.res.Function.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(name)}, in)
	switch {
	case errorCode(err) == "ResourceNotFoundException":
		return "no resource policy: nothing may invoke it", nil
	case err != nil:
		return "", err
	}
	doc, err := policy.Parse([]byte(aws.ToString(out.Policy)))
	if err != nil {
		return "cannot tell: the policy does not parse: " + err.Error(), nil
	}
	got, _ := serviceMay(doc, "events.amazonaws.com", "lambda:InvokeFunction", fn, rules)
	return got, nil
}
