package samples

import (
	"encoding/json"
	"fmt"
)

// Sized returns the PutEventSelectors sample with many data resources
// ("puteventselectors-many-data-resources") grown or shrunk to at most size
// bytes: as many S3 object ARNs as fit (some with characters JSON escapes or
// encodes on several bytes), no functions. Tests of size limits use it to
// get real-shaped events of 3 KB up to EventBridge's 256 KB.
func Sized(size int) ([]byte, error) {
	raw, err := Event("puteventselectors-many-data-resources")
	if err != nil {
		return nil, err
	}
	var env map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, err
	}
	detail, _ := env["detail"].(map[string]any)
	set := func(values []any) ([]byte, error) {
		for _, part := range []string{"requestParameters", "responseElements"} {
			p, _ := detail[part].(map[string]any)
			sels, _ := p["eventSelectors"].([]any)
			if len(sels) == 0 {
				return nil, fmt.Errorf("sample has no event selectors in %s", part)
			}
			sel, _ := sels[0].(map[string]any)
			res, _ := sel["dataResources"].([]any)
			if len(res) < 2 {
				return nil, fmt.Errorf("sample has fewer than two data resources in %s", part)
			}
			res[0].(map[string]any)["values"] = values
			res[1].(map[string]any)["values"] = []any{}
		}
		return json.Marshal(env)
	}
	value := func(i int) string {
		v := fmt.Sprintf("arn:aws:s3:::app-data-%04d/uploads/", i)
		switch i % 7 {
		case 3:
			v += `a<b>&"c"/`
		case 5:
			v += "données-é-✓/"
		}
		return v
	}
	base, err := set(nil)
	if err != nil {
		return nil, err
	}
	// Each value is in the event twice (request and response), quoted and
	// comma-separated: add by estimate, then drop until it fits.
	var values []any
	for est := len(base); ; {
		v := value(len(values))
		b, _ := json.Marshal(v)
		if est += 2 * (len(b) + 1); est > size {
			break
		}
		values = append(values, v)
	}
	for {
		b, err := set(values)
		if err != nil || len(b) <= size || len(values) == 0 {
			return b, err
		}
		values = values[:len(values)-1]
	}
}
