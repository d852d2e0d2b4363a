package store

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// UsersGaining returns the users of a sync page who hold a licence for which relevant is true while the stored
// user (before the page is applied) held none, or was not stored at all. The sync calls it before ApplyUsers, so a
// page replayed after a crash finds the same users again.
func (s *Store) UsersGaining(ctx context.Context, customerID string, users []domain.User, relevant func(skuID string) bool) ([]domain.User, error) {
	holds := func(skus []string) bool { return slices.ContainsFunc(skus, relevant) }
	var candidates []domain.User
	var ids []string
	for _, u := range users {
		skus := make([]string, len(u.Licences))
		for i, l := range u.Licences {
			skus[i] = l.SkuID
		}
		if u.Status == domain.UserActive && holds(skus) {
			candidates = append(candidates, u)
			ids = append(ids, u.ID)
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	before := map[string]bool{}
	err := s.batchGetUsers(ctx, customerID, ids, "ID, skuIds, #status", map[string]string{"#status": "Status"},
		func(raw map[string]types.AttributeValue) error {
			var it struct {
				ID     string   `dynamodbav:"ID"`
				SkuIDs []string `dynamodbav:"skuIds"`
				Status string   `dynamodbav:"Status"`
			}
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return err
			}
			before[it.ID] = it.Status == domain.UserActive && holds(it.SkuIDs)
			return nil
		})
	if err != nil {
		return nil, err
	}
	var out []domain.User
	for _, u := range candidates {
		if !before[u.ID] {
			out = append(out, u)
		}
	}
	return out, nil
}
