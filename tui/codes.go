package tui

import (
	"slices"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

// row is one account as the main screen shows it. Codes are computed when
// the row is drawn or copied, and cached per period: refresh recomputes them
// only when the account's period turns over, so 1,000 accounts cost the
// HMACs of the rows on screen, once a period.
type row struct {
	acct       vault.Account
	search     string // lower-case "issuer name", for the filter
	step       int64  // the period the cached codes belong to; -1 when none
	code, next string // grouped for reading
	err        error  // why no code can be computed
	hotp       string // the last HOTP code generated this session
}

// newRows builds rows for the accounts in display order: pinned first, then
// the vault's order.
func newRows(accts []vault.Account) []row {
	rows := make([]row, 0, len(accts))
	for _, pinned := range []bool{true, false} {
		for _, a := range accts {
			if a.Pinned == pinned {
				rows = append(rows, row{acct: a, search: strings.ToLower(a.Issuer + " " + a.Name), step: -1})
			}
		}
	}
	return rows
}

// carry keeps what the old rows knew (cached codes, generated HOTP codes) for
// accounts that did not change.
func carry(rows, old []row) {
	byID := make(map[string]*row, len(old))
	for i := range old {
		byID[old[i].acct.ID] = &old[i]
	}
	for i := range rows {
		o := byID[rows[i].acct.ID]
		if o == nil || !sameCodes(&o.acct, &rows[i].acct) {
			continue
		}
		rows[i].step, rows[i].code, rows[i].next, rows[i].err = o.step, o.code, o.next, o.err
		if rows[i].acct.Counter == o.acct.Counter {
			rows[i].hotp = o.hotp
		}
	}
}

// sameCodes reports whether a and b produce the same codes.
func sameCodes(a, b *vault.Account) bool {
	return a.Type == b.Type && a.Algorithm == b.Algorithm && a.Digits == b.Digits && a.Period == b.Period &&
		string(a.Secret) == string(b.Secret)
}

// stepOf is the period number of t for a period of p seconds.
func stepOf(t time.Time, p int) int64 {
	s := t.Unix()
	step := s / int64(p)
	if s < 0 && s%int64(p) != 0 {
		step--
	}
	return step
}

// refresh brings the row's codes up to time t. It returns whether anything changed.
func (r *row) refresh(t time.Time) bool {
	if r.acct.Type == vault.HOTP || r.acct.Period <= 0 {
		return false
	}
	step := stepOf(t, r.acct.Period)
	if step == r.step {
		return false
	}
	p := time.Duration(r.acct.Period) * time.Second
	if step == r.step+1 && r.next != "" {
		r.code = r.next
	} else {
		c, err := r.acct.Code(t)
		r.code, r.err = group(c.Value), err
	}
	n, err := r.acct.Code(t.Add(p))
	r.next = group(n.Value)
	if r.err == nil {
		r.err = err
	}
	r.step = step
	return true
}

// remaining is how many whole seconds the row's current code has left at t (1..period).
func remaining(t time.Time, period int) int {
	if period <= 0 {
		return 0
	}
	end := (stepOf(t, period) + 1) * int64(period)
	return int(end - t.Unix())
}

// group splits a code for reading: 123 456, 1234 5678, 123 4567. Steam's
// five letters stay together.
func group(code string) string {
	switch len(code) {
	case 6:
		return code[:3] + " " + code[3:]
	case 7:
		return code[:3] + " " + code[3:]
	case 8:
		return code[:4] + " " + code[4:]
	}
	return code
}

// ungroup removes the spaces group added, giving what is copied.
func ungroup(code string) string { return strings.ReplaceAll(code, " ", "") }

// mask replaces every character of a grouped code with a dot, keeping the grouping.
func mask(code string, digits int) string {
	if code == "" {
		code = group(strings.Repeat("0", max(digits, 5)))
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' {
			return ' '
		}
		return '•'
	}, code)
}

// fuzzyScore matches query (lower case) as a subsequence of s (lower case)
// and scores it: consecutive letters and letters that start a word score
// more, and so does a match in the first word (the issuer). It returns -1
// when query is not a subsequence.
func fuzzyScore(s, query string) int {
	if query == "" {
		return 0
	}
	if i := strings.Index(s, query); i >= 0 {
		// A plain substring beats any scattered match; earlier is better.
		bonus := 0
		if i == 0 || s[i-1] == ' ' {
			bonus = 50
		}
		return 1000 + bonus - i
	}
	score, qi, prev := 0, 0, -2
	q, rs := []rune(query), []rune(s)
	for i, r := range rs {
		if qi == len(q) {
			break
		}
		if r != q[qi] {
			continue
		}
		score++
		if i == prev+1 {
			score += 5
		}
		if i == 0 || strings.ContainsRune(" .@-_", rs[i-1]) {
			score += 3
		}
		prev = i
		qi++
	}
	if qi < len(q) {
		return -1
	}
	return score
}

// filterRows returns the indexes of rows matching query, best first; ties
// keep the display order.
func filterRows(rows []row, query string) []int {
	query = strings.ToLower(strings.TrimSpace(query))
	idx := make([]int, 0, len(rows))
	scores := make([]int, len(rows))
	for i := range rows {
		scores[i] = fuzzyScore(rows[i].search, query)
		if scores[i] >= 0 {
			idx = append(idx, i)
		}
	}
	if query != "" {
		slices.SortStableFunc(idx, func(a, b int) int { return scores[b] - scores[a] })
	}
	return idx
}
