// Package auth decides who may see Målbild's internal pages and who may
// write: users and roles from a users file (bcrypt hashes), single sign-on
// through a trusted header set by a reverse proxy, sessions in cookies
// with CSRF tokens, and rate-limited sign-in.
package auth

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"github.com/malbild/malbild/internal/strictyaml"
)

// Role is what a user may do.
type Role string

const (
	// Viewer sees the internal pages (leadership view, follow-up).
	Viewer Role = "viewer"
	// Editor also writes assessments, comments and manual values for the
	// goals and indicators they own.
	Editor Role = "editor"
	// Admin may do everything: write for every goal and indicator, close
	// and reopen periods, read the audit trail and manage users.
	Admin Role = "admin"
)

// Roles lists the roles from least to most.
var Roles = []Role{Viewer, Editor, Admin}

func (r Role) rank() int { return slices.Index(Roles, r) + 1 }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r includes everything o may do.
func (r Role) AtLeast(o Role) bool { return r.Valid() && r.rank() >= o.rank() }

// User is one entry of the users file.
type User struct {
	// Name is what the user signs in with (and what a trusted header
	// carries): lower-case letters, digits and . _ - @.
	Name        string `yaml:"name"`
	DisplayName string `yaml:"display_name,omitempty"`
	Role        Role   `yaml:"role"`
	// Owners are the owners (committees, departments, roles) the user
	// writes for; they are matched against Goal.Owner and
	// Indicator.Owner, ignoring case.
	Owners []string `yaml:"owners,omitempty,flow"`
	// PasswordHash is a bcrypt hash. Empty: the user can only sign in
	// through the trusted header.
	PasswordHash string `yaml:"password_hash,omitempty"`
	// Line is where the entry starts in the users file.
	Line int `yaml:"-"`
}

