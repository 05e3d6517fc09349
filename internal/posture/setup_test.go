package posture_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/posture"
)

// stsAt is a real STS client for endpoint with creds, one attempt per call.
func stsAt(endpoint string, creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1})
}

func closedEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// TestCannotReachAWSIsASetupError: the first call fails to connect or to
// find credentials; the check stops with the reason and reports nothing,
// and never reads a region.
func TestCannotReachAWSIsASetupError(t *testing.T) {
	static := credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "test", "")
	none := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no EC2 IMDS role found")
	})
	for _, tc := range []struct {
		name   string
		caller posture.CallerAPI
		want   string
	}{
		{"refused", stsAt(closedEndpoint(t), static), "cannot reach AWS: connection refused (http://127.0.0.1:"},
		{"no credentials", stsAt(closedEndpoint(t), none), "no AWS credentials found"},
	} {
		w := newFakeAccountWorld()
		c := w.clients()
		c.Caller = tc.caller
		read := false
		c.CloudTrail = func(string) posture.CloudTrailAPI { read = true; return nil }
		rep, err := posture.Check(t.Context(), c, posture.Options{DefaultRegion: "us-east-1"})
		var se *posture.SetupError
		if rep != nil || !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: report %v, error %v; want a setup error with %q", tc.name, rep, err, tc.want)
		}
		if read {
			t.Errorf("%s: a region was read after the caller check failed", tc.name)
		}
	}
}

// TestAccountFindingsAreErrorsWhenInputsAreMissing: "no trail is logging"
// is only a failure when every region's trails and every trail's status
// could be read.
func TestAccountFindingsAreErrorsWhenInputsAreMissing(t *testing.T) {
	w := newFakeAccountWorld()
	// us-east-1 cannot be read at all; eu-west-1's own trail is not logging.
	w.regions["us-east-1"].err = errors.New("denied")
	w.regions["eu-west-1"].trails = w.regions["eu-west-1"].trails[1:] // org-main's shadow is not seen either
	w.regions["eu-west-1"].status[trailARN("eu-west-1", "eu-app")].IsLogging = aws.Bool(false)
	rep := checkFake(t, w, posture.Options{Regions: []string{"us-east-1", "eu-west-1"}})
	got := index(rep)
	for _, id := range []string{"account.trail-enabled account", "account.multi-region-trail account"} {
		f := got[id]
		if f.Status != posture.Error || !strings.Contains(f.Detail, "could not read the trails of us-east-1") {
			t.Errorf("%s: %s %q, want an error naming what could not be read", id, f.Status, f.Detail)
		}
		if strings.Contains(f.Fix, "create a trail") {
			t.Errorf("%s: fix %q advises what the error does not show", id, f.Fix)
		}
	}

	// Everything readable and nothing logging: a real failure.
	w = newFakeAccountWorld()
	w.regions["us-east-1"].status[trailARN("us-east-1", "org-main")].IsLogging = aws.Bool(false)
	w.regions["eu-west-1"].status[trailARN("eu-west-1", "eu-app")].IsLogging = aws.Bool(false)
	rep = checkFake(t, w, posture.Options{Regions: []string{"us-east-1", "eu-west-1"}})
	if f := index(rep)["account.trail-enabled account"]; f.Status != posture.Fail || f.Detail != "2 trail(s), none logging" {
		t.Errorf("account.trail-enabled: %s %q, want a failure", f.Status, f.Detail)
	}
}

// TestRegionNamesAreValidated: names the account does not have stop the
// check; when the list cannot be read, only the shape is checked.
func TestRegionNamesAreValidated(t *testing.T) {
	w := newFakeAccountWorld()
	for _, tc := range []struct {
		regions []string
		want    string
	}{
		{[]string{"us-east-1", "us-east-9"}, "unknown region us-east-9; the account's regions are: ap-east-1, eu-west-1, us-east-1"},
		{[]string{"US-EAST-1"}, "US-EAST-1: not a region name"},
	} {
		_, err := posture.Check(t.Context(), w.clients(), posture.Options{Regions: tc.regions})
		var se *posture.SetupError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want a setup error with %q", tc.regions, err, tc.want)
		}
	}
	c := w.clients()
	c.Account = nil // EC2 denied too: no list
	rep, err := posture.Check(t.Context(), c, posture.Options{Regions: []string{"us-east-9"}, FailOn: posture.High})
	if err != nil || strings.Join(rep.Regions, ",") != "us-east-9" {
		t.Errorf("without a region list: %v, %v", rep, err)
	}
}

// TestRegionListFindingNamesTheRealError: a permission is advised only
// when access was denied.
func TestRegionListFindingNamesTheRealError(t *testing.T) {
	w := newFakeAccountWorld()
	c := w.clients()
	c.Account = nil
	c.EC2 = fakeEC2{err: apiErr("EC2", "DescribeRegions", "InternalError", "An internal error has occurred")}
	rep, err := posture.Check(t.Context(), c, posture.Options{DefaultRegion: "us-east-1", FailOn: posture.High})
	if err != nil {
		t.Fatal(err)
	}
	f := index(rep)["account.regions account"]
	if f.Status != posture.Error || !strings.Contains(f.Detail, "InternalError") || strings.Contains(f.Fix, "grant") || strings.Contains(f.Fix, "allow") {
		t.Errorf("account.regions: %s %q fix %q", f.Status, f.Detail, f.Fix)
	}
}
