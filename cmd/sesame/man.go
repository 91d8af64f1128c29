//go:build !lean

package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/cmd/internal/manpage"
	"github.com/sesame-auth/sesame/cmd/internal/version"
)

// manCmd writes the manual pages from the command tree, so that they say
// exactly what --help says. Release packages ship them.
func (a *app) manCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "man --dir DIR",
		Short: "Write the manual pages, one per command, into a folder",
		Long: `Write Sesame's manual pages in troff, one per command (sesame.1,
sesame-add.1, ...), into DIR. Release archives and packages ship them; to
read one without installing it: man -l DIR/sesame.1

The date on the pages is SOURCE_DATE_EPOCH when it is set, so that release
builds are reproducible, and today otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usagef("man needs --dir DIR: the folder to write the pages into")
			}
			when, err := manDate(a.getenv("SOURCE_DATE_EPOCH"), a.now)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("cannot make the folder for the manual pages: %w", err)
			}
			header := manpage.Header{
				Title:   "SESAME",
				Section: "1",
				Date:    when,
				Source:  "Sesame " + version.String(),
				Manual:  "Sesame Manual",
			}
			if err := manpage.WriteTree(cmd.Root(), header, dir); err != nil {
				return fmt.Errorf("writing the manual pages in %s: %w", dir, err)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "the folder to write the pages into (made if missing)")
	return c
}

// manDate is the date printed on the pages: SOURCE_DATE_EPOCH (seconds since
// 1970, the reproducible-builds convention) when set, else now.
func manDate(epoch string, now func() time.Time) (time.Time, error) {
	if epoch == "" {
		return now().UTC(), nil
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not %q", epoch)
	}
	return time.Unix(sec, 0).UTC(), nil
}
