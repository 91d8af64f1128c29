package approve

import "errors"

// Outcome is what became of a sign-in request on this device: the one value
// the UIs branch on, show and record, whichever provider the request came from.
type Outcome string

// The outcomes. Their values are the decisions kept in the vault's history
// (vault.Event.Decision), except OutcomeWrongNumber, recorded as denied.
const (
	OutcomeApproved    Outcome = "approved"     // the user approved and the server accepted it
	OutcomeDenied      Outcome = "denied"       // the user denied it
	OutcomeWrongNumber Outcome = "wrong_number" // the number did not match: the server denied the sign-in
	OutcomeExpired     Outcome = "expired"      // too late: the request expired before the answer
	OutcomeNotMe       Outcome = "not_me"       // the user reported that it was not them
	OutcomeFailed      Outcome = "failed"       // the answer could not be delivered
)

// OutcomeOf is the outcome of sending answer a, which returned err.
func OutcomeOf(a Answer, err error) Outcome {
	switch {
	case errors.Is(err, ErrWrongNumber):
		return OutcomeWrongNumber
	case errors.Is(err, ErrExpired):
		return OutcomeExpired
	case err != nil:
		return OutcomeFailed
	case a.Approve:
		return OutcomeApproved
	case a.Reason == NotMe:
		return OutcomeNotMe
	}
	return OutcomeDenied
}

// OutcomeOfDecision is the outcome of a decision kept in the history.
func OutcomeOfDecision(decision string) Outcome { return Outcome(decision) }

// Decision is the word kept in the vault's history for the outcome.
func (o Outcome) Decision() string {
	if o == OutcomeWrongNumber {
		return string(OutcomeDenied)
	}
	return string(o)
}

// Words says the outcome in a few plain words, e.g. "Reported as not you".
func (o Outcome) Words() string {
	switch o {
	case OutcomeApproved:
		return "Approved"
	case OutcomeDenied:
		return "Denied"
	case OutcomeWrongNumber:
		return "Denied: wrong number"
	case OutcomeExpired:
		return "Expired"
	case OutcomeNotMe:
		return "Reported as not you"
	case OutcomeFailed:
		return "Not delivered"
	}
	return "Unknown"
}
