package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/tui/clipboard"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/transfer"
)

// Results of I/O, each returned by one Cmd.
type (
	openedMsg struct {
		v   *vault.Vault
		err error
	}
	// dataMsg carries the vault's contents after a change made here.
	dataMsg struct {
		data    vault.Data
		note    string
		select_ string
		err     error
	}
	// reloadMsg says another process changed the vault, or that it cannot
	// be re-read.
	reloadMsg struct {
		data    vault.Data
		changed bool
		err     error
	}
	copiedMsg struct {
		seq         int
		label       string
		where       string
		next        bool
		text        string
		err         error
		clearsAfter time.Duration
	}
	clearDueMsg struct {
		seq  int
		text string
	}
	clearedMsg struct {
		cleared bool
		err     error
	}
	hotpMsg struct {
		id   string
		code vault.Code
		data vault.Data
		err  error
	}
	// savedMsg answers a save from the add or edit screen.
	savedMsg struct {
		added []vault.Account
		data  vault.Data
		err   error
		v     *vault.Vault // set when the save created the vault
		note  string
	}
	deletedMsg struct {
		acct  vault.Account
		index int
		data  vault.Data
		err   error
	}
	toastMsg struct {
		text string
		err  bool
	}
)

// Requests from screens to the root model.
type (
	closeIntent  struct{}
	unlockIntent struct{ passphrase []byte }
	retryIntent  struct{}
	saveIntent   struct {
		accts []vault.Account
		// passphrase protects a vault created by this save, when there is none yet.
		passphrase []byte
		// merge skips accounts the vault already has (imports) instead of failing.
		merge   bool
		skipped int // entries the import could not use
		// warnings are the import's words about accounts to check; those
		// of accounts this save adds are shown with its result.
		warnings []transfer.Warning
		// ctx, when cancelled (esc while saving), stops the save before it
		// writes any account; nil: the save cannot be cancelled.
		ctx context.Context
	}
	confirmDeleteIntent struct{ acct vault.Account }
	recoverIntent       struct{}
)

// errNeedPassphrase says a new vault needs a passphrase because the keyring does not work.
var errNeedPassphrase = errors.New("no working OS keyring: choose a passphrase for the new vault")

// errSaveCancelled is the outcome of a save cancelled with esc: no account
// was written (the vault may have been created, empty, if the keyring
// answered after all).
var errSaveCancelled = errors.New("cancelled: nothing was saved")

func openVault(o vault.Options) tea.Cmd {
	return func() tea.Msg {
		v, err := vault.Open(o)
		return openedMsg{v: v, err: err}
	}
}

// update runs fn through the vault's Update (lock, re-read, fn, atomic
// write) so that changes made by other processes are never lost.
func update(v *vault.Vault, note, sel string, fn func(*vault.Data) error) tea.Cmd {
	return func() tea.Msg {
		d, err := v.Update(fn)
		return dataMsg{data: d, note: note, select_: sel, err: err}
	}
}

// handle deals with the messages the root model owns: I/O results and
// requests from screens, each concern in its own handler. It reports
// whether msg was one of them.
func (m *Model) handle(msg tea.Msg) (tea.Cmd, bool) {
	for _, h := range []func(tea.Msg) (tea.Cmd, bool){
		m.handleVault, m.handleScreens, m.handleClipboard, m.handleAccounts, m.handleExport, m.handleApprovals, m.handleAside,
	} {
		if cmd, ok := h(msg); ok {
			return cmd, true
		}
	}
	return nil, false
}

