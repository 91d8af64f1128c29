package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sesame-auth/sesame/vault"
)

// approvalState is the sign-in approvals' part of the root model.
type approvalState struct{}

func (a approvalState) status(*Styles) string { return "" }

func (m *Model) approvalsData(vault.Data) {}

func (m *Model) startApprovals(vault.Data) tea.Cmd { return nil }

func (m *Model) handleApprovals(tea.Msg) (tea.Cmd, bool) { return nil, false }
