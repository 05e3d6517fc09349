package testworld

import (
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/encoding/cbor"
)

// cloudWatchPath is where the SDK's CloudWatch client (Smithy RPC v2 CBOR)
// sends each operation.
const cloudWatchPath = "/service/GraniteServiceVersion20100801/operation/"

// alarmsDouble answers EnableAlarmActions and DisableAlarmActions, which
// kumo's CloudWatch lacks. kumo keeps an alarm's ActionsEnabled (and honours
// it when the alarm fires) but only through PutMetricAlarm, so the double
// reads each named alarm from kumo and writes it back with the switch
// changed: kumo stays the only keeper of alarm state.
type alarmsDouble struct{ s *Server }

func (d alarmsDouble) serve(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, cloudWatchPath) {
		return false
	}
	on, ok := map[string]bool{"EnableAlarmActions": true, "DisableAlarmActions": false}[path.Base(r.URL.Path)]
	if !ok {
		return false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeCBORError(w, "InvalidParameterValue", err.Error(), http.StatusBadRequest)
		return true
	}
	names, err := alarmNames(body)
	if err != nil || len(names) == 0 {
		writeCBORError(w, "MissingParameter", "AlarmNames is required", http.StatusBadRequest)
		return true
	}
	kumo := cloudwatch.New(cloudwatch.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(d.s.backend.String()),
		HTTPClient:   d.s.client,
	})
	out, err := kumo.DescribeAlarms(r.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	if err != nil {
		writeCBORError(w, "InternalServiceError", "describe alarms: "+err.Error(), http.StatusInternalServerError)
		return true
	}
	// Like CloudWatch, names that match no alarm are ignored.
	for _, a := range out.MetricAlarms {
		in := &cloudwatch.PutMetricAlarmInput{
			AlarmName: a.AlarmName, AlarmDescription: a.AlarmDescription, ActionsEnabled: aws.Bool(on),
			AlarmActions: a.AlarmActions, OKActions: a.OKActions, InsufficientDataActions: a.InsufficientDataActions,
			MetricName: a.MetricName, Namespace: a.Namespace, Statistic: a.Statistic, ExtendedStatistic: a.ExtendedStatistic,
			Dimensions: a.Dimensions, Period: a.Period, Unit: a.Unit, EvaluationPeriods: a.EvaluationPeriods,
			DatapointsToAlarm: a.DatapointsToAlarm, Threshold: a.Threshold, ComparisonOperator: a.ComparisonOperator,
			TreatMissingData: a.TreatMissingData, Metrics: a.Metrics, ThresholdMetricId: a.ThresholdMetricId,
		}
		if _, err := kumo.PutMetricAlarm(r.Context(), in); err != nil {
			writeCBORError(w, "InternalServiceError", "write alarm back: "+err.Error(), http.StatusInternalServerError)
			return true
		}
	}
	writeCBOR(w, http.StatusOK, cbor.Map{})
	return true
}

// alarmNames reads AlarmNames from a CBOR request body.
func alarmNames(body []byte) ([]string, error) {
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, err
	}
	m, _ := v.(cbor.Map)
	list, _ := m["AlarmNames"].(cbor.List)
	var out []string
	for _, x := range list {
		if s, ok := x.(cbor.String); ok {
			out = append(out, string(s))
		}
	}
	return out, nil
}

func writeCBOR(w http.ResponseWriter, status int, v cbor.Value) {
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(v))
}

func writeCBORError(w http.ResponseWriter, code, message string, status int) {
	writeCBOR(w, status, cbor.Map{"__type": cbor.String(code), "message": cbor.String(message)})
}
