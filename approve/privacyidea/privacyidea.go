// Package privacyidea makes Sesame a poll-only privacyIDEA PUSH token.
//
// An organisation that runs privacyIDEA enrols Sesame like its own
// Authenticator app: the administrator shows the PUSH token's QR code, Sesame
// completes the second enrolment step, and from then on it polls the server for
// sign-in challenges, verifies the server's signature on each, and answers with
// its own signature. Nothing new is installed on the server.
//
// The wire formats follow privacyIDEA's own source, which this package cites
// by file and function:
//   - privacyidea/lib/tokens/pushtoken.py: create_push_token_url (the QR URI),
//     PushTokenClass.update and get_init_detail (second enrolment step),
//     PushTokenClass.api_endpoint (poll GET, answer POST), _build_smartphone_data
//     (the signed challenge), _check_timestamp_in_range (±POLL_TIME_WINDOW = 1
//     minute), strip_key / _build_verify_object (key encodings);
//   - privacyidea/lib/tokens/push_types.py: PushDeclineReason, PushCapability,
//     SERVER_PUSH_CAPABILITIES;
//   - tests/test_api_push.py and tests/test_lib_tokens_push.py, which pin the
//     exact sign strings and the capabilities reference vector;
//   - pi-authenticator lib/model/push_request/*.dart (PushRequest.getResponseData,
//     getResponseSignMsg, PushChoiceRequest.signedData) and lib/utils/rsa_utils.dart
//     (serializeRSAPublicKeyPKCS8, deserializeRSAPublicKeyPKCS1).
package privacyidea

import (
	"errors"
	"net/http"
	"time"
)

// ProviderName is the vault.Pairing.Provider value of privacyIDEA pairings.
const ProviderName = "privacyidea"

// Protocol constants taken from privacyIDEA.
const (
	// KeyBits is the size of the device key, as the Authenticator app makes it
	// (rsa_utils.dart generateRSAKeyPair: 4096, e=65537).
	KeyBits = 4096
	// NoFirebaseToken is what a polling-only app sends as fbtoken
	// (firebase_utils.dart NoFirebaseUtils.NO_FIREBASE_TOKEN).
	NoFirebaseToken = "no_firebase_token"
	// ChallengeLifetime is how long Sesame keeps a challenge open locally.
	// privacyIDEA's default challenge validity is 120 s and the app keeps a
	// request for two minutes (PushRequest.fromMessageData: expirationDate).
	ChallengeLifetime = 120 * time.Second
	// PollInterval is how often Sesame asks the server for challenges while
	// Poll waits; the Authenticator app polls every few seconds.
	PollInterval = 3 * time.Second
	// PollWindow is how long one Poll call keeps polling before it returns
	// with nothing, so callers can notice pausing and shutdown.
	PollWindow = 30 * time.Second
)

// Limits on what is read from the wire or a QR code.
const (
	maxURILength      = 8 << 10
	maxBodyBytes      = 1 << 20
	maxChallenges     = 64
	maxFieldLength    = 2048 // question, title, url, serial, nonce
	maxChoices        = 32
	maxChoiceLength   = 64
	maxServerKeyBits  = 16384
	minKeyBits        = 1024 // test keys; real servers use 4096
	maxErrorMessage   = 300
	maxCapabilityJSON = 4096
)

// Options are what the device side hands to Pair and New.
type Options struct {
	// HTTPClient sends the requests; a client with a 30 s timeout when nil.
	HTTPClient *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// AllowInsecureTLS is asked, with the server's origin, when an enrolment
	// URI says sslverify=0. Only a true answer (the user confirmed) turns
	// certificate verification off for that server; nil or false refuses.
	AllowInsecureTLS func(server string) bool
}

// Errors of this package. They wrap the approve package's shared errors where
// one fits, so callers can test either.
var (
	ErrNotEnrollURI     = errors.New("not a privacyIDEA push enrolment link (otpauth://pipush/... or pia://pipush/...)")
	ErrBadEnrollURI     = errors.New("the privacyIDEA enrolment link is malformed")
	ErrTLSNotConfirmed  = errors.New("the enrolment link asks to skip TLS certificate checks (sslverify=0) and this was not confirmed: ask the administrator for a link with sslverify=1, or confirm when asked")
	ErrUntrustedCert    = errors.New("the server's TLS certificate is not trusted")
	ErrBadResponse      = errors.New("the privacyIDEA server sent a response Sesame cannot read")
	ErrPollRejected     = errors.New("the privacyIDEA server rejected this device's poll: the token may have been deleted, disabled or re-enrolled; pair again")
	ErrPollingDenied    = errors.New("the privacyIDEA server does not allow polling for this token: ask the administrator to set push_allow_polling")
	ErrUnknownRequest   = errors.New("no such open sign-in request for this pairing")
	ErrNotAccepted      = errors.New("the privacyIDEA server did not accept the answer: the request may have expired or been answered elsewhere")
	ErrBadChoice        = errors.New("the chosen option is not one of the request's options")
	ErrBadPairing       = errors.New("the privacyIDEA pairing in the vault is incomplete or damaged: pair again")
	ErrUnsupportedReply = errors.New("unsupported answer for a privacyIDEA request")
)
