package testworld

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// eventDataStore is the double's CloudTrail Lake event data store.
type eventDataStore struct {
	Arn                          string            `json:"EventDataStoreArn"`
	Name                         string            `json:"Name"`
	Status                       string            `json:"Status"`
	AdvancedEventSelectors       []json.RawMessage `json:"AdvancedEventSelectors,omitempty"`
	MultiRegionEnabled           bool              `json:"MultiRegionEnabled"`
	OrganizationEnabled          bool              `json:"OrganizationEnabled"`
	RetentionPeriod              int               `json:"RetentionPeriod"`
	TerminationProtectionEnabled bool              `json:"TerminationProtectionEnabled"`
	KmsKeyID                     string            `json:"KmsKeyId,omitempty"`
	BillingMode                  string            `json:"BillingMode"`
	CreatedTimestamp             float64           `json:"CreatedTimestamp"`
	UpdatedTimestamp             float64           `json:"UpdatedTimestamp"`
}

// Event data store statuses, as AWS names them.
const (
	edsEnabled         = "ENABLED"
	edsStopped         = "STOPPED_INGESTION"
	edsPendingDeletion = "PENDING_DELETION"
)

// eventDataStoreInput is the union of Create/UpdateEventDataStore's fields.
type eventDataStoreInput struct {
	EventDataStore               string            `json:"EventDataStore"`
	Name                         *string           `json:"Name"`
	AdvancedEventSelectors       []json.RawMessage `json:"AdvancedEventSelectors"`
	MultiRegionEnabled           *bool             `json:"MultiRegionEnabled"`
	OrganizationEnabled          *bool             `json:"OrganizationEnabled"`
	RetentionPeriod              *int              `json:"RetentionPeriod"`
	TerminationProtectionEnabled *bool             `json:"TerminationProtectionEnabled"`
	KmsKeyID                     *string           `json:"KmsKeyId"`
	BillingMode                  *string           `json:"BillingMode"`
	StartIngestion               *bool             `json:"StartIngestion"`
}

func now() float64 { return float64(time.Now().UnixMilli()) / 1000 }

func newStoreARN() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)

	return "arn:aws:cloudtrail:" + Region + ":" + CloudTrailAccountID + ":eventdatastore/" +
		id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}

// findStore resolves an ARN or the id at its end.
func (d *cloudTrailDouble) findStore(ref string) *eventDataStore {
	if eds, ok := d.stores[ref]; ok {
		return eds
	}

	for arn, eds := range d.stores {
		if strings.HasSuffix(arn, "/"+ref) {
			return eds
		}
	}

	return nil
}

func (d *cloudTrailDouble) eventDataStoreOp(op string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, body []byte) {
		var in eventDataStoreInput
		if err := json.Unmarshal(body, &in); err != nil {
			writeCloudTrailError(w, "InvalidParameterException", "invalid request body", http.StatusBadRequest)

			return
		}

		switch op {
		case "CreateEventDataStore":
			d.createStore(w, in)

			return
		case "ListEventDataStores":
			list := make([]*eventDataStore, 0, len(d.stores))
			for _, eds := range d.stores {
				list = append(list, eds)
			}

			writeCloudTrailJSON(w, map[string]any{"EventDataStores": list})

			return
		}

		eds := d.findStore(in.EventDataStore)
		if eds == nil {
			writeCloudTrailError(w, "EventDataStoreNotFoundException", "event data store "+in.EventDataStore+" not found", http.StatusBadRequest)

			return
		}

		if eds.Status == edsPendingDeletion && op != "GetEventDataStore" && op != "RestoreEventDataStore" {
			writeCloudTrailError(w, "InvalidEventDataStoreStatusException", "event data store is pending deletion", http.StatusBadRequest)

			return
		}

		switch op {
		case "GetEventDataStore":
			writeCloudTrailJSON(w, eds)
		case "UpdateEventDataStore":
			applyStoreInput(eds, in)
			eds.UpdatedTimestamp = now()
			writeCloudTrailJSON(w, eds)
		case "DeleteEventDataStore":
			if eds.TerminationProtectionEnabled {
				writeCloudTrailError(w, "EventDataStoreTerminationProtectedException", "termination protection is enabled", http.StatusBadRequest)

				return
			}

			eds.Status, eds.UpdatedTimestamp = edsPendingDeletion, now()
			writeCloudTrailJSON(w, struct{}{})
		case "RestoreEventDataStore":
			if eds.Status != edsPendingDeletion {
				writeCloudTrailError(w, "InvalidEventDataStoreStatusException", "event data store is not pending deletion", http.StatusBadRequest)

				return
			}

			eds.Status, eds.UpdatedTimestamp = edsEnabled, now()
			writeCloudTrailJSON(w, eds)
		case "StopEventDataStoreIngestion", "StartEventDataStoreIngestion":
			from, to := edsEnabled, edsStopped
			if op == "StartEventDataStoreIngestion" {
				from, to = edsStopped, edsEnabled
			}

			if eds.Status != from {
				writeCloudTrailError(w, "InvalidEventDataStoreStatusException", "event data store status is "+eds.Status, http.StatusBadRequest)

				return
			}

			eds.Status, eds.UpdatedTimestamp = to, now()
			writeCloudTrailJSON(w, struct{}{})
		}
	}
}

func (d *cloudTrailDouble) createStore(w http.ResponseWriter, in eventDataStoreInput) {
	if in.Name == nil || *in.Name == "" {
		writeCloudTrailError(w, "InvalidParameterException", "Name is required", http.StatusBadRequest)

		return
	}

	for _, eds := range d.stores {
		if eds.Name == *in.Name {
			writeCloudTrailError(w, "EventDataStoreAlreadyExistsException", "event data store "+*in.Name+" already exists", http.StatusBadRequest)

			return
		}
	}

	t := now()
	eds := &eventDataStore{
		Arn: newStoreARN(), Status: edsEnabled, MultiRegionEnabled: true, RetentionPeriod: 2557,
		TerminationProtectionEnabled: true, BillingMode: "EXTENDABLE_RETENTION_PRICING",
		CreatedTimestamp: t, UpdatedTimestamp: t,
	}
	applyStoreInput(eds, in)

	if in.StartIngestion != nil && !*in.StartIngestion {
		eds.Status = edsStopped
	}

	d.stores[eds.Arn] = eds
	writeCloudTrailJSON(w, eds)
}

func applyStoreInput(eds *eventDataStore, in eventDataStoreInput) {
	set(&eds.Name, in.Name)
	set(&eds.MultiRegionEnabled, in.MultiRegionEnabled)
	set(&eds.OrganizationEnabled, in.OrganizationEnabled)
	set(&eds.RetentionPeriod, in.RetentionPeriod)
	set(&eds.TerminationProtectionEnabled, in.TerminationProtectionEnabled)
	set(&eds.KmsKeyID, in.KmsKeyID)
	set(&eds.BillingMode, in.BillingMode)

	if in.AdvancedEventSelectors != nil {
		eds.AdvancedEventSelectors = in.AdvancedEventSelectors
	}
}
