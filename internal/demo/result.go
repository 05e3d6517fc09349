package demo

import (
	"encoding/json"

	"github.com/trailguard/trailguard/internal/notify"
)

// Phase groups the timeline's steps.
type Phase string

// Phases, in the order they happen.
const (
	PhaseSetup   Phase = "setup"
	PhaseState   Phase = "state"
	PhaseAttack  Phase = "attack"
	PhaseDetect  Phase = "detect"
	PhaseRespond Phase = "respond"
	PhaseNotify  Phase = "notify"
)

// Step is one line of the timeline.
type Step struct {
	// Ms is the time since the run started, in milliseconds.
	Ms     float64  `json:"ms"`
	Phase  Phase    `json:"phase"`
	Text   string   `json:"text"`
	Detail []string `json:"detail,omitempty"`
}

// State is what the emulator says about the protected trail and the actor,
// read back with the AWS SDK.
type State struct {
	TrailExists      bool     `json:"trailExists"`
	Logging          bool     `json:"logging"`
	ManagementEvents bool     `json:"managementEvents"`
	UserPolicies     []string `json:"userPolicies"`
	KeyStatus        string   `json:"keyStatus"`
	// RoleRevokedBefore is the cut-off of the role's session revocation
	// policy, empty when there is none.
	RoleRevokedBefore string `json:"roleRevokedBefore,omitempty"`
}

// Outcome is one action as the responder logged it.
type Outcome struct {
	Action string  `json:"action"`
	Status string  `json:"status"`
	Ms     float64 `json:"ms"`
	Detail string  `json:"detail,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// Handled is the responder's log line about the event.
type Handled struct {
	Level      string    `json:"level"`
	Severity   string    `json:"severity"`
	Actor      string    `json:"actor"`
	DurationMs float64   `json:"durationMs"`
	Outcomes   []Outcome `json:"outcomes"`
}

// Alert is the message the topic's subscriber received.
type Alert struct {
	Subject string `json:"subject"`
	// Document is the alert as delivered to SQS subscribers (the message's
	// "sqs" variant; email subscribers get the text rendering of the same
	// report).
	Document notify.Alert `json:"document"`
}

// Check is one condition of the verdict.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Result is one played scenario.
type Result struct {
	Scenario Scenario `json:"scenario"`
	Title    string   `json:"title"`
	Names    Names    `json:"names"`
	// EventID is the CloudTrail event put on the bus.
	EventID  string          `json:"eventId"`
	Event    json.RawMessage `json:"event,omitempty"`
	Steps    []Step          `json:"timeline"`
	Before   State           `json:"before"`
	Attacked State           `json:"attacked"`
	After    State           `json:"after"`
	Handled  *Handled        `json:"handled,omitempty"`
	Alert    *Alert          `json:"alert,omitempty"`
	Checks   []Check         `json:"checks"`
	OK       bool            `json:"ok"`
	TotalMs  float64         `json:"totalMs"`
}
