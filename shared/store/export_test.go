package store

// SetListPageSize lowers the Query page size of ProvisioningOf and MonthSnapshots for a test, and returns what
// restores it.
func SetListPageSize(n int32) (restore func()) {
	old := listPageSize
	listPageSize = n
	return func() { listPageSize = old }
}
