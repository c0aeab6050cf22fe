#!/usr/bin/python3
"""Writes a corpus of etcd-like certificate files for bench/compare.sh.

Usage: gen_corpus.py DIR N [SEED]

N leaf certificates (PEM, one per file) in DIR/hosts/node-NNNN/{server,peer,client,...}.pem,
issued by four CAs written to DIR/cas/ (RSA-2048 and ECDSA P-256 roots, an ECDSA intermediate
under the RSA root, and a second RSA root): a mix of RSA-2048 and
ECDSA P-256 leaves with IP and DNS SANs and etcd's usages; about 5% expired and 5% expiring
within 30 days. Leaf keys come from a small pool (key generation is not what is measured) and
are not written. Uses python3-cryptography (Debian's), one process.
"""
import datetime
import ipaddress
import os
import random
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEM = serialization.Encoding.PEM


def name(cn, org="etcd"):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def ca_cert(subject, key, issuer_name, issuer_key, now, path_len):
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer_name)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=30))
         .not_valid_after(now + datetime.timedelta(days=3650))
         .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                      key_encipherment=False, data_encipherment=False,
                                      key_agreement=False, key_cert_sign=True, crl_sign=True,
                                      encipher_only=False, decipher_only=False), critical=True)
         .add_extension(ski, critical=False))
    if issuer_key is not key:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    os.makedirs(os.path.join(out, "cas"), exist_ok=True)

    rsa_root_key = rsa.generate_private_key(65537, 2048)
    ec_root_key = ec.generate_private_key(ec.SECP256R1())
    rsa_root = ca_cert(name("etcd-ca-rsa"), rsa_root_key, name("etcd-ca-rsa"), rsa_root_key, now, None)
    ec_root = ca_cert(name("etcd-ca-ec"), ec_root_key, name("etcd-ca-ec"), ec_root_key, now, None)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = ca_cert(name("etcd-intermediate"), inter_key, rsa_root.subject, rsa_root_key, now, 0)
    other_key = rsa.generate_private_key(65537, 2048)
    other = ca_cert(name("kube-etcd-ca", "kubernetes"), other_key, name("kube-etcd-ca", "kubernetes"),
                    other_key, now, None)
    issuers = [(rsa_root, rsa_root_key), (ec_root, ec_root_key), (inter, inter_key),
               (other, other_key)]
    for label, cert in [("rsa-ca", rsa_root), ("ec-ca", ec_root), ("intermediate-ca", inter),
                        ("kube-etcd-ca", other)]:
        with open(os.path.join(out, "cas", label + ".pem"), "wb") as f:
            f.write(cert.public_bytes(PEM))

    pool = ([rsa.generate_private_key(65537, 2048) for _ in range(8)] +
            [ec.generate_private_key(ec.SECP256R1()) for _ in range(8)])
    roles = ["server", "peer", "client", "healthcheck-client", "apiserver-etcd-client"]
    for i in range(n):
        node, role = divmod(i, len(roles))
        role = roles[role]
        ca, ca_key = issuers[rng.randrange(len(issuers))]
        key = pool[rng.randrange(len(pool))]
        roll = rng.random()
        if roll < 0.05:
            not_after = now - datetime.timedelta(days=rng.randint(1, 400))
        elif roll < 0.10:
            not_after = now + datetime.timedelta(days=rng.randint(1, 29))
        else:
            not_after = now + datetime.timedelta(days=rng.randint(60, 825))
        net = node // 250
        ips = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address(f"10.{net % 256}.{node % 250}.{1 + node % 200}")]
        sans = [x509.DNSName(f"etcd-{node}.example.internal"), x509.DNSName("localhost")]
        sans += [x509.IPAddress(ip) for ip in ips]
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if "client" in role else \
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        b = (x509.CertificateBuilder()
             .subject_name(name(f"etcd-{role}-{node}"))
             .issuer_name(ca.subject)
             .public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(min(now, not_after) - datetime.timedelta(days=365))
             .not_valid_after(not_after)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                          key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                                          data_encipherment=False, key_agreement=False,
                                          key_cert_sign=False, crl_sign=False,
                                          encipher_only=False, decipher_only=False), critical=True)
             .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                            critical=False))
        if "client" not in role:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = b.sign(ca_key, hashes.SHA256())
        d = os.path.join(out, "hosts", f"node-{node:04d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, role + ".pem"), "wb") as f:
            f.write(cert.public_bytes(PEM))


if __name__ == "__main__":
    main()
