package ssogate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// Callback completes a sign-in: it checks the state against the flow's
// cookie, exchanges the code for the user's profile, holds the profile to
// what the login was started for, runs [Config].OnLogin, writes a brand-new
// session and redirects (303) to the return_to path.
func (m *Middleware) Callback(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r = m.withRequestID(r)
	if m.obs.CallbackStart != nil {
		r = r.WithContext(m.obs.CallbackStart(r.Context()))
	}
	var info CallbackInfo
	m.callback(w, r, &info)
	m.health.record(&info, m.now())
	m.auditCallback(r, &info)
	if m.obs.CallbackDone != nil {
		info.Duration = time.Since(start)
		m.obs.CallbackDone(r.Context(), info)
	}
}

// callback is Callback without the observers; it fills in info.
func (m *Middleware) callback(w http.ResponseWriter, r *http.Request, info *CallbackInfo) {
	noStore(w)
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		m.callbackFailed(w, r, info, &HTTPError{Status: http.StatusMethodNotAllowed, Message: "The sign-in callback takes GET only.", Reason: ReasonBadRequest})
		return
	}
	target, err := m.completeLogin(w, r, info)
	if err != nil {
		m.callbackFailed(w, r, info, err)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	info.SignedIn, info.Status = !info.Restarted, http.StatusSeeOther
}

// callbackFailed answers a refused callback and completes its info.
func (m *Middleware) callbackFailed(w http.ResponseWriter, r *http.Request, info *CallbackInfo, err *HTTPError) {
	m.fail(w, r, err)
	info.Status, info.Reason, info.Err = err.Status, cmp.Or(err.Reason, ReasonRefusedByApp), err.Err
	if info.WorkOSCode == "" {
		var apiErr *workos.APIError
		if errors.As(err.Err, &apiErr) {
			info.WorkOSCode = workOSCode(apiErr.Code)
		}
	}
}

