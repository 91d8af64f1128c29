//go:build !linux

package server

// writeProcessMetrics writes nothing outside Linux: the process metrics are
// read from /proc.
func writeProcessMetrics(*exposition) {}
