package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// This file finds users by their exact user principal name, through the UPN index (GSI2: CUSTUPN#<customerId>,
// <upn lower>#<userId>), as the mass-configuration upload does for every row of a file.

// upnQueryLimit is the most UPNs UsersByUPN looks up one Query each; for more, it reads the customer's whole UPN
// index (a few hundred users per page) instead, which is cheaper than one Query per row of a large file.
var upnQueryLimit = 300

// UserByUPN returns the user of the customer whose user principal name is upn (any letter case), or an ENotFound
// error. Removed users are returned too (Status says so). Two stored users with one UPN (a user deleted and
// another created with the same name) yield the active one, else the last changed.
func (s *Store) UserByUPN(ctx context.Context, customerID, upn string) (domain.User, error) {
	key := strings.ToLower(strings.TrimSpace(upn))
	if key == "" {
		return domain.User{}, domain.Errorf(domain.ENotFound, "user %q not found", upn)
	}
	users, err := queryAll[userItem](ctx, s, &dynamodb.QueryInput{
		IndexName:              ptr(gsi2),
		KeyConditionExpression: ptr("GSI2PK = :pk AND begins_with(GSI2SK, :upn)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str("CUSTUPN#" + customerID), ":upn": str(key + "#"),
		},
	})
	if err != nil {
		return domain.User{}, fmt.Errorf("find user %s: %w", upn, err)
	}
	var best *domain.User
	for i := range users {
		u := &users[i].User
		if strings.ToLower(u.UserPrincipalName) != key { // "#" may appear before the @ of another UPN
			continue
		}
		if best == nil || preferUser(*u, *best) {
			best = u
		}
	}
	if best == nil {
		return domain.User{}, domain.Errorf(domain.ENotFound, "user %s not found", upn)
	}
	return *best, nil
}

// preferUser reports whether a is a better answer than b for one UPN: active first, then the last changed.
func preferUser(a, b domain.User) bool {
	aa, ba := a.Status == domain.UserActive, b.Status == domain.UserActive
	if aa != ba {
		return aa
	}
	return a.ChangedAt.After(b.ChangedAt)
}

// UsersByUPN returns the users of the customer among upns (any letter case), keyed by lower-case UPN; UPNs of no
// stored user are missing from the map. Up to upnQueryLimit UPNs are looked up one Query each (a few at a time);
// more are found by reading the customer's UPN index once. As UserByUPN, an active user wins over a removed one.
func (s *Store) UsersByUPN(ctx context.Context, customerID string, upns []string) (map[string]domain.User, error) {
	want := make([]string, 0, len(upns))
	for _, u := range upns {
		if k := strings.ToLower(strings.TrimSpace(u)); k != "" {
			want = append(want, k)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	out := make(map[string]domain.User, len(want))
	if len(want) == 0 {
		return out, nil
	}
	if len(want) > upnQueryLimit {
		return out, s.allUsersByUPN(ctx, customerID, want, out)
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		sem      = make(chan struct{}, bulkStoreConcurrency)
	)
	for _, upn := range want {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			u, err := s.UserByUPN(ctx, customerID, upn)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				out[upn] = u
			case domain.ErrorCode(err) == domain.ENotFound:
			case firstErr == nil:
				firstErr = err
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// allUsersByUPN reads the customer's UPN index page by page and keeps the users among want (sorted, lower case).
func (s *Store) allUsersByUPN(ctx context.Context, customerID string, want []string, out map[string]domain.User) error {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 ptr(gsi2),
		KeyConditionExpression:    ptr("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("CUSTUPN#" + customerID)},
	}
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("find users of %s by UPN: %w", customerID, err)
		}
		for _, raw := range res.Items {
			var it userItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return fmt.Errorf("decode user: %w", err)
			}
			k := strings.ToLower(it.UserPrincipalName)
			if _, ok := slices.BinarySearch(want, k); !ok {
				continue
			}
			if old, seen := out[k]; !seen || preferUser(it.User, old) {
				out[k] = it.User
			}
		}
	}
	return nil
}