// completeLogin decides the callback's outcome and returns where to send the
// browser; Callback only responds. It fills in info as it learns.
func (m *Middleware) completeLogin(w http.ResponseWriter, r *http.Request, info *CallbackInfo) (string, *HTTPError) {
	q := callbackQuery(r)
	// Every state the callback names is spent before anything else is
	// checked: TakeState deletes the flow's cookie whatever the outcome, so
	// a state can never be used twice, even after a malformed callback.
	var (
		st       *loginState
		stateErr error
	)
	states := q["state"]
	for i, s := range states[:min(len(states), maxStateCookies)] {
		if s == "" || len(s) > maxStateLen || slices.Contains(states[:i], s) {
			continue
		}
		got, err := m.sessions.TakeState(w, r, s)
		if i == 0 {
			st, stateErr = got, err
		}
	}
	if err := onlyOnce(q, "code", "state", "error", "error_description"); err != nil {
		return "", err
	}
	code, state := q.Get("code"), q.Get("state")
	errCode, errDesc := q.Get("error"), q.Get("error_description")
	if len(code) > maxCallbackCodeLen || len(state) > maxStateLen || len(errCode) > 100 || len(errDesc) > 1000 {
		return "", badRequest("The sign-in response is malformed.")
	}

	if state != "" {
		if err := stateErr; err != nil && errCode == "" {
			if errors.Is(err, ErrStateMismatch) {
				return "", &HTTPError{Status: http.StatusBadRequest, Message: "The sign-in could not be verified. Please sign in again.", RetryURL: m.cfg.LoginPath, Err: err, Reason: ReasonStateMismatch}
			}
			return "", &HTTPError{Status: http.StatusBadRequest, Message: "Your sign-in expired or was started in another browser. Please sign in again.", RetryURL: m.cfg.LoginPath, Err: err, Reason: ReasonStateMissing}
		}
	}
	if st != nil {
		info.Provider, info.StepUp = st.Provider, st.ForceLogin
		if !st.Unverified {
			info.OrganizationID, info.ConnectionID = st.OrganizationID, st.ConnectionID
		}
	}
	retry := m.retryURL(st)

	if errCode != "" {
		// WorkOS sent the browser back with an error. The description is
		// attacker-reachable text: it is shown escaped, and only as text.
		status := http.StatusBadRequest
		if errCode == "access_denied" {
			status = http.StatusForbidden
		}
		msg := "Sign-in failed"
		// Only a flow this browser started earns the description: anyone
		// can link to the callback with an error_description of their
		// choosing ("call support at ..."), to be shown on this site.
		if d := strings.TrimSpace(errDesc); st != nil && d != "" && !hasControl(d) {
			msg += ": " + d
		} else {
			msg += "."
		}
		if st != nil {
			// Only a flow this browser started earns a code: anyone can
			// send the browser here with an error of their choosing.
			info.WorkOSCode = workOSCode(errCode)
		}
		return "", &HTTPError{Status: status, Message: msg, RetryURL: retry, Err: fmt.Errorf("ssogate: workos error %q", sanitizeForLog(errCode)), Reason: ReasonIdPError}
	}
	if code == "" {
		return "", &HTTPError{Status: http.StatusBadRequest, Message: "The sign-in response has no code.", RetryURL: retry, Reason: ReasonNoCode}
	}
	if st == nil {
		return m.idpInitiated(w, r, code, info)
	}

	if err := m.spendState(r, st); err != nil {
		return "", m.exchangeError(r.Context(), err, retry)
	}
	ctx, cancel := context.WithTimeout(r.Context(), m.cfg.ExchangeTimeout)
	defer cancel()
	pt, err := m.provider.ExchangeCode(withWorkOS(ctx, m.obs), code, st.Verifier)
	m.exchanged(r, err)
	if err != nil {
		return "", m.exchangeError(ctx, err, retry)
	}
	p := &pt.Profile
	if err := revocable(p); err != nil {
		return "", &HTTPError{Status: http.StatusBadGateway, Message: "The sign-in service returned an incomplete profile.", RetryURL: retry, Err: err, Reason: ReasonWorkOSFailed}
	}
	info.ProfileID, info.OrganizationID, info.ConnectionID, info.ConnectionType = p.ID, p.OrganizationID, p.ConnectionID, p.ConnectionType
	info.email = p.Email
	if err := checkIntent(st, p); err != nil {
		m.log.Warn("ssogate: sign-in rejected: profile does not match the login's intent",
			"profile_id", p.ID, "organization_id", p.OrganizationID, "connection_id", p.ConnectionID,
			"want_organization_id", st.OrganizationID, "want_connection_id", st.ConnectionID, "want_provider", string(st.Provider))
		return "", &HTTPError{Status: http.StatusForbidden, Message: "This account does not belong to the organization you signed in to.", RetryURL: retry, Err: err, Reason: ReasonWrongTenant}
	}
	// A revocation made while the login was in progress (the user
	// offboarded, the connection deactivated) must not be outlived by a
	// session issued after it from a code obtained before it.
	switch err := m.revocations.checkSignIn(p, st.CreatedAt); {
	case errors.Is(err, ErrSessionRevoked):
		m.log.Warn("ssogate: sign-in rejected: revoked while it was in progress",
			"profile_id", p.ID, "organization_id", p.OrganizationID, "connection_id", p.ConnectionID)
		return "", &HTTPError{Status: http.StatusForbidden, Message: "Your access was revoked while you were signing in, so you were not signed in. Sign in again; if that fails too, ask your administrator.", RetryURL: retry, Err: err, Reason: ReasonRevoked}
	case err != nil:
		return "", &HTTPError{Status: http.StatusServiceUnavailable, Message: "Sign-in is unavailable right now. Please try again in a minute.", RetryURL: retry, Err: err, Reason: ReasonUnavailable}
	}
	if m.cfg.OnLogin != nil {
		if err := m.cfg.OnLogin(ctx, p); err != nil {
			var herr *HTTPError
			if errors.As(err, &herr) {
				return "", herr
			}
			return "", &HTTPError{Status: http.StatusForbidden, Message: "Your account may not use this application.", Err: err, Reason: ReasonRefusedByApp}
		}
	}
	if _, err := m.sessions.Save(w, r, p, st.ForceLogin); err != nil {
		msg := "Your session could not be saved."
		if errors.Is(err, ErrSessionTooLarge) {
			msg = "Your profile is too large to keep in a session cookie."
		}
		return "", &HTTPError{Status: http.StatusInternalServerError, Message: msg, Err: err, Reason: ReasonSessionNotSaved}
	}
	return st.ReturnTo, nil
}