// handleVault deals with opening, unlocking and reloading the vault and with
// the data its changes return.
func (m *Model) handleVault(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case openedMsg:
		return m.opened(msg), true
	case retryIntent:
		m.base = newOpeningScreen(m.c)
		return openVault(m.o.VaultOptions), true
	case recoverIntent:
		m.base = newUnlockScreen(m.c, unlockRecovery, "")
		return m.base.(*unlockScreen).focus(), true
	case unlockIntent:
		o := m.o.VaultOptions
		o.Passphrase = msg.passphrase
		return openVault(o), true
	case reloadMsg:
		switch {
		case errors.Is(msg.err, vault.ErrPassphraseChanged):
			// Another Sesame changed the passphrase (and so the vault key).
			m.v = nil
			return m.showUnlock(unlockPassphrase, msg.err), true
		case msg.err != nil:
			m.fail(fmt.Errorf("cannot re-read the vault: %w", msg.err))
		case msg.changed:
			m.setData(msg.data)
			m.say("the vault changed on disk: reloaded")
			if e, ok := m.overlay.(*editScreen); ok {
				e.reloaded(msg.data)
			}
		}
		return m.watchVault(), true
	case dataMsg:
		if msg.err != nil {
			m.fail(msg.err)
			return nil, true
		}
		m.setData(msg.data)
		if msg.select_ != "" {
			m.list.selectID(msg.select_)
		}
		switch {
		case msg.note != "":
			m.say(msg.note)
		case msg.select_ != "" && m.toast.err:
			// The user's change to an account worked: the last error no
			// longer holds. (Background writes, such as the sign-in
			// history, select nothing and leave their errors shown.)
			m.toast = toast{}
		}
		return nil, true
	}
	return nil, false
}

// handleScreens deals with toasts and with screens opening and closing.
func (m *Model) handleScreens(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case toastMsg:
		if msg.err {
			m.toast = toast{text: msg.text, err: true, until: m.c.now.Add(6 * time.Second)}
		} else {
			m.say(msg.text)
		}
		return nil, true
	case closeIntent:
		m.overlay = nil
		return nil, true
	case helpIntent:
		m.help.ShowAll = !m.help.ShowAll
		return nil, true
	}
	return nil, false
}

// handleClipboard deals with copying codes and clearing the clipboard after.
func (m *Model) handleClipboard(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case copyIntent:
		return m.copy(msg.id), true
	case hotpIntent:
		if m.v == nil {
			return nil, true
		}
		v, id := m.v, msg.id
		return func() tea.Msg {
			c, err := v.NextHOTP(id)
			return hotpMsg{id: id, code: c, data: v.Data(), err: err}
		}, true
	case hotpMsg:
		if msg.err != nil {
			m.fail(msg.err)
			return nil, true
		}
		m.setData(msg.data)
		if r := m.list.row(msg.id); r != nil {
			r.hotp = group(msg.code.Value)
		}
		return m.copy(msg.id), true
	case copiedMsg:
		return m.copied(msg), true
	case clearDueMsg:
		if msg.seq != m.copySeq {
			return nil, true // a later copy replaced this code and has its own timer
		}
		m.pendingClear = pendingClear{}
		clip, text := m.clip, msg.text
		return func() tea.Msg {
			ok, err := clip.ClearIf(context.Background(), text)
			return clearedMsg{cleared: ok, err: err}
		}, true
	case clearedMsg:
		switch {
		case msg.cleared:
			m.say("clipboard cleared")
		case msg.err != nil && !errors.Is(msg.err, clipboard.ErrUnreadable):
			m.fail(fmt.Errorf("could not clear the clipboard: %w", msg.err))
		}
		return nil, true
	}
	return nil, false
}

