package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Staging items: PK CUST#<customerId>#USER#<userId>, SK STAGING — one record per user, reused when the user is
// staged again (its Version continues). GSI1 (STAGING#<customerId>, <stagedAt, fixed-width UTC>#<userId>) lists
// a customer's records newest staged first.
type stagingItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	Kind           string `dynamodbav:"type"`
	domain.Staging
}

const stagingSK = "STAGING"

func stagingKey(customerID, userID string) map[string]types.AttributeValue {
	return key(userPK(customerID, strings.ToLower(userID)), stagingSK)
}

func (s *Store) stagingPut(st domain.Staging) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(stagingItem{
		PK: userPK(st.CustomerID, st.UserID), SK: stagingSK,
		GSI1PK: "STAGING#" + st.CustomerID, GSI1SK: sortableTime(st.StagedAt) + "#" + st.UserID,
		Kind: "staging", Staging: st,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal staging of %s: %w", st.UserID, err)
	}
	return &types.Put{TableName: &s.table, Item: item}, nil
}

func decodeStaging(raw map[string]types.AttributeValue) (domain.Staging, error) {
	var it stagingItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return domain.Staging{}, fmt.Errorf("decode staging: %w", err)
	}
	return it.Staging, nil
}

// stageAttempts bounds StageUser's retries when another writer changes the user's record between its read and
// its write.
const stageAttempts = 5

// StageUser creates st as the user's staging record (Status staged unless set) when the user has none, or only a
// final one (provisioned, failed, removed): it returns the stored record, created=true, with Version the previous
// record's + 1 (1 for the first). When the user has an active record (staged, provisioning), that one is returned
// unchanged with created=false. The write is conditional on what was read, so two concurrent stagings of one user
// create one record.
func (s *Store) StageUser(ctx context.Context, st domain.Staging) (domain.Staging, bool, error) {
	st.UserID = strings.ToLower(st.UserID)
	if st.Status == "" {
		st.Status = domain.StagingStaged
	}
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = st.StagedAt
	}
	for attempt := 0; attempt < stageAttempts; attempt++ {
		cur, err := s.GetStaging(ctx, st.CustomerID, st.UserID)
		found := err == nil
		if err != nil && domain.ErrorCode(err) != domain.ENotFound {
			return domain.Staging{}, false, err
		}
		if found && !cur.Final() {
			return cur, false, nil
		}
		st.Version = cur.Version + 1
		put, err := s.stagingPut(st)
		if err != nil {
			return domain.Staging{}, false, err
		}
		put.ConditionExpression = ptr("attribute_not_exists(PK)")
		if found {
			put.ConditionExpression = ptr("#ver = :v")
			put.ExpressionAttributeNames = map[string]string{"#ver": "Version"}
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(cur.Version)}
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: put.Item, ConditionExpression: put.ConditionExpression,
			ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues})
		var failed *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return st, true, nil
		case errors.As(err, &failed):
			continue // staged or changed meanwhile: read it again
		default:
			return domain.Staging{}, false, fmt.Errorf("stage user %s: %w", st.UserID, err)
		}
	}
	return domain.Staging{}, false, domain.Errorf(domain.EConflict, "the staging of user %s kept changing: try again", st.UserID)
}

// GetStaging returns a user's staging record, or an ENotFound error.
func (s *Store) GetStaging(ctx context.Context, customerID, userID string) (domain.Staging, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: stagingKey(customerID, userID), ConsistentRead: ptr(true)})
	if err != nil {
		return domain.Staging{}, fmt.Errorf("get staging of %s: %w", userID, err)
	}
	if out.Item == nil {
		return domain.Staging{}, domain.Errorf(domain.ENotFound, "user %s is not staged", userID)
	}
	return decodeStaging(out.Item)
}

// StagingsByUser returns the staging records of the given users, by user id (lower case); users without one are
// left out.
func (s *Store) StagingsByUser(ctx context.Context, customerID string, userIDs []string) (map[string]domain.Staging, error) {
	ids := make([]string, 0, len(userIDs))
	for _, id := range userIDs {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = stagingKey(customerID, id)
	}
	out := make(map[string]domain.Staging, len(ids))
	err := s.batchGet(ctx, keys, func(raw map[string]types.AttributeValue) error {
		st, err := decodeStaging(raw)
		if err != nil {
			return err
		}
		out[st.UserID] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stagings of %s: %w", customerID, err)
	}
	return out, nil
}

// UpdateStaging writes st over the user's record when the stored Version is still st.Version, and returns it with
// Version + 1. Errors: EConflict when someone else changed it since, ENotFound when the user has no record.
func (s *Store) UpdateStaging(ctx context.Context, st domain.Staging) (domain.Staging, error) {
	st.UserID = strings.ToLower(st.UserID)
	version := st.Version
	st.Version = version + 1
	put, err := s.stagingPut(st)
	if err != nil {
		return domain.Staging{}, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: put.Item,
		ConditionExpression:       ptr("#ver = :v"),
		ExpressionAttributeNames:  map[string]string{"#ver": "Version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)}})
	var failed *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return st, nil
	case errors.As(err, &failed):
		if _, gerr := s.GetStaging(ctx, st.CustomerID, st.UserID); gerr != nil {
			return domain.Staging{}, gerr
		}
		return domain.Staging{}, stale("the staging of user %s", st.UserID)
	default:
		return domain.Staging{}, fmt.Errorf("update staging of %s: %w", st.UserID, err)
	}
}

// StagingActive is the StagingQuery.Status selecting the records still in progress (staged or provisioning).
const StagingActive = "active"

// StagingQuery selects a page of a customer's staging records.
type StagingQuery struct {
	// Status is "" (all), StagingActive (staged and provisioning) or one staging status.
	Status string
	Cursor string
	Limit  int
}

// ListStaging returns one page of the customer's staging records, newest staged first. A filtered page may be
// short while more remain: page on until NextCursor is "".
func (s *Store) ListStaging(ctx context.Context, customerID string, q StagingQuery) (Page[domain.Staging], error) {
	in := &dynamodb.QueryInput{
		IndexName:                 ptr(gsi1),
		KeyConditionExpression:    ptr("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("STAGING#" + customerID)},
		ScanIndexForward:          ptr(false),
	}
	switch q.Status {
	case "":
	case StagingActive:
		in.FilterExpression = ptr("#status IN (:staged, :prov)")
		in.ExpressionAttributeNames = map[string]string{"#status": "Status"}
		in.ExpressionAttributeValues[":staged"] = str(domain.StagingStaged)
		in.ExpressionAttributeValues[":prov"] = str(domain.StagingProvisioning)
	case domain.StagingStaged, domain.StagingProvisioning, domain.StagingProvisioned, domain.StagingFailed, domain.StagingRemoved:
		in.FilterExpression = ptr("#status = :status")
		in.ExpressionAttributeNames = map[string]string{"#status": "Status"}
		in.ExpressionAttributeValues[":status"] = str(q.Status)
	default:
		return Page[domain.Staging]{}, domain.Invalid(map[string]string{
			"status": "must be active, staged, provisioning, provisioned, failed or removed"})
	}
	page, err := fillPage(ctx, s, in, []string{"PK", "SK", "GSI1PK", "GSI1SK"}, q.Cursor, q.Limit, decodeStaging)
	if err != nil {
		return page, fmt.Errorf("list staging of %s: %w", customerID, err)
	}
	return page, nil
}
