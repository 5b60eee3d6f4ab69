package workos

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDecodeAPIError(t *testing.T) {
	long := strings.Repeat("é", 300)
	many := make([]string, 30)
	for i := range many {
		many[i] = fmt.Sprintf(`{"field":"f%d","code":"c"}`, i)
	}
	tests := []struct {
		name    string
		header  http.Header
		body    string
		want    APIError
		wantLen int // the length of Message, when it is cut
	}{
		{name: "code wins over error", body: `{"code":"c1","error":"e1","message":"m","error_description":"d"}`, want: APIError{Code: "c1", Message: "m"}},
		{name: "error_description when no message", body: `{"error":"e1","error_description":"d"}`, want: APIError{Code: "e1", Message: "d"}},
		{name: "non-string fields ignored", body: `{"code":7,"message":{"a":1},"errors":"nope"}`, want: APIError{}},
		{name: "error as an object", body: `{"error":{"code":"x","message":"y"}}`, want: APIError{}},
		{
			name: "odd field errors skipped", body: `{"errors":[1,null,{},"",{"field":"f"},["x"],"text"]}`,
			want: APIError{Errors: []FieldError{{Field: "f"}, {Message: "text"}}},
		},
		{name: "JSON array body", body: `["a","b"]`, want: APIError{}},
		{name: "JSON number body", body: `42`, want: APIError{}},
		{name: "JSON null body", body: `null`, want: APIError{}},
		{name: "whitespace around a bare string", body: " \n\"Ratelimited\"\n", want: APIError{Message: "Ratelimited"}},
		{name: "invalid UTF-8", body: "{\"message\":\"a\xffb\"}", want: APIError{Message: "a b"}},
		{name: "control and line separator characters", body: `{"message":"a\r\nFAKE LOG LINE\u2028\u202eb"}`, want: APIError{Message: "a  FAKE LOG LINE  b"}},
		{name: "long message cut on a rune boundary", body: `{"message":"` + long + `"}`, wantLen: maxMessageLen},
		{name: "field errors capped", body: `{"errors":[` + strings.Join(many, ",") + `]}`},
		{
			name: "request id and Retry-After", header: http.Header{"X-Request-Id": {"req_1"}, "Retry-After": {"5"}},
			want: APIError{RequestID: "req_1", RetryAfter: 5 * time.Second},
		},
		{
			name:   "long request id cut",
			header: http.Header{"X-Request-Id": {strings.Repeat("r", 500)}},
			want:   APIError{RequestID: strings.Repeat("r", maxRequestIDLen-3) + "..."},
		},
		{name: "malformed Retry-After ignored", header: http.Header{"Retry-After": {"soon"}}, want: APIError{}},
		{name: "deep nesting", body: strings.Repeat(`{"a":`, 20000) + strings.Repeat("}", 20000), want: APIError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := decodeAPIError("GET", "/x", 400, h, []byte(tt.body))
			if tt.wantLen > 0 {
				if len(got.Message) > tt.wantLen || !utf8.ValidString(got.Message) || !strings.HasSuffix(got.Message, "...") {
					t.Errorf("message: got %d bytes %q, want at most %d valid bytes ending in ...", len(got.Message), got.Message, tt.wantLen)
				}
				return
			}
			if tt.name == "field errors capped" {
				if len(got.Errors) != maxFieldErrors {
					t.Errorf("field errors: got %d, want %d", len(got.Errors), maxFieldErrors)
				}
				return
			}
			want := tt.want
			want.StatusCode, want.Method, want.Path = 400, "GET", "/x"
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
		})
	}
}

func TestDecodeAPIErrorHugeBody(t *testing.T) {
	body := []byte(`{"message":"` + strings.Repeat("a", 10<<20) + `"}`)
	got := decodeAPIError("GET", "/x", 500, http.Header{}, body)
	if got.Message != "" || !errors.Is(got, ErrServer) {
		t.Errorf("got %+v, want an empty message matching ErrServer", got)
	}
	if n := len(got.Error()); n > 200 {
		t.Errorf("Error(): got %d bytes, want at most 200", n)
	}
}

func TestAPIErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  APIError
		want string
	}{
		{"bare", APIError{StatusCode: 502, Method: "GET", Path: "/connections"}, "workos: GET /connections: 502 Bad Gateway"},
		{
			"everything",
			APIError{StatusCode: 400, Method: "POST", Path: "/sso/token", Code: "invalid_grant", Message: "expired", RequestID: "req_1"},
			"workos: POST /sso/token: 400 Bad Request: invalid_grant: expired (request id req_1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

const fuzzSecret = "sk_live_FUZZSECRET42"

func FuzzDecodeAPIError(f *testing.F) {
	f.Add(400, []byte(`{"message":"m","code":"c","errors":[{"field":"f","code":"c"},"s"]}`), "req_1", "5")
	f.Add(400, []byte(`{"error":"invalid_grant","error_description":"`+fuzzSecret+`"}`), fuzzSecret, "")
	f.Add(429, []byte(`"Ratelimited"`), "", "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(502, []byte("<html><body>Bad Gateway</body></html>"), "", "")
	f.Add(500, []byte{}, "", "-1")
	f.Add(422, []byte("{\"message\":\"\xff\xfe\u2028"+fuzzSecret+"\"}"), "\x00", "99999999999999999999")
	f.Fuzz(func(t *testing.T, status int, body []byte, requestID, retryAfter string) {
		h := http.Header{}
		h.Set("X-Request-ID", requestID)
		h.Set("Retry-After", retryAfter)
		e := buildAPIError("GET", "/connections", status, h, body, time.Unix(1700000000, 0), []string{fuzzSecret})
		msg := e.Error()
		// The fixed parts, a status text, and the capped code, message and id.
		const limit = 80 + maxCodeLen + maxMessageLen + maxRequestIDLen
		if len(msg) > limit {
			t.Errorf("Error() is %d bytes, want at most %d", len(msg), limit)
		}
		if strings.Contains(fmt.Sprintf("%s %+v", msg, *e), fuzzSecret) {
			t.Errorf("error %q holds the secret", msg)
		}
		if e.RetryAfter < 0 {
			t.Errorf("RetryAfter: got %v, want >= 0", e.RetryAfter)
		}
		if len(e.Errors) > maxFieldErrors {
			t.Errorf("field errors: got %d, want at most %d", len(e.Errors), maxFieldErrors)
		}
		decodeAPIError("POST", "/sso/token", status, h, body) // must not panic either
	})
}
