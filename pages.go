package ssogate

import (
	"html/template"
	"net/http"
)

// writePage renders one of ssogate's own small pages with headers that keep
// it from being framed, sniffed or made to load anything. There is no
// form-action directive: browsers apply it to the redirects that follow a
// form too, and the email form's login and the sign-out button's identity
// provider logout redirect to WorkOS. The forms' targets are fixed paths of
// this site, and the templates escape everything they show.
func writePage(w http.ResponseWriter, status int, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	t.Execute(w, data)
}

const pageStyle = `<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2433}
main{max-width:28rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px #0002}
h1{font-size:1.25rem;margin:0 0 .75rem}a,button{color:#fff;background:#3b5bdb;border:0;border-radius:6px;padding:.6rem 1rem;font:inherit;text-decoration:none;display:inline-block;cursor:pointer}
input{font:inherit;padding:.55rem;border:1px solid #c5cad3;border-radius:6px;width:100%;box-sizing:border-box;margin:.5rem 0 1rem}
a.secondary{color:#3b5bdb;background:none;text-decoration:underline;padding:.6rem .25rem}
a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #1d2433;outline-offset:2px}</style>`

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>` + pageStyle + `</head>
<body><main><h1>{{.Title}}</h1><p>{{.Message}}</p>
<p>{{if .RetryURL}}<a href="{{.RetryURL}}">{{.RetryText}}</a> {{end}}<a class="secondary" href="{{.HomeURL}}">Back to the home page</a></p></main></body></html>
`))

var forbiddenPage = template.Must(template.New("forbidden").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Forbidden</title>` + pageStyle + `</head>
<body><main><h1>No access</h1><p>You are signed in as <strong>{{.Who}}</strong>. {{.Message}}</p>
<p>If you need it, ask your administrator, or sign in with another account.</p>
<form method="post" action="{{.Logout}}"><button type="submit">Sign out</button> <a class="secondary" href="{{.Home}}">Back to the home page</a></form></main></body></html>
`))

var logoutPage = template.Must(template.New("logout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign out</title>` + pageStyle + `</head>
<body><main><h1>Sign out?</h1><form method="post" action="{{.Action}}"><button type="submit" autofocus>Sign out</button> <a class="secondary" href="{{.Home}}">Stay signed in</a></form></main></body></html>
`))

var logoutPendingPage = template.Must(template.New("logout-pending").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Signed out on this device</title>` + pageStyle + `</head>
<body><main><h1>Signed out on this device</h1>
<p>This browser is signed out. The app could not yet tell its other servers, and keeps trying: until they know, a copy of this session taken from this device may still work there.</p>
<p>If you think someone copied your session, tell your administrator.</p>
<p><a href="{{.Next}}">Continue</a></p></main></body></html>
`))

var emailPage = template.Must(template.New("email").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in</title>` + pageStyle + `</head>
<body><main><h1>Sign in with single sign-on</h1>
{{if .Problem}}<p role="alert" id="problem">{{.Problem}}</p>{{end}}
<form method="get" action="{{.Action}}">
<label for="email">Work email</label>
<input id="email" name="email" type="email" autocomplete="email" required autofocus placeholder="jane@company.com"{{if .Problem}} aria-invalid="true" aria-describedby="problem"{{end}}>
{{if .ReturnTo}}<input type="hidden" name="return_to" value="{{.ReturnTo}}">{{end}}
<button type="submit">Continue</button> <a class="secondary" href="{{.Home}}">Back to the home page</a></form></main></body></html>
`))

var confirmPage = template.Must(template.New("confirm").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Continue signing in?</title>` + pageStyle + `</head>
<body><main><h1>Continue signing in with {{.Name}}?</h1>
<p>{{if .Who}}You are signed in as <strong>{{.Who}}</strong>. {{end}}Another site sent you here to sign in. Continue only if you meant to.</p>
<form method="get" action="{{.Action}}">{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}
<button type="submit">Continue</button> <a class="secondary" href="{{.Home}}">Back to the home page</a></form></main></body></html>
`))

var chooserPage = template.Must(template.New("chooser").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in</title>` + pageStyle + `</head>
<body><main><h1>Choose how to sign in</h1>
{{if .Warn}}<p>{{if .Who}}You are signed in as <strong>{{.Who}}</strong>. {{end}}Another site sent you here to sign in. Continue only if you meant to.</p>{{end}}
<ul>{{range .Choices}}<li><a href="{{.URL}}">{{.Name}}</a></li>{{end}}</ul>
<p>{{if .OtherEmail}}<a class="secondary" href="{{.OtherEmail}}">Use another email</a> {{end}}<a class="secondary" href="{{.Home}}">Back to the home page</a></p></main></body></html>
`))
