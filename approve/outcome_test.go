package approve

import (
	"errors"
	"fmt"
	"testing"
)

func TestOutcomeOf(t *testing.T) {
	for _, tc := range []struct {
		a     Answer
		err   error
		want  Outcome
		words string
	}{
		{Answer{Approve: true, Number: "42"}, nil, OutcomeApproved, "Approved"},
		{Answer{Reason: Cancelled}, nil, OutcomeDenied, "Denied"},
		{Answer{Reason: NotMe}, nil, OutcomeNotMe, "Reported as not you"},
		{Answer{Approve: true, Number: "41"}, ErrWrongNumber, OutcomeWrongNumber, "Denied: wrong number"},
		{Answer{Approve: true}, fmt.Errorf("x: %w", ErrExpired), OutcomeExpired, "Expired"},
		{Answer{Reason: NotMe}, errors.New("connection refused"), OutcomeFailed, "Not delivered"},
	} {
		got := OutcomeOf(tc.a, tc.err)
		if got != tc.want || got.Words() != tc.words {
			t.Errorf("OutcomeOf(%+v, %v) = %s %q, want %s %q", tc.a, tc.err, got, got.Words(), tc.want, tc.words)
		}
		if OutcomeOfDecision(got.Decision()).Words() == "Unknown" {
			t.Errorf("%s: its history decision %q has no words", got, got.Decision())
		}
	}
	if OutcomeWrongNumber.Decision() != "denied" {
		t.Error("a wrong number is recorded as denied")
	}
}
