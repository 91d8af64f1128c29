package transfer

import (
	"fmt"
	"testing"

	"github.com/sesame-auth/sesame/vault"
)

func manyAccounts(n int) []vault.Account {
	base := sample()[:5]
	out := make([]vault.Account, 0, n)
	for i := range n {
		a := base[i%len(base)]
		a.Name = fmt.Sprintf("%s-%d", a.Name, i)
		out = append(out, a)
	}
	return out
}

// BenchmarkImportURIList imports a list of 1000 otpauth URIs.
func BenchmarkImportURIList(b *testing.B) {
	data := ExportURIs(manyAccounts(1000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		res, err := Import(ImportOptions{}, Input{Data: data})
		if err != nil || len(res.Accounts) != 1000 {
			b.Fatal(len(res.Accounts), err)
		}
	}
}

// BenchmarkImportGoogleMigration imports 100 accounts from 10 migration links.
func BenchmarkImportGoogleMigration(b *testing.B) {
	uris, _, err := ExportGoogle(manyAccounts(100))
	if err != nil {
		b.Fatal(err)
	}
	var inputs []Input
	for _, u := range uris {
		inputs = append(inputs, Input{Data: []byte(u)})
	}
	for b.Loop() {
		if _, err := Import(ImportOptions{}, inputs...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExportGoogle batches 100 accounts into migration links.
func BenchmarkExportGoogle(b *testing.B) {
	accounts := manyAccounts(100)
	for b.Loop() {
		if _, _, err := ExportGoogle(accounts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportAegisEncrypted opens an encrypted Aegis vault with Aegis'
// default scrypt cost (N=32768, r=8): the cost of one password attempt.
func BenchmarkImportAegisEncrypted(b *testing.B) {
	data, err := ExportAegis(manyAccounts(100), []byte("pw"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Import(ImportOptions{Password: password("pw")}, Input{Data: data}); err != nil {
			b.Fatal(err)
		}
	}
}