// handleAccounts deals with changes to accounts: pin, move, add, edit,
// rename, delete, undo and the QR code.
func (m *Model) handleAccounts(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case pinIntent:
		r := m.list.row(msg.id)
		if m.v == nil || r == nil {
			return nil, true
		}
		verb := "pinned "
		if r.acct.Pinned {
			verb = "unpinned "
		}
		return update(m.v, verb+r.acct.Label(), msg.id, func(d *vault.Data) error {
			_, err := d.TogglePin(msg.id)
			return err
		}), true
	case moveIntent:
		if m.v == nil {
			return nil, true
		}
		return update(m.v, "", msg.id, func(d *vault.Data) error {
			return d.Move(msg.id, msg.other)
		}), true

	case addIntent:
		s := newAddScreen(m.c)
		s.have = slices.Clone(m.data.Accounts)
		m.overlay = s
		return s.init(), true
	case saveIntent:
		return m.save(msg), true
	case savedMsg:
		return m.saved(msg), true
	case editIntent:
		s := newEditScreen(m.c, msg.acct)
		m.overlay = s
		return s.init(), true
	case renameIntent:
		if m.v == nil {
			return nil, true
		}
		return rename(m.v, msg), true
	case deleteIntent:
		m.overlay = newConfirmScreen(m.c, msg.acct)
		return nil, true
	case confirmDeleteIntent:
		m.overlay = nil
		if m.v == nil {
			return nil, true
		}
		v, id, asked := m.v, msg.acct.ID, msg.acct
		return func() tea.Msg {
			var gone vault.Account
			index := -1
			d, err := v.Update(func(d *vault.Data) error {
				index = slices.IndexFunc(d.Accounts, func(a vault.Account) bool { return a.ID == id })
				var err error
				gone, err = d.Remove(id)
				return err
			})
			if errors.Is(err, vault.ErrNotFound) {
				gone, d = asked, v.Data() // the file as Update just re-read it
			}
			return deletedMsg{acct: gone, index: index, data: d, err: err}
		}, true
	case deletedMsg:
		if errors.Is(msg.err, vault.ErrNotFound) {
			// Another process removed it between the list's last reload and the y.
			m.setData(msg.data)
			m.say(msg.acct.Label() + " was already removed (in another window)")
			return nil, true
		}
		if msg.err != nil {
			m.fail(msg.err)
			return nil, true
		}
		m.undo = &deletedAccount{acct: msg.acct, index: msg.index}
		m.setData(msg.data)
		m.say("deleted " + msg.acct.Label() + " · u undoes")
		return nil, true
	case undoIntent:
		if m.undo == nil || m.v == nil {
			return send(toastMsg{text: "nothing to undo", err: true}), true
		}
		u := *m.undo
		m.undo = nil
		now := m.c.now
		return update(m.v, "restored "+u.acct.Label(), u.acct.ID, func(d *vault.Data) error {
			_, err := d.Restore(u.acct, u.index, now)
			return err
		}), true
	case qrIntent:
		m.overlay = newQRScreen(m.c, msg.acct)
		return nil, true
	}
	return nil, false
}

// setData takes the vault's contents after any read or write.
func (m *Model) setData(d vault.Data) {
	m.data = d
	m.list.setData(d)
	m.approvalsData(d)
}

// opened shows the screen that fits how opening the vault went.
func (m *Model) opened(msg openedMsg) tea.Cmd {
	err := msg.err
	switch {
	case err == nil:
		m.v, m.store, m.base = msg.v, msg.v.Store(), nil
		d := msg.v.Data()
		m.setData(d)
		return tea.Batch(m.watchVault(), m.startApprovals(d))
	case errors.Is(err, vault.ErrBackupOnly):
		// Only the previous version is there: creating a vault would overwrite it.
		m.base = newProblemScreen(m.c, problemOther, err)
		return nil
	case errors.Is(err, vault.ErrNoVault):
		m.base = nil
		m.list.loaded, m.list.noVault = true, true
		return nil
	case errors.Is(err, vault.ErrPassphraseRequired), errors.Is(err, vault.ErrWrongPassphrase):
		return m.showUnlock(unlockPassphrase, err)
	case errors.Is(err, vault.ErrNoRecovery):
		m.base = newProblemScreen(m.c, problemOther, err)
		return nil
	case errors.Is(err, vault.ErrKeyMissing):
		return m.showUnlock(unlockRecovery, err)
	case errors.Is(err, vault.ErrKeyringUnavailable):
		m.base = newProblemScreen(m.c, problemKeyring, err)
		return nil
	}
	m.base = newProblemScreen(m.c, problemOther, err)
	return nil
}

