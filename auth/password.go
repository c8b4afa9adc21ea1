package auth

import (
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// DefaultCost is the bcrypt cost of new password hashes.
const DefaultCost = 12

// Password length limits. bcrypt reads at most 72 bytes; longer
// passwords are refused rather than silently cut.
const (
	MinPasswordLen = 10 // characters
	MaxPasswordLen = 72 // bytes
)

// CheckPassword reports whether pw is acceptable as a new password.
func CheckPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return errors.New("the password is not valid UTF-8")
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("the password is too short: use at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("the password is too long: bcrypt uses at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// HashPassword checks pw and returns its bcrypt hash with cost (0:
// DefaultCost).
func HashPassword(pw string, cost int) (string, error) {
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	if cost == 0 {
		cost = DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hashing the password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when a user has no hash or does not
// exist, so that a failed sign-in takes as long either way.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("målbild-no-such-user"), DefaultCost)
	return h
})

// verify reports whether pw matches hash; an empty hash never matches but
// costs the same time.
func verify(hash, pw string) bool {
	if hash == "" || len(pw) > MaxPasswordLen {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw[:min(len(pw), MaxPasswordLen)]))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
