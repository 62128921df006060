"""The office's own certificate authority and the hub's certificate (HTTPS on the LAN).

`nowserving init` makes both: devices verify the hub with the CA's certificate (never
the system's CAs), so nobody on the network can pose as the hub. The CA's key signs
hub certificates only; keep it off every device.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from nowserving.system.files import write_private

CA_DAYS = 20 * 365
HUB_DAYS = 5 * 365  # then `nowserving init --certificates` makes a new one with the same CA


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, both PEM."""

    cert: bytes
    key: bytes


def make_ca(office: str) -> Issued:
    """A new CA for `office` (an EC P-256 key; it signs server certificates only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{office[:50]} Nowserving CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))  # PCs' clocks disagree a little
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _pem(key))


def make_server_cert(ca: Issued, names: Sequence[str]) -> Issued:
    """A certificate for the hub under `names` (host names and IP addresses), signed by `ca`."""
    if not names:
        raise ValueError("a server certificate needs at least one name or address")
    ca_cert = x509.load_pem_x509_certificate(ca.cert)
    ca_key = serialization.load_pem_private_key(ca.key, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=HUB_DAYS))
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _pem(key))


@dataclass(frozen=True)
class OfficeTls:
    """Where `write_office_tls` put the files."""

    ca_cert: Path
    ca_key: Path
    hub_cert: Path
    hub_key: Path


def write_office_tls(folder: Path, office: str, names: Sequence[str]) -> OfficeTls:
    """A new CA and hub certificate in `folder`; the CA's, if there is one, is kept."""
    paths = OfficeTls(
        folder / "office-ca.pem", folder / "office-ca.key", folder / "hub.pem", folder / "hub.key"
    )
    if paths.ca_cert.exists() and paths.ca_key.exists():  # devices already trust this CA
        ca = Issued(paths.ca_cert.read_bytes(), paths.ca_key.read_bytes())
    else:
        ca = make_ca(office)
        write_private(paths.ca_key, ca.key.decode())
        paths.ca_cert.write_bytes(ca.cert)
    hub = make_server_cert(ca, names)
    write_private(paths.hub_key, hub.key.decode())
    paths.hub_cert.write_bytes(hub.cert)
    return paths


def fingerprint(pem: bytes) -> str:
    """A certificate's SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` shows it
    (AB:CD:...): what an IT person compares, or gives a device to pin the office CA."""
    digest = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
