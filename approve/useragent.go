package approve

import (
	"strings"
	"unicode/utf8"
)

// maxUserAgentSummary is the longest text UserAgentSummary returns.
const maxUserAgentSummary = 40

// UserAgentSummary says which browser on which system a User-Agent header
// names, e.g. "Chrome on Linux", for a prompt with little room; the full text
// stays available to the user on demand. A text it does not recognise is
// returned as is when short, else cut at 40 characters with "…".
func UserAgentSummary(ua string) string {
	ua = strings.TrimSpace(ua)
	browser := firstMatch(ua, [][2]string{
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
		{"Vivaldi/", "Vivaldi"}, {"Brave/", "Brave"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Version/", "Safari"},
		{"curl/", "curl"}, {"Wget/", "Wget"}, {"python-requests/", "Python"}, {"Go-http-client/", "Go"},
	})
	system := firstMatch(ua, [][2]string{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"}, {"BSD", "BSD"},
	})
	short := utf8.RuneCountInString(ua) <= maxUserAgentSummary
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case short:
		return ua
	case system != "":
		return "a browser on " + system
	}
	r := []rune(ua)
	return strings.TrimSpace(string(r[:maxUserAgentSummary-1])) + "…"
}

func firstMatch(s string, table [][2]string) string {
	for _, m := range table {
		if strings.Contains(s, m[0]) {
			return m[1]
		}
	}
	return ""
}
