module github.com/ssogate/ssogate

go 1.25
