// Package queue sends Seatwise's job messages to SQS and names their shapes.
package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the part of the SQS client the sender uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// Message types on the jobs queue.
const (
	TypeSync = "sync"
	// TypeSnapshot takes a customer's daily licence usage snapshot (usageaudit; the sync function runs it).
	TypeSnapshot = "snapshot"
	// TypeBulk applies an uploaded mass-configuration file (bulkjob; the sync function runs it).
	TypeBulk = "bulk"
)

// Job is a message on the jobs queue.
type Job struct {
	Type        string `json:"type"`
	CustomerID  string `json:"customerId"`
	RequestedBy string `json:"requestedBy"`
	// JobID names the job of a bulk message.
	JobID string `json:"jobId,omitempty"`
}

// StagingCheck is a message on the staging queue: check whether a user has appeared in Teams.
type StagingCheck struct {
	CustomerID string `json:"customerId"`
	UserID     string `json:"userId"`
	// Attempt is the staging record's attempt count when the message was sent: a message whose attempt no longer
	// matches the record is a stale duplicate.
	Attempt int `json:"attempt"`
}

// Sender sends JSON messages to one queue.
type Sender struct {
	client SQSAPI
	url    string
}

// NewSender returns a Sender for the queue at url.
func NewSender(client SQSAPI, url string) *Sender { return &Sender{client: client, url: url} }

// Send sends v as a JSON message.
func (s *Sender) Send(ctx context.Context, v any) error { return s.SendDelayed(ctx, v, 0) }

// MaxDelay is the longest delay SQS allows on one message.
const MaxDelay = 15 * time.Minute

// SendDelayed sends v as JSON, to be delivered after delay (whole seconds, clamped to 0..MaxDelay).
func (s *Sender) SendDelayed(ctx context.Context, v any, delay time.Duration) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal message: %w", err)
	}
	b := string(body)
	secs := int32(min(max(delay, 0), MaxDelay).Round(time.Second) / time.Second)
	if _, err := s.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.url, MessageBody: &b, DelaySeconds: secs}); err != nil {
		return fmt.Errorf("send message to %s: %w", s.url, err)
	}
	return nil
}