func (m *Model) showUnlock(mode unlockMode, err error) tea.Cmd {
	msg := ""
	if errors.Is(err, vault.ErrWrongPassphrase) {
		msg = "wrong passphrase: try again"
		if u, ok := m.base.(*unlockScreen); !ok || u.attempts == 0 {
			msg = "the passphrase from SESAME_PASSPHRASE or --passphrase-file is wrong: type it here"
		}
	} else if errors.Is(err, vault.ErrPassphraseChanged) {
		msg = "the passphrase was changed by another Sesame: enter the new one"
	}
	if u, ok := m.base.(*unlockScreen); ok {
		u.mode, u.err, u.busy = mode, msg, false
		u.input.Reset()
		return u.focus()
	}
	u := newUnlockScreen(m.c, mode, msg)
	m.base = u
	return u.focus()
}

// watchVault checks the vault file every ReloadEvery for changes made by
// other processes. It answers only when there is news (a change, or a file
// that cannot be read), so that the checks in between, a stat of the file,
// reach no Update and draw nothing. The check ends with the program.
func (m *Model) watchVault() tea.Cmd {
	ctx, v, every := m.o.ctx(), m.v, m.o.ReloadEvery
	return func() tea.Msg {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			d, changed, err := v.Reload()
			if changed || err != nil {
				return reloadMsg{data: d, changed: changed, err: err}
			}
		}
	}
}

// copy puts the selected account's code on the clipboard. When the current
// code has less than 3 seconds left it copies the next one instead and says
// so: by the time it is pasted the current code would have expired, and the
// next one is already shown beside it.
func (m *Model) copy(id string) tea.Cmd {
	r := m.list.row(id)
	if r == nil {
		return nil
	}
	r.refresh(m.c.now)
	if r.err != nil {
		m.fail(r.err)
		return nil
	}
	text, next := r.code, false
	if r.acct.Type == vault.HOTP {
		text = r.hotp
	} else if remaining(m.c.now, r.acct.Period) < 3 {
		text, next = r.next, true
	}
	text = ungroup(text)
	m.copySeq++
	label := r.acct.Issuer
	if label == "" {
		label = r.acct.Name
	}
	seq, clip, after := m.copySeq, m.clip, m.o.ClearAfter
	return func() tea.Msg {
		where, err := clip.Copy(context.Background(), text)
		return copiedMsg{seq: seq, label: label, where: where, next: next, text: text, err: err, clearsAfter: after}
	}
}

func (m *Model) copied(msg copiedMsg) tea.Cmd {
	if msg.err != nil {
		m.fail(fmt.Errorf("could not copy: %w", msg.err))
		return nil
	}
	m.pendingClear = pendingClear{} // the clipboard holds a new code now
	what := "copied " + msg.label + " code"
	if msg.next {
		// No "this one ends in 2s": the toast outlives the code it describes.
		what = "copied the NEXT " + msg.label + " code"
	}
	what += " to " + msg.where
	osc := clipboard.Unreadable(msg.where)
	var cmd tea.Cmd
	switch {
	case msg.clearsAfter <= 0:
	case osc:
		what += " · not cleared: the terminal clipboard can't be read back"
	default:
		what += fmt.Sprintf(" · cleared in %s", msg.clearsAfter.Round(time.Second))
		seq, text := msg.seq, msg.text
		m.pendingClear = pendingClear{text: text, due: m.c.now.Add(msg.clearsAfter)}
		cmd = tea.Tick(msg.clearsAfter, func(time.Time) tea.Msg { return clearDueMsg{seq: seq, text: text} })
	}
	m.toast = toast{text: what, until: m.c.now.Add(6 * time.Second)}
	return cmd
}

