package manpage

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

func tree() *cobra.Command {
	root := &cobra.Command{Use: "tool", Short: "A tool", Long: "A tool that does things.\n\n.starts with a dot, 'quoted' and C:\\path\n\n  tool run --fast   indented: kept as laid out\n  tool stop\nback to filled text.", Run: func(*cobra.Command, []string) {}}
	root.PersistentFlags().String("config", "", "read this `FILE`")
	run := &cobra.Command{Use: "run [flags] NAME", Short: "Run it", Example: "tool run x\n.dot", Run: func(*cobra.Command, []string) {}}
	run.Flags().BoolP("fast", "f", false, "go fast")
	run.Flags().Bool("old", false, "deprecated")
	run.Flags().MarkDeprecated("old", "use --fast")
	hidden := &cobra.Command{Use: "secret", Short: "Hidden", Hidden: true, Run: func(*cobra.Command, []string) {}}
	root.AddCommand(run, hidden)
	return root
}

var header = Header{Title: "TOOL", Section: "1", Date: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), Source: "Tool 1.0", Manual: "Tool Manual"}

func TestWriteTree(t *testing.T) {
	dir := t.TempDir()
	if err := WriteTree(tree(), header, dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "tool-run.1 tool.1" {
		t.Fatalf("pages %v, want tool-run.1 and tool.1 (no page for a hidden command)", names)
	}
	root, _ := os.ReadFile(filepath.Join(dir, "tool.1"))
	run, _ := os.ReadFile(filepath.Join(dir, "tool-run.1"))
	contains(t, "tool.1", root,
		".nh\n.TH \"TOOL\" \"1\" \"Dec 2025\" \"Tool 1.0\" \"Tool Manual\"\n",
		".SH NAME\ntool \\- A tool\n",
		"A tool that does things.\n.PP\n\\&.starts with a dot, 'quoted' and C:\\epath\n.PP\n.nf\n  tool run \\-\\-fast   indented: kept as laid out\n  tool stop\n.fi\nback to filled text.\n",
		"\\fB\\-\\-config\\fP=\"\"\n.RS\nread this `FILE`\n.RE\n",
		".SH SEE ALSO\n\\fBtool-run(1)\\fP\n",
	)
	contains(t, "tool-run.1", run,
		".SH SYNOPSIS\n\\fBtool run [flags] NAME\\fP\n",
		".SH OPTIONS\n\\fB\\-f\\fP, \\fB\\-\\-fast\\fP[=false]\n.RS\ngo fast\n.RE\n",
		".SH OPTIONS INHERITED FROM PARENT COMMANDS\n\\fB\\-\\-config\\fP",
		".SH EXAMPLE\n.nf\ntool run x\n\\&.dot\n.fi\n",
		".SH SEE ALSO\n\\fBtool(1)\\fP\n",
	)
	if strings.Contains(string(run), "old") {
		t.Errorf("tool-run.1 lists a deprecated flag:\n%s", run)
	}

	// The pages are valid troff for man(7): groff reads them without a warning.
	if _, err := exec.LookPath("groff"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("groff is not installed; .ci/run installs man-db, which brings it")
		}
		t.Skip("groff is not installed")
	}
	for _, page := range names {
		out, err := exec.Command("groff", "-ww", "-z", "-man", filepath.Join(dir, page)).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("groff on %s: %v\n%s", page, err, out)
		}
	}
}

// contains reports each wanted piece of troff that page lacks.
func contains(t *testing.T, name string, page []byte, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(string(page), want) {
			t.Errorf("%s lacks %q:\n%s", name, want, page)
		}
	}
}
