package graph

import "context"

// BatchRequestItem and BatchResponseItem expose the raw $batch call to the contract tests (package graph_test).
type (
	BatchRequestItem  = batchRequestItem
	BatchResponseItem = batchResponseItem
)

// PostBatchForTest sends one raw $batch as AssignMany does.
func (c *Client) PostBatchForTest(ctx context.Context, items []BatchRequestItem) ([]BatchResponseItem, error) {
	answers, err := c.postBatch(ctx, items)
	if err != nil {
		return nil, c.mapError("send a batch", err)
	}
	return answers, nil
}
