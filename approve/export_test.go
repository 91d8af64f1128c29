package approve

// The watcher's pacing, for the external tests.
const (
	MinPollInterval = minPollInterval
	BackoffBase     = backoffBase
)
