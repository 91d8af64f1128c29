package server

import "testing"

// The demo pages are parsed when first served; a page that does not parse
// fails here rather than in front of a user.
func TestPageTemplatesParse(t *testing.T) {
	for _, name := range []string{"demo.html", "pair.html"} {
		if pageTemplates().Lookup(name) == nil {
			t.Errorf("no template %s", name)
		}
	}
}
