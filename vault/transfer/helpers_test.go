package transfer

import "time"

// testTime is a fixed clock for code generation in tests.
var testTime = time.Unix(1700000000, 0)

func unix(sec int64) time.Time { return time.Unix(sec, 0) }
