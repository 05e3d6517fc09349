package testworld

import (
	"bytes"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ec2Double answers EC2 DescribeRegions, which kumo lacks (it answers
// UnknownError), so `trailguard check` can list the emulator account's
// regions as it lists a real account's. The emulator models an account
// where only Region is enabled (its trails, rules and buckets are all
// there); the other commercial regions exist but are reported not opted
// in, as AllRegions=true shows them.
type ec2Double struct{}

// commercialRegions are the AWS commercial partition's region names.
var commercialRegions = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1",
	"me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
}

type ec2Region struct {
	Name        string `xml:"regionName"`
	Endpoint    string `xml:"regionEndpoint"`
	OptInStatus string `xml:"optInStatus"`
}

type describeRegionsResponse struct {
	XMLName   xml.Name    `xml:"DescribeRegionsResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	RequestID string      `xml:"requestId"`
	Regions   []ec2Region `xml:"regionInfo>item"`
}

func (ec2Double) serve(w http.ResponseWriter, r *http.Request) bool {
	form, ok := queryForm(r, "ec2")
	if !ok || form.Get("Action") != "DescribeRegions" {
		return false
	}
	all := strings.EqualFold(form.Get("AllRegions"), "true")
	var names []string
	for k, v := range form {
		if strings.HasPrefix(k, "RegionName.") {
			names = append(names, v...)
		}
	}
	resp := describeRegionsResponse{Xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/", RequestID: "emulator"}
	for _, name := range commercialRegions {
		status := "not-opted-in"
		if name == Region {
			status = "opt-in-not-required"
		}
		if (!all && status == "not-opted-in") || (len(names) > 0 && !slices.Contains(names, name)) {
			continue
		}
		resp.Regions = append(resp.Regions, ec2Region{Name: name, Endpoint: "ec2." + name + ".amazonaws.com", OptInStatus: status})
	}
	b, err := xml.Marshal(resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	_, _ = w.Write(append([]byte(xml.Header), b...))
	return true
}

// queryForm reads the form of an AWS query-protocol request (IAM, EC2, ...)
// signed for service, and puts the body back for whoever serves the request
// if the double passes it on to kumo. ok is false for any other request.
func queryForm(r *http.Request, service string) (form url.Values, ok bool) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost || mediaType != "application/x-www-form-urlencoded" || signingName(r.Header.Get("Authorization")) != service {
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, err = url.ParseQuery(string(body))
	return form, err == nil
}
