#!/usr/bin/python3
"""The one-process Python baseline for bench/compare.sh: loads every certificate under the
directories given with python3-cryptography and reads what `etcd-pki scan` shows (subject,
issuer, expiry, SANs), printing one line per certificate. It verifies no signature."""
import os
import sys

from cryptography import x509
from cryptography.x509.oid import ExtensionOID


def main():
    out = []
    for root in sys.argv[1:]:
        for dirpath, _, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    data = f.read()
                try:
                    cert = x509.load_pem_x509_certificate(data)
                except ValueError:
                    continue
                try:
                    sans = cert.extensions.get_extension_for_oid(
                        ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
                    san_text = ",".join(str(v.value) for v in sans)
                except x509.ExtensionNotFound:
                    san_text = ""
                out.append(f"{path}\t{cert.subject.rfc4514_string()}\t{cert.issuer.rfc4514_string()}"
                           f"\t{cert.not_valid_after.isoformat()}\t{san_text}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
