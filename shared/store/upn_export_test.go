package store

// SetUPNQueryLimit lowers the number of UPNs UsersByUPN looks up one Query each (beyond it, it reads the customer's
// UPN index) for a test, and returns what restores it.
func SetUPNQueryLimit(n int) (restore func()) {
	old := upnQueryLimit
	upnQueryLimit = n
	return func() { upnQueryLimit = old }
}