// revocable checks that every id of p that a session is revoked by (its
// profile, connection and, if any, organization) is one that [Revoke] and
// the [Backplane] take: a session that cannot be revoked must not be
// issued. The profile and connection ids are required.
func revocable(p *Profile) error {
	revs := []Revocation{RevokeUser(p.ID), RevokeConnection(p.ConnectionID)}
	if p.OrganizationID != "" {
		revs = append(revs, RevokeOrganization(p.OrganizationID))
	}
	for _, r := range revs {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("ssogate: profile refused: %w", err)
		}
	}
	return nil
}

// errIntentMismatch is the cause of a rejected sign-in whose profile is not
// of the organization, connection or provider the login was started for.
var errIntentMismatch = errors.New("ssogate: profile does not match the login's intent")

// checkIntent holds the profile to the selector the login started with, so
// that an administrator of one organization's identity provider cannot mint
// sessions for users of another organization.
func checkIntent(st *loginState, p *Profile) error {
	switch {
	case st.ConnectionID != "" && p.ConnectionID != st.ConnectionID,
		st.OrganizationID != "" && p.OrganizationID != st.OrganizationID,
		st.Provider != "" && string(p.ConnectionType) != string(st.Provider):
		return errIntentMismatch
	}
	return nil
}

// spendState records that st buys a code exchange, within this replica's
// budget of exchanges. A state can buy one exchange per replica: a client
// that ignores Set-Cookie and sends the state cookie again gets
// [ErrStateSpent], without a WorkOS call. st is nil for a login that the
// identity provider started, which only spends from the budget.
//
// Within the replica's budget, each client has its own share of failing
// exchanges (see [clientBudgets]): the exchange takes a token of r's
// client, which [Middleware.exchanged] gives back if WorkOS took the code.
func (m *Middleware) spendState(r *http.Request, st *loginState) error {
	now := m.now()
	if st != nil && m.spent.spent(st.State, now) {
		return ErrStateSpent
	}
	if !m.exchangeClients.take(m.clientIP(r), now.UnixNano()) {
		return errClientHeldBack
	}
	if !m.exchanges.allow(now.UnixNano()) {
		m.exchangeClients.giveBack(m.clientIP(r), now.UnixNano())
		// Once a minute, not once per refused sign-in.
		if last := m.budgetLogged.Load(); now.UnixNano()-last >= int64(budgetLogInterval) && m.budgetLogged.CompareAndSwap(last, now.UnixNano()) {
			m.log.Warn("ssogate: sign-ins refused: MaxExchangesPerMinute reached on this replica", "max_exchanges_per_minute", m.cfg.MaxExchangesPerMinute)
		}
		return ErrTooManySignIns
	}
	if st == nil {
		return nil
	}
	return m.spent.spend(st.State, st.CreatedAt.Add(m.sessions.stateLifetime), now)
}

// errClientHeldBack is the cause of a sign-in refused because its client's
// exchanges kept failing.
var errClientHeldBack = fmt.Errorf("%w: this client's exchanges keep failing", ErrTooManySignIns)

// exchanged gives r's client its exchange token back unless WorkOS
// refused the code as one it never issued or already took (err matching
// [.ErrInvalidGrant]): only the client that sends made-up or replayed
// codes runs out.
func (m *Middleware) exchanged(r *http.Request, err error) {
	if !errors.Is(err, workos.ErrInvalidGrant) {
		m.exchangeClients.giveBack(m.clientIP(r), m.now().UnixNano())
	}
}

