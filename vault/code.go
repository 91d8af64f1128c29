package vault

import (
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Code is a one-time password with the window it is valid in.
type Code struct {
	Value string
	// Start and End bound the TOTP/Steam period the code belongs to; both are
	// zero for HOTP codes, which do not expire.
	Start, End time.Time
}

// Remaining is how long the code stays valid after t, rounded up to whole seconds.
func (c Code) Remaining(t time.Time) time.Duration {
	if c.End.IsZero() {
		return 0
	}
	d := c.End.Sub(t)
	if d < 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// Code returns the account's code at time t. For HOTP accounts it returns the
// code for the current counter and does not advance it: use Vault.NextHOTP,
// which saves the new counter before the code is shown.
func (a *Account) Code(t time.Time) (Code, error) {
	if err := a.Validate(); err != nil {
		return Code{}, err
	}
	if a.Type == HOTP {
		v, err := a.codeAt(a.Counter)
		return Code{Value: v}, err
	}
	period := int64(a.Period)
	step := t.Unix() / period
	if t.Unix() < 0 && t.Unix()%period != 0 {
		step-- // floor division for times before 1970
	}
	v, err := a.codeAt(uint64(step))
	start := time.Unix(step*period, 0)
	return Code{Value: v, Start: start, End: start.Add(time.Duration(period) * time.Second)}, err
}

// codeAt computes the code for one counter value (the time step for TOTP)
// with pquerna/otp.
func (a *Account) codeAt(counter uint64) (string, error) {
	opts := hotp.ValidateOpts{Digits: otp.Digits(a.Digits), Algorithm: otpAlgorithm(a.Algorithm)}
	if a.Type == Steam {
		opts.Encoder = otp.EncoderSteam
	}
	code, err := hotp.GenerateCodeCustom(a.Secret.Base32(), counter, opts)
	if err != nil {
		return "", fmt.Errorf("generate code for %s: %w", a.Label(), err)
	}
	return code, nil
}

func otpAlgorithm(a Algorithm) otp.Algorithm {
	switch a {
	case SHA256:
		return otp.AlgorithmSHA256
	case SHA512:
		return otp.AlgorithmSHA512
	}
	return otp.AlgorithmSHA1
}