// Display is the display name, or the name.
func (u *User) Display() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Name
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,99}$`)

// CheckName reports whether name can be a user name.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("user name %q: use 1–100 lower-case letters, digits and . _ - @, starting with a letter or digit", name)
	}
	return nil
}

// MaxOwnerLen bounds an owner name and a display name.
const MaxOwnerLen = 200

// check validates u apart from its name's uniqueness.
func (u *User) check() []string {
	var ps []string
	if err := CheckName(u.Name); err != nil {
		ps = append(ps, err.Error())
	}
	if !u.Role.Valid() {
		ps = append(ps, fmt.Sprintf("user %s: role %q: want viewer, editor or admin", u.Name, u.Role))
	}
	if len(u.DisplayName) > MaxOwnerLen || strings.ContainsAny(u.DisplayName, "\r\n\t") {
		ps = append(ps, fmt.Sprintf("user %s: display_name must be one line of at most %d bytes", u.Name, MaxOwnerLen))
	}
	for _, o := range u.Owners {
		if strings.TrimSpace(o) == "" || len(o) > MaxOwnerLen || strings.ContainsAny(o, "\r\n\t") {
			ps = append(ps, fmt.Sprintf("user %s: owner %q must be one non-empty line of at most %d bytes", u.Name, o, MaxOwnerLen))
		}
	}
	if u.PasswordHash != "" {
		if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
			ps = append(ps, fmt.Sprintf("user %s: password_hash is not a bcrypt hash (make one with `malbild user passwd %s`)", u.Name, u.Name))
		}
	}
	return ps
}

// Owns reports whether owner (a goal's or indicator's) is among the
// user's owners, ignoring case and surrounding space.
func (u *User) Owns(owner string) bool {
	owner = strings.TrimSpace(owner)
	if owner == "" {
		return false
	}
	for _, o := range u.Owners {
		if strings.EqualFold(strings.TrimSpace(o), owner) {
			return true
		}
	}
	return false
}

// UsersFile is a users file: its users and the YAML tree they came from,
// so that `malbild user` can change entries and keep the file's comments.
type UsersFile struct {
	Path  string
	Users []User
	doc   *yaml.Node // document node
	list  *yaml.Node // the users sequence
}

// usersYAML is the file's shape, for strict key checking.
type usersYAML struct {
	Users []struct {
		Name         string   `yaml:"name"`
		DisplayName  string   `yaml:"display_name"`
		Role         string   `yaml:"role"`
		Owners       []string `yaml:"owners"`
		PasswordHash string   `yaml:"password_hash"`
	} `yaml:"users"`
}

// NewUsersFile is an empty users file to be written at path.
func NewUsersFile(path string) *UsersFile {
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map",
		HeadComment: "Målbild users. Managed with `malbild user add|passwd|list|remove`; see docs/followup.md.\n" +
			"Roles: viewer (internal pages), editor (writes for the owners listed), admin (everything)."}
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	root.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "users"}, list}
	return &UsersFile{Path: path, doc: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}, list: list}
}

// LoadUsers reads and checks the users file at path.
func LoadUsers(path string) (*UsersFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseUsers(path, data)
}

// ParseUsers checks a users file strictly: unknown and duplicate keys,
// unknown roles, malformed names and hashes, and names used twice are
// reported as file:line: message, all together.
func ParseUsers(file string, data []byte) (*UsersFile, error) {
	root, err := strictyaml.Parse(file, data)
	if err != nil {
		return nil, err
	}
	var shape usersYAML
	if err := strictyaml.Decode(file, root, &shape); err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, strictyaml.Errorf(file, root, "want a mapping with a users list")
	}
	list := mapValue(root, "users")
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, strictyaml.Errorf(file, root, "want a users list (users: [...])")
	}
	if list.Style&yaml.FlowStyle != 0 {
		list.Style = 0 // written back in block style
	}
	uf := &UsersFile{Path: file, doc: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}, list: list}
	var errs strictyaml.Errors
	seen := map[string]int{}
	for i, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			errs = append(errs, strictyaml.Errorf(file, item, "user entry: want a mapping with name, role and password_hash"))
			continue
		}
		s := shape.Users[i]
		u := User{Name: s.Name, DisplayName: s.DisplayName, Role: Role(s.Role), Owners: s.Owners, PasswordHash: s.PasswordHash, Line: item.Line}
		if u.Name == "" {
			errs = append(errs, strictyaml.Errorf(file, item, "user entry without a name"))
			continue
		}
		for _, p := range u.check() {
			errs = append(errs, strictyaml.Errorf(file, item, "%s", p))
		}
		if line, dup := seen[u.Name]; dup {
			errs = append(errs, strictyaml.Errorf(file, item, "user %s is already defined at line %d", u.Name, line))
			continue
		}
		seen[u.Name] = item.Line
		uf.Users = append(uf.Users, u)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return uf, nil
}

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// User returns the user called name, or nil.
func (uf *UsersFile) User(name string) *User {
	for i := range uf.Users {
		if uf.Users[i].Name == name {
			return &uf.Users[i]
		}
	}
	return nil
}

func (uf *UsersFile) index(name string) int {
	for i := range uf.Users {
		if uf.Users[i].Name == name {
			return i
		}
	}
	return -1
}

// ErrNoUser is returned for a user name that is not in the file.
var ErrNoUser = errors.New("no such user")

// Add adds a new user.
func (uf *UsersFile) Add(u User) error {
	if uf.User(u.Name) != nil {
		return fmt.Errorf("user %s already exists", u.Name)
	}
	if ps := u.check(); len(ps) > 0 {
		return errors.New(strings.Join(ps, "; "))
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	uf.list.Content = append(uf.list.Content, n)
	u.Line = 0
	uf.Users = append(uf.Users, u)
	writeUser(n, &u)
	return nil
}

// Update replaces the role, display name and owners of an existing user
// (keeping the password), after checking them.
func (uf *UsersFile) Update(u User) error {
	i := uf.index(u.Name)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNoUser, u.Name)
	}
	u.PasswordHash = uf.Users[i].PasswordHash
	if ps := u.check(); len(ps) > 0 {
		return errors.New(strings.Join(ps, "; "))
	}
	u.Line = uf.Users[i].Line
	uf.Users[i] = u
	writeUser(uf.list.Content[i], &u)
	return nil
}

// SetPasswordHash sets an existing user's bcrypt hash.
func (uf *UsersFile) SetPasswordHash(name, hash string) error {
	i := uf.index(name)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNoUser, name)
	}
	u := uf.Users[i]
	u.PasswordHash = hash
	if ps := u.check(); len(ps) > 0 {
		return errors.New(strings.Join(ps, "; "))
	}
	uf.Users[i] = u
	writeUser(uf.list.Content[i], &u)
	return nil
}

// Remove removes a user.
func (uf *UsersFile) Remove(name string) error {
	i := uf.index(name)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNoUser, name)
	}
	uf.Users = slices.Delete(uf.Users, i, i+1)
	uf.list.Content = slices.Delete(uf.list.Content, i, i+1)
	return nil
}

// writeUser sets the keys of mapping n from u, keeping the comments of
// keys that stay and the order of the known keys.
func writeUser(n *yaml.Node, u *User) {
	old := map[string][2]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		old[n.Content[i].Value] = [2]*yaml.Node{n.Content[i], n.Content[i+1]}
	}
	n.Content = nil
	set := func(key string, v *yaml.Node) {
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
		if o, ok := old[key]; ok {
			k.HeadComment, k.LineComment, k.FootComment = o[0].HeadComment, o[0].LineComment, o[0].FootComment
			v.LineComment = o[1].LineComment
		}
		n.Content = append(n.Content, k, v)
	}
	str := func(s string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
	}
	set("name", str(u.Name))
	if u.DisplayName != "" {
		set("display_name", str(u.DisplayName))
	}
	set("role", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(u.Role)})
	if len(u.Owners) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		for _, o := range u.Owners {
			seq.Content = append(seq.Content, str(o))
		}
		set("owners", seq)
	}
	if u.PasswordHash != "" {
		set("password_hash", str(u.PasswordHash))
	}
}

// Bytes is the file as YAML, comments kept.
func (uf *UsersFile) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(uf.doc); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", uf.Path, err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Save writes the file atomically: a temporary file in the same
// directory, synced, then renamed over the old one. A new file is
// readable by its owner only; an existing file keeps its mode. The result
// is parsed again before it replaces anything.
func (uf *UsersFile) Save() error {
	data, err := uf.Bytes()
	if err != nil {
		return err
	}
	if _, err := ParseUsers(uf.Path, data); err != nil {
		return fmt.Errorf("refusing to write an invalid users file: %w", err)
	}
	return writeAtomic(uf.Path, data)
}

func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
