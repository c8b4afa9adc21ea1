package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// parsePrefix reads an IP address (a single-address prefix) or a CIDR.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return p, errors.New("not an IP address or CIDR")
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, errors.New("not an IP address or CIDR")
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// fromProxy reports whether r came straight from a trusted proxy.
func (s *settings) fromProxy(r *http.Request) bool {
	ip, ok := remoteIP(r.RemoteAddr)
	return ok && s.trusted(ip)
}

func (s *settings) trusted(ip netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func remoteIP(remoteAddr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}

// ClientIP is the address of the client: the request's peer, or — when
// the peer is a trusted proxy — the last address in X-Forwarded-For that
// is not one of the proxies.
func (a *Authenticator) ClientIP(r *http.Request) string {
	set := a.cur()
	ip, ok := remoteIP(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !set.trusted(ip) {
		return ip.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		h = h.Unmap()
		if !set.trusted(h) {
			return h.String()
		}
	}
	return ip.String()
}

// Identify returns who is behind r, or nil for an anonymous request. The
// trusted header counts only on requests from a trusted proxy; otherwise
// the session cookie decides. A session whose user was removed, or whose
// password changed since, no longer counts.
func (a *Authenticator) Identify(r *http.Request) *Identity {
	set := a.cur()
	if set.trustedHeader != "" && set.fromProxy(r) {
		if name := strings.ToLower(strings.TrimSpace(r.Header.Get(set.trustedHeader))); name != "" {
			if CheckName(name) != nil {
				a.opts.Logger.Warn("auth: ignoring a malformed user name in the trusted header", "header", set.trustedHeader)
			} else {
				return a.headerIdentity(set, name)
			}
		}
	}
	c, err := r.Cookie(set.sessionCookie())
	if err != nil {
		return nil
	}
	now := a.opts.Now()
	readOnly := r.Method == http.MethodGet || r.Method == http.MethodHead
	ss, err := a.sessions.get(r.Context(), c.Value, now, set.sessionTTL, readOnly)
	if err != nil {
		a.opts.Logger.Warn("auth: session not checked; treating the request as anonymous", "err", err)
		return nil
	}
	if ss == nil {
		return nil
	}
	if ss.ext != nil {
		return a.extIdentity(ss)
	}
	u, ok := a.user(ss.user)
	if !ok || passwordMark(u.PasswordHash) != ss.hash {
		// In memory the session goes now. A shared store is left alone:
		// this replica's users file may be the one behind (a deployment
		// under way), and the reload that sees a user removed or a
		// password changed revokes the sessions on every replica anyway.
		if m, inMemory := a.sessions.(memSessions); inMemory {
			m.s.delete(ss.id)
		}
		return nil
	}
	id := identityOf(set, u, "session")
	id.csrf, id.sessionID = ss.csrf, ss.id
	return id
}

func (a *Authenticator) headerIdentity(set *settings, name string) *Identity {
	u, ok := a.user(name)
	if !ok {
		u = User{Name: name, Role: set.headerRole}
	}
	id := identityOf(set, u, "header")
	mac := hmac.New(sha256.New, a.csrfKey())
	mac.Write([]byte("header\x00" + name))
	id.csrf = base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	return id
}

func identityOf(set *settings, u User, via string) *Identity {
	return &Identity{Name: u.Name, Display: u.Display(), Role: u.Role, Owners: slices.Clone(u.Owners), Via: via, allEditors: set.allEditors}
}

// Authorizer is the dashboards' hook: ok when a signed-in user (any role)
// is behind r.
func (a *Authenticator) Authorizer(r *http.Request) (user string, ok bool) {
	id := a.Identify(r)
	if !id.Is(Viewer) {
		return "", false
	}
	return id.Name, true
}
