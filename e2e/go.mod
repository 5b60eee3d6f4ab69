module github.com/ssogate/ssogate/e2e

go 1.25

require github.com/ssogate/ssogate v0.0.0

replace github.com/ssogate/ssogate => ../