// save adds accounts, creating the vault first if there is none. Adding is
// all or nothing: one bad or duplicate account and nothing is written.
func (m *Model) save(msg saveIntent) tea.Cmd {
	now, v, accts := m.c.now, m.v, msg.accts
	o, store := m.o.VaultOptions, m.o.Store
	if len(msg.passphrase) > 0 {
		o.Passphrase, store = msg.passphrase, vault.StorePassphrase
	}
	ctx := msg.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	return func() tea.Msg {
		var created *vault.Vault
		if v == nil {
			var err error
			v, err = vault.Create(o, store)
			if errors.Is(err, vault.ErrPassphraseRequired) {
				return savedMsg{err: errNeedPassphrase}
			}
			if err != nil {
				return savedMsg{err: err}
			}
			created = v
		}
		if ctx.Err() != nil {
			// Cancelled while the keyring was asked: keep the new (empty)
			// vault, so that the next save does not try to create it again.
			return savedMsg{v: created, data: v.Data(), err: errSaveCancelled}
		}
		var added []vault.Account
		dups := 0
		d, err := v.Update(func(d *vault.Data) error {
			if ctx.Err() != nil {
				return errSaveCancelled
			}
			added, dups = nil, 0
			if msg.merge {
				a, skips, err := transfer.Merge(d, accts, now)
				added, dups = a, len(skips)
				return err
			}
			for _, a := range accts {
				p, err := d.Add(a, now)
				if err != nil {
					return err
				}
				added = append(added, *p)
			}
			return nil
		})
		out := savedMsg{data: d, err: err, v: created}
		if err != nil {
			return out
		}
		out.added = added
		switch {
		case len(added) == 0 && dups > 0:
			out.note = "nothing to add: the vault already has " + describe(accts)
		default:
			out.note = "added " + describe(added)
		}
		if dups > 0 && len(added) > 0 {
			out.note += fmt.Sprintf(" (%d already in the vault)", dups)
		}
		if msg.skipped > 0 {
			out.note += fmt.Sprintf("; %d entries could not be used", msg.skipped)
		}
		out.note += warningsNote(msg.warnings, added)
		return out
	}
}

// warningsNote is what the note says of the import's warnings about the
// accounts a save added: the first warning, and how many more there are.
func warningsNote(warnings []transfer.Warning, added []vault.Account) string {
	labels := make(map[string]bool, len(added))
	for _, a := range added {
		labels[a.Label()] = true
	}
	var first string
	n := 0
	for _, w := range warnings {
		if labels[w.Label] {
			if n == 0 {
				first = w.Message
			}
			n++
		}
	}
	switch n {
	case 0:
		return ""
	case 1:
		return "; " + first
	}
	return fmt.Sprintf("; %s (and %d more accounts to check)", first, n-1)
}

// describe names one account, or counts several.
func describe(accts []vault.Account) string {
	if len(accts) == 1 {
		return accts[0].Label()
	}
	return fmt.Sprintf("%d accounts", len(accts))
}

func (m *Model) saved(msg savedMsg) tea.Cmd {
	var cmd tea.Cmd
	if msg.v != nil {
		m.v, m.store = msg.v, msg.v.Store()
		cmd = tea.Batch(m.watchVault(), m.startApprovals(msg.data))
	}
	if msg.err != nil {
		if m.overlay != nil {
			var c tea.Cmd
			m.overlay, c = m.overlay.update(msg)
			return tea.Batch(cmd, c)
		}
		m.fail(msg.err)
		return cmd
	}
	m.overlay = nil
	m.setData(msg.data)
	if len(msg.added) > 0 {
		m.list.selectID(msg.added[0].ID)
	}
	if msg.note != "" {
		m.say(msg.note)
	}
	return cmd
}

// pendingClear is a code on the clipboard that is due to be cleared.
type pendingClear struct {
	text string
	due  time.Time
}
