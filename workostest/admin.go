package workostest

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AdminPrefix is where [WithAdmin] serves the admin API. WorkOS's API has
// no path that starts with an underscore, so it cannot collide with one.
const AdminPrefix = "/_emulator/"

// The admin API lets test code in any language drive a server it does not
// run in-process, as the ssogate command's emulator. Every call needs
// "Authorization: Bearer <API key>", like the WorkOS API, and is refused
// from a web page of another origin; bodies are JSON in the seed file's
// format (see [ParseSeed]), checked as a seed file is; errors answer
// {"message": "$.json.path: problem"}. A fault must name a route of the
// emulator, a state one of WorkOS's, and auto sign-in a user. Admin calls
// are not in the request log and take no faults.
//
//	POST   /_emulator/organizations         add an organization
//	POST   /_emulator/connections           add a connection
//	PATCH  /_emulator/connections/{id}      {"state": "inactive"}: change its state (sends an event)
//	DELETE /_emulator/connections/{id}      delete it (sends an event)
//	POST   /_emulator/users                 add a user
//	POST   /_emulator/directories           add a directory
//	DELETE /_emulator/directories/{id}      delete it with its users (sends dsync.deleted)
//	POST   /_emulator/directory_users       add a directory user; answers its id
//	PATCH  /_emulator/directory_users/{id}  {"state": "inactive"}: change its state (sends dsync.user.updated)
//	DELETE /_emulator/directory_users/{id}  remove it from its directory (sends dsync.user.deleted)
//	PATCH  /_emulator/organization_domains/{domain}  {"state": "verified"}: decide a domain's
//	                                         verification, verified or failed (sends its event)
//	POST   /_emulator/faults                {"route": "POST /sso/token", "status": 429, "body": "",
//	                                         "retry_after": "2", "delay": "1s", "times": 1, "process": false}
//	POST   /_emulator/clock                 {"advance": "10m"}: move the server clock
//	PUT    /_emulator/auto-sign-in          {"email": "alice@acme.com"}, or "" for the sign-in page
//	GET    /_emulator/requests              the request log, oldest first
func (s *Server) adminRoutes() {
	admin := func(pattern string, h func(r *http.Request) (int, any, error)) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			// Admin calls come from test code, never from a web page: a
			// page of another origin could otherwise drive the emulator
			// with its well-known API key.
			if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
				writeJSON(w, http.StatusForbidden, map[string]string{"message": "admin calls from another origin are refused"})
				return
			}
			if !s.validAPIKey(r) {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			status, v, err := h(r)
			if err != nil {
				writeJSON(w, status, map[string]string{"message": err.Error()})
				return
			}
			if v == nil {
				w.WriteHeader(status)
				return
			}
			writeJSON(w, status, v)
		})
	}
	p := AdminPrefix
	admin("POST "+p+"organizations", func(r *http.Request) (int, any, error) {
		var o seedOrganization
		if err := decodeBody(r, &o); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := o.check("$"); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := s.AddOrganization(Organization(o)); err != nil {
			return http.StatusConflict, nil, &SeedError{"$.id", err.Error()}
		}
		return http.StatusCreated, o, nil
	})
	admin("POST "+p+"connections", func(r *http.Request) (int, any, error) {
		var c seedConnection
		if err := decodeBody(r, &c); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := c.check("$", s.hasOrganization); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := s.AddConnection(c.connection()); err != nil {
			return http.StatusConflict, nil, &SeedError{"$.id", err.Error()}
		}
		// The stored connection, as WorkOS would answer it: created_at and
		// the defaults filled in.
		s.mu.Lock()
		out := connectionWithDomainsOf(s.conns[c.ID])
		s.mu.Unlock()
		return http.StatusCreated, out, nil
	})
	admin("PATCH "+p+"connections/{id}", func(r *http.Request) (int, any, error) {
		var body struct {
			State string `json:"state"`
		}
		if err := decodeBody(r, &body); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := checkState("$.state", body.State, false); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := s.SetConnectionState(r.PathValue("id"), body.State); err != nil {
			return http.StatusNotFound, nil, err
		}
		return http.StatusNoContent, nil, nil
	})
	admin("DELETE "+p+"connections/{id}", func(r *http.Request) (int, any, error) {
		if err := s.DeleteConnection(r.PathValue("id")); err != nil {
			return http.StatusNotFound, nil, err
		}
		return http.StatusNoContent, nil, nil
	})
	admin("POST "+p+"users", func(r *http.Request) (int, any, error) {
		var u seedUser
		if err := decodeBody(r, &u); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := u.check("$", s.hasConnection); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := s.AddUser(User(u)); err != nil {
			return http.StatusConflict, nil, &SeedError{"$.email", err.Error()}
		}
		return http.StatusCreated, u, nil
	})
	admin("POST "+p+"directories", func(r *http.Request) (int, any, error) {
		var d seedDirectory
		if err := decodeBody(r, &d); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := d.check("$", s.hasOrganization); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := s.AddDirectory(Directory(d)); err != nil {
			return http.StatusConflict, nil, &SeedError{"$.id", err.Error()}
		}
		return http.StatusCreated, d, nil
	})
	admin("DELETE "+p+"directories/{id}", func(r *http.Request) (int, any, error) {
		if err := s.DeleteDirectory(r.PathValue("id")); err != nil {
			return http.StatusNotFound, nil, err
		}
		return http.StatusNoContent, nil, nil
	})
	admin("POST "+p+"directory_users", func(r *http.Request) (int, any, error) {
		var u seedDirectoryUser
		if err := decodeBody(r, &u); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := u.check("$", s.hasDirectory); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if err := s.AddDirectoryUser(DirectoryUser(u)); err != nil {
			return http.StatusConflict, nil, &SeedError{"$.email", err.Error()}
		}
		return http.StatusCreated, map[string]string{"id": DirectoryUserID(u.DirectoryID, u.Email)}, nil
	})
	admin("PATCH "+p+"directory_users/{id}", func(r *http.Request) (int, any, error) {
		var body struct {
			State string `json:"state"`
		}
		if err := decodeBody(r, &body); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if !slices.Contains(directoryUserStates, body.State) {
			return http.StatusBadRequest, nil, &SeedError{"$.state", "must be one of " + strings.Join(directoryUserStates, ", ")}
		}
		if err := s.SetDirectoryUserState(r.PathValue("id"), body.State); err != nil {
			return http.StatusNotFound, nil, err
		}
		return http.StatusNoContent, nil, nil
	})
	admin("DELETE "+p+"directory_users/{id}", func(r *http.Request) (int, any, error) {
		if err := s.DeleteDirectoryUser(r.PathValue("id")); err != nil {
			return http.StatusNotFound, nil, err
		}
		return http.StatusNoContent, nil, nil
	})
	admin("PATCH "+p+"organization_domains/{domain}", func(r *http.Request) (int, any, error) {
		var body struct {
			State string `json:"state"`
		}
		if err := decodeBody(r, &body); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if body.State != "verified" && body.State != "failed" {
			return http.StatusBadRequest, nil, &SeedError{"$.state", "must be verified or failed"}
		}
		if err := s.SetDomainState(r.PathValue("domain"), body.State); err != nil {
			return http.StatusNotFound, nil, err
		}
		return http.StatusNoContent, nil, nil
	})
	admin("POST "+p+"faults", func(r *http.Request) (int, any, error) {
		var f struct {
			Route      string `json:"route"`
			Status     int    `json:"status"`
			Body       string `json:"body"`
			RetryAfter string `json:"retry_after"`
			Delay      string `json:"delay"`
			Times      int    `json:"times"`
			Process    bool   `json:"process"`
		}
		if err := decodeBody(r, &f); err != nil {
			return http.StatusBadRequest, nil, err
		}
		var delay time.Duration
		if f.Delay != "" {
			d, err := time.ParseDuration(f.Delay)
			if err != nil || d < 0 {
				return http.StatusBadRequest, nil, &SeedError{"$.delay", `want a duration such as "1s"`}
			}
			delay = d
		}
		switch {
		case f.Route == "":
			return http.StatusBadRequest, nil, &SeedError{"$.route", `missing, such as "POST /sso/token"`}
		case !s.isRoute(f.Route):
			return http.StatusBadRequest, nil, &SeedError{"$.route", strconv.Quote(f.Route) + " is no route of the emulator, such as " + strings.Join(s.patterns, ", ")}
		case f.Status != 0 && (f.Status < 100 || f.Status > 599):
			return http.StatusBadRequest, nil, &SeedError{"$.status", "must be an HTTP status"}
		}
		s.Fail(f.Route, Fault{Times: f.Times, Status: f.Status, Body: f.Body, RetryAfter: f.RetryAfter, Delay: delay, Process: f.Process})
		return http.StatusCreated, f, nil
	})
	admin("POST "+p+"clock", func(r *http.Request) (int, any, error) {
		var body struct {
			Advance string `json:"advance"`
		}
		if err := decodeBody(r, &body); err != nil {
			return http.StatusBadRequest, nil, err
		}
		d, err := time.ParseDuration(body.Advance)
		if err != nil || d < 0 {
			return http.StatusBadRequest, nil, &SeedError{"$.advance", `want a duration such as "10m"`}
		}
		s.Advance(d)
		return http.StatusOK, map[string]string{"now": formatTime(s.Now())}, nil
	})
	admin("PUT "+p+"auto-sign-in", func(r *http.Request) (int, any, error) {
		var body struct {
			Email string `json:"email"`
		}
		if err := decodeBody(r, &body); err != nil {
			return http.StatusBadRequest, nil, err
		}
		if body.Email != "" && !s.hasUser(body.Email) {
			return http.StatusBadRequest, nil, &SeedError{"$.email", "no user " + strconv.Quote(body.Email) + " (\"\" turns auto sign-in off)"}
		}
		s.SetAutoSignIn(body.Email)
		return http.StatusNoContent, nil, nil
	})
	admin("GET "+p+"requests", func(r *http.Request) (int, any, error) {
		type entry struct {
			Method    string              `json:"method"`
			Path      string              `json:"path"`
			Query     map[string][]string `json:"query"`
			Route     string              `json:"route"`
			Status    int                 `json:"status"`
			RequestID string              `json:"request_id"`
			Time      string              `json:"time"`
		}
		out := []entry{}
		for _, q := range s.Requests() {
			out = append(out, entry{q.Method, q.Path, q.Query, q.Route, q.Status, q.RequestID, formatTime(q.Time)})
		}
		return http.StatusOK, out, nil
	})
	s.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no such admin call: see the workostest package documentation"})
	})
}

// hasOrganization, hasConnection, hasDirectory and hasUser report whether the server
// holds such an object.
func (s *Server) hasOrganization(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.orgs[id] != nil
}

func (s *Server) hasConnection(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id] != nil
}

func (s *Server) hasDirectory(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirs[id] != nil
}

func (s *Server) hasUser(email string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.users, func(u User) bool { return strings.EqualFold(u.Email, email) })
}

// isRoute reports whether route names a route of the server: one of its
// patterns, or a method and path that one of them serves.
func (s *Server) isRoute(route string) bool {
	if slices.Contains(s.patterns, route) {
		return true
	}
	method, path, ok := strings.Cut(route, " ")
	if !ok || !strings.HasPrefix(path, "/") || strings.HasPrefix(path, AdminPrefix) {
		return false
	}
	req, err := http.NewRequest(method, path, nil)
	if err != nil {
		return false
	}
	_, pattern := s.mux.Handler(req)
	return slices.Contains(s.patterns, pattern)
}

// decodeBody reads a JSON body strictly.
func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return errors.New("the body could not be read")
	}
	if err := strictDecode(data, v); err != nil {
		return errors.New(seedError("body", err).Error())
	}
	return nil
}
