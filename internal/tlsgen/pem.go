package tlsgen

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// PEM block types.
const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY" // PKCS #8
)

// encodeCert returns der as a PEM certificate.
func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der})
}

// encodeKey returns key as a PEM PKCS #8 private key.
func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// decodeCert parses the first PEM certificate of data.
func decodeCert(data []byte) (*x509.Certificate, error) {
	b := firstBlock(data, pemCertificate)
	if b == nil {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(b.Bytes)
}

// decodeKey parses the first PEM private key of data: PKCS #8 or SEC 1, ECDSA.
func decodeKey(data []byte) (*ecdsa.PrivateKey, error) {
	if b := firstBlock(data, pemPrivateKey); b != nil {
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key is a %T, not ECDSA", k)
		}
		return ek, nil
	}
	if b := firstBlock(data, "EC PRIVATE KEY"); b != nil {
		return x509.ParseECPrivateKey(b.Bytes)
	}
	return nil, errors.New("no PEM PRIVATE KEY or EC PRIVATE KEY block")
}

// firstBlock returns data's first PEM block of type typ, nil if none.
func firstBlock(data []byte, typ string) *pem.Block {
	for {
		b, rest := pem.Decode(data)
		if b == nil {
			return nil
		}
		if b.Type == typ {
			return b
		}
		data = rest
	}
}
