package tlsconf

import "flag"

// RegisterFlags declares -tls-cert, -tls-key and -tls-ca on fs, filling f: for a
// service when server is set (a CA means mutual TLS), for an agent otherwise.
func RegisterFlags(fs *flag.FlagSet, f *Files, server bool) {
	if server {
		fs.StringVar(&f.Cert, "tls-cert", "", "serve TLS with the certificate in PEM `file` (larsctl tls cert create -server); reloaded on SIGHUP")
		fs.StringVar(&f.Key, "tls-key", "", "the private key of -tls-cert, a PEM `file`")
		fs.StringVar(&f.CA, "tls-ca", "", "mutual TLS: every client must present a certificate signed by the CA in PEM `file`; plaintext clients are refused")
		return
	}
	fs.StringVar(&f.Cert, "tls-cert", "", "present the certificate in PEM `file` as this client's identity (larsctl tls cert create -agent); reloaded on SIGHUP")
	fs.StringVar(&f.Key, "tls-key", "", "the private key of -tls-cert, a PEM `file`")
	fs.StringVar(&f.CA, "tls-ca", "", "speak TLS to the services and verify their certificates with the CA in PEM `file`")
}