// exchangeError turns a failed code exchange into a response.
func (m *Middleware) exchangeError(ctx context.Context, err error, retry string) *HTTPError {
	switch {
	case errors.Is(err, ErrStateSpent):
		return &HTTPError{Status: http.StatusBadRequest, Message: "This sign-in has expired or was already used. Please sign in again.", RetryURL: retry, Err: err, Reason: ReasonStateSpent}
	case errors.Is(err, errClientHeldBack):
		return &HTTPError{Status: http.StatusTooManyRequests, Message: "Too many failed sign-ins from your network. Please try again in a minute.", RetryURL: retry, Err: err, Reason: ReasonTooManySignIns}
	case errors.Is(err, ErrTooManySignIns):
		return &HTTPError{Status: http.StatusServiceUnavailable, Message: "Too many sign-ins right now. Please try again in a minute.", RetryURL: retry, Err: err, Reason: ReasonTooManySignIns}
	case errors.Is(err, workos.ErrInvalidGrant):
		return &HTTPError{Status: http.StatusBadRequest, Message: "This sign-in has expired or was already used. Please sign in again.", RetryURL: retry, Err: err, Reason: ReasonExchangeFailed}
	case errors.Is(err, workos.ErrRateLimited):
		return &HTTPError{Status: http.StatusServiceUnavailable, Message: "Too many sign-ins right now. Please try again in a minute.", RetryURL: retry, Err: err, Reason: ReasonTooManySignIns}
	case errors.Is(err, workos.ErrInvalidClient), errors.Is(err, workos.ErrUnauthorized):
		return &HTTPError{Status: http.StatusInternalServerError, Message: "Sign-in is misconfigured on this site.", Err: err, Reason: ReasonMisconfigured}
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return &HTTPError{Status: http.StatusGatewayTimeout, Message: "The sign-in service did not answer in time. Please try again.", RetryURL: retry, Err: err, Reason: ReasonWorkOSTimeout}
	}
	return &HTTPError{Status: http.StatusBadGateway, Message: "The sign-in service is unavailable. Please try again.", RetryURL: retry, Err: err, Reason: ReasonWorkOSFailed}
}

// idpInitiated handles a callback with a code and no state of ours.
func (m *Middleware) idpInitiated(w http.ResponseWriter, r *http.Request, code string, info *CallbackInfo) (string, *HTTPError) {
	if m.cfg.IdPInitiated != IdPInitiatedRestart {
		return "", &HTTPError{Status: http.StatusBadRequest, Message: "Sign-in must start from this site. Please sign in again.", RetryURL: m.cfg.LoginPath, Err: errors.New("ssogate: identity-provider-initiated login refused"), Reason: ReasonIdPInitiated}
	}
	if err := m.spendState(r, nil); err != nil {
		return "", m.exchangeError(r.Context(), err, m.cfg.LoginPath)
	}
	ctx, cancel := context.WithTimeout(r.Context(), m.cfg.ExchangeTimeout)
	defer cancel()
	pt, err := m.provider.ExchangeCode(withWorkOS(ctx, m.obs), code, "")
	m.exchanged(r, err)
	if err != nil {
		return "", m.exchangeError(ctx, err, m.cfg.LoginPath)
	}
	if !validPrefixedID(pt.Profile.ConnectionID, "conn_") {
		return "", &HTTPError{Status: http.StatusBadGateway, Message: "The sign-in service returned an incomplete profile.", Err: errors.New("ssogate: profile without a valid connection_id"), Reason: ReasonWorkOSFailed}
	}
	// The profile is discarded: only the connection is trusted enough to
	// start a normal, state-checked login through it.
	info.Restarted = true
	info.ConnectionID, info.OrganizationID, info.ConnectionType = pt.Profile.ConnectionID, pt.Profile.OrganizationID, pt.Profile.ConnectionType
	return m.startLogin(w, r, loginRequest{
		intent:   loginIntent{ConnectionID: pt.Profile.ConnectionID},
		returnTo: m.cfg.AfterLoginPath,
	})
}

// retryURL returns the login URL that starts the same login again.
func (m *Middleware) retryURL(st *loginState) string {
	if st == nil {
		return m.cfg.LoginPath
	}
	v := url.Values{}
	switch {
	case st.OrganizationID != "":
		v.Set("organization", st.OrganizationID)
	case st.ConnectionID != "":
		v.Set("connection", st.ConnectionID)
	case st.Provider != "":
		v.Set("provider", string(st.Provider))
	}
	if st.ReturnTo != "" && st.ReturnTo != m.cfg.AfterLoginPath {
		v.Set("return_to", st.ReturnTo)
	}
	if len(v) == 0 {
		return m.cfg.LoginPath
	}
	return m.cfg.LoginPath + "?" + v.Encode()
}
