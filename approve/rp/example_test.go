package rp_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sesame-auth/sesame/approve/rp"
)

// A relying party starts a sign-in, shows the number, and lets the user in
// only when the server reports it approved.
func Example() {
	ctx := context.Background()
	c, err := rp.New("https://auth.example.com", "the-relying-party-api-key", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := c.Start(ctx, rp.SignIn{User: "alice", Application: "Wiki", IP: "192.0.2.7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("type %s in Sesame\n", s.Number)
	for time.Now().Before(s.Expires) {
		st, err := c.Wait(ctx, s.ID, 25*time.Second)
		if err != nil {
			fmt.Println(err)
			return
		}
		if st.Status != rp.StatusPending {
			fmt.Println("signed in:", st.Status == rp.StatusApproved)
			return
		}
	}
	c.Cancel(ctx, s.ID) // gave up: withdraw it from the user's Sesame
}
