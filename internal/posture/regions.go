package posture

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// regionName is the shape of every AWS region name (us-east-1,
// ap-southeast-5, us-gov-west-1, cn-north-1, eu-isoe-west-1).
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// validateRegions makes sure every region asked for exists and is enabled
// for the account, before anything is read: a mistyped region would
// otherwise be "checked" and reported as unreadable or uncovered. The
// account's own list (every region, with its opt-in status) decides; when
// it cannot be read, only the names' shape is checked.
func (c *checker) validateRegions(ctx context.Context, asked []string) error {
	var malformed []string
	for _, r := range asked {
		if !regionName.MatchString(r) {
			malformed = append(malformed, r)
		}
	}
	if len(malformed) > 0 {
		return &SetupError{Reason: fmt.Sprintf("--regions: %s: not a region name (want names such as us-east-1, eu-west-1)", strings.Join(malformed, ", "))}
	}
	all, enabled, err := c.allRegions(ctx)
	if err != nil {
		return nil // cannot list: the shape check is all there is
	}
	var unknown, disabled []string
	for _, r := range asked {
		switch {
		case !slices.Contains(all, r):
			unknown = append(unknown, r)
		case !slices.Contains(enabled, r):
			disabled = append(disabled, r)
		}
	}
	switch {
	case len(unknown) > 0:
		return &SetupError{Reason: fmt.Sprintf("--regions: unknown region %s; the account's regions are: %s", strings.Join(unknown, ", "), strings.Join(all, ", "))}
	case len(disabled) > 0:
		return &SetupError{Reason: fmt.Sprintf("--regions: %s not enabled for this account (opt-in region); enabled regions: %s", strings.Join(disabled, ", "), strings.Join(enabled, ", "))}
	}
	return nil
}

// allRegions lists every region of the account's partition and those
// enabled for the account, from EC2 (AllRegions) or else the Account API.
func (c *checker) allRegions(ctx context.Context) (all, enabled []string, err error) {
	var errs []error
	if c.clients.EC2 != nil {
		out, err := c.clients.EC2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
		if err == nil && len(out.Regions) > 0 {
			for _, r := range out.Regions {
				name := aws.ToString(r.RegionName)
				all = append(all, name)
				if s := aws.ToString(r.OptInStatus); s == "" || s == "opt-in-not-required" || s == "opted-in" {
					enabled = append(enabled, name)
				}
			}
			sort.Strings(all)
			sort.Strings(enabled)
			return all, enabled, nil
		}
		errs = append(errs, err)
	}
	if c.clients.Account != nil {
		in := &account.ListRegionsInput{}
		for {
			out, err := c.clients.Account.ListRegions(ctx, in)
			if err != nil {
				errs = append(errs, err)
				all, enabled = nil, nil
				break
			}
			for _, r := range out.Regions {
				name := aws.ToString(r.RegionName)
				all = append(all, name)
				if s := string(r.RegionOptStatus); s == "" || s == "ENABLED" || s == "ENABLED_BY_DEFAULT" {
					enabled = append(enabled, name)
				}
			}
			if aws.ToString(out.NextToken) == "" {
				sort.Strings(all)
				sort.Strings(enabled)
				return all, enabled, nil
			}
			in.NextToken = out.NextToken
		}
	}
	return nil, nil, errors.Join(append(errs, errors.New("no region list"))...)
}
