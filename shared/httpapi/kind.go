package httpapi

import (
	"context"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
)

// skusOfKind returns the ids of the customer's SKUs of a licence kind (?kind=base|addon on the users list): a
// search by kind is a search for users holding any of them.
func (a *api) skusOfKind(ctx context.Context, customerID, kind string) ([]string, error) {
	if !catalog.ValidKind(kind) {
		return nil, domain.Invalid(map[string]string{"kind": "must be base or addon"})
	}
	skus, err := a.Store.CustomerSKUs(ctx, customerID)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, s := range skus {
		if catalog.Kind(s.SkuID, s.PartNumber) == kind {
			ids = append(ids, s.SkuID)
		}
	}
	return ids, nil
}
