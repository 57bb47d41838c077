"""A private certificate authority for mTLS between the gateway and the services (`flask --app wsgi pki ...`).

Layout of the folder (`<instance>/pki/` by default): `ca.pem` + `ca.key` (the CA), `<name>.pem` + `<name>.key`
per service. Keys are written with mode 0600. Service certificates carry both serverAuth and clientAuth, so one
certificate serves a service's TLS port and identifies it when it calls another service. Each names its role
(`app`, `identity`, `files`, `gateway`) in the subject's OU: the discovery registry lets a certificate register
only the service of its role.
Keys are ECDSA P-256: every TLS stack in the system (OpenSSL for Python/gunicorn, Go for Caddy) speaks it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
CERT_DAYS = 397  # the longest lifetime browsers accept for a server certificate
WARN_DAYS = 30
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DNS_NAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


class PkiError(Exception):
    """Something the operator must fix (missing CA, bad name); the message says what."""


@dataclass(frozen=True)
class CertInfo:
    name: str
    subject: str
    dns: tuple[str, ...]
    ips: tuple[str, ...]
    not_after: dt.datetime
    days_left: float
    is_ca: bool

    def expiring(self, warn_days: int = WARN_DAYS) -> bool:
        return self.days_left < warn_days

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "subject": self.subject,
            "not_after": self.not_after.isoformat(),
            "days_left": int(self.days_left // 1),
            "expired": self.days_left <= 0,
        }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_private(path: Path, data: bytes) -> None:
    """0600 from the first byte (never world-readable, not even between create and chmod)."""
    tmp = path.with_name(f".tmp-{path.name}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _key_usage(signs_certificates: bool) -> x509.KeyUsage:
    """A CA signs certificates and CRLs; a leaf (server and client) only signs its TLS handshakes."""
    return x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


def ca_paths(directory: str | Path) -> tuple[Path, Path]:
    directory = Path(directory)
    return directory / "ca.pem", directory / "ca.key"


def cert_paths(directory: str | Path, name: str) -> tuple[Path, Path]:
    directory = Path(directory)
    return directory / f"{name}.pem", directory / f"{name}.key"


def _make_room(directory: str | Path, replace: bool) -> bool:
    """Prepares the folder for a new CA: False when one exists and is kept; with `replace` it is moved to
    `old/<timestamp>/` (never deleted: certificates it signed stay verifiable by hand)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    cert_path, key_path = ca_paths(directory)
    if cert_path.exists() or key_path.exists():
        if not replace:
            return False
        archive = directory / "old" / _now().strftime("%Y%m%dT%H%M%SZ")
        archive.mkdir(parents=True, exist_ok=True)
        for path in (cert_path, key_path):
            if path.exists():
                shutil.move(str(path), archive / path.name)
    return True


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def import_ca(directory: str | Path, cert_file: str | Path, key_file: str | Path, replace: bool = False) -> Path:
    """An operator's existing root CA (the one their apps trust) becomes this CA: certificates issued from now
    on, and the gateway's (Caddy's internal issuer sits under it), chain to it. Refused with a PkiError when the
    certificate is not a valid CA certificate or the key is not its key; the same CA again is a no-op; another
    CA already here is kept unless `replace`."""
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    except (OSError, ValueError) as exc:
        raise PkiError(f"{cert_file}: not a PEM certificate ({exc})") from None
    try:
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    except TypeError:
        raise PkiError(f"{key_file}: the key is encrypted; decrypt it first (openssl pkey -in ... -out ...)") from None
    except (OSError, ValueError) as exc:
        raise PkiError(f"{key_file}: not a PEM private key ({exc})") from None
    try:
        ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        ca = False
    if not ca:
        raise PkiError(f"{cert_file}: not a CA certificate (basicConstraints CA:TRUE is missing)")
    try:
        if not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign:
            raise PkiError(f"{cert_file}: the CA certificate may not sign certificates (keyUsage keyCertSign)")
    except x509.ExtensionNotFound:
        pass
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise PkiError(f"{key_file}: an RSA or ECDSA key is needed to sign with SHA-256")
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise PkiError(f"{key_file} is not the key of {cert_file} (their public keys differ)")
    if cert.not_valid_after_utc <= _now():
        raise PkiError(f"{cert_file}: the CA certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    cert_path, key_path = ca_paths(directory)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    if cert_path.exists() and cert_path.read_bytes() == pem and key_path.exists():
        return cert_path
    if not _make_room(directory, replace):
        raise PkiError(f"another CA is in {directory}; --replace moves it to old/ and imports this one")
    _write_private(key_path, _key_pem(key))
    _write_public(cert_path, pem)
    return cert_path


def init_ca(
    directory: str | Path, common_name: str = "FestivalsApp private CA", days: int = CA_DAYS, replace: bool = False
) -> tuple[Path, bool]:
    """Create the CA; (path of ca.pem, created). An existing CA is kept unless `replace`, and a replaced
    one is moved to `old/<timestamp>/` (never deleted: certificates it signed stay verifiable by hand)."""
    if not _make_room(directory, replace):
        return ca_paths(directory)[0], False
    cert_path, key_path = ca_paths(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "FestivalsApp"),
        ]
    )
    now = _now()
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        # No path length limit: Caddy's internal issuer puts an intermediate of its own under this root.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, True


def load_ca(directory: str | Path):
    cert_path, key_path = ca_paths(directory)
    if not cert_path.exists() or not key_path.exists():
        raise PkiError(f"no CA in {directory}: run `flask --app wsgi pki init` first")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return cert, key


def check_name(name: str) -> str:
    if not NAME.match(name or ""):
        raise PkiError(f"certificate name {name!r}: lower-case letters, digits, '-' and '_' (at most 63)")
    if name == "ca":
        raise PkiError("'ca' is the CA's own file name")
    return name


def check_dns(names) -> list[str]:
    checked = []
    for name in names:
        lowered = name.strip().lower().rstrip(".")
        if len(lowered) > 253 or not DNS_NAME.match(lowered):
            raise PkiError(f"not a DNS name: {name!r}")
        checked.append(lowered)
    return checked


def check_ips(addresses) -> list:
    try:
        return [ipaddress.ip_address(address.strip()) for address in addresses]
    except ValueError as exc:
        raise PkiError(str(exc)) from None


def issue(
    directory: str | Path,
    name: str,
    dns=(),
    ips=(),
    days: int = CERT_DAYS,
    not_before: dt.datetime | None = None,
    role: str = "",
) -> tuple[Path, Path]:
    """A key and a certificate signed by the CA for `name` (its common name) and `role` (its OU; the name when
    not given), valid for server and client authentication, with the DNS names and IP addresses as subject
    alternative names. Issuing again replaces the service's key and certificate (that is how they are renewed)."""
    check_name(name)
    role = check_name(role or name)
    dns, ips = check_dns(dns), check_ips(ips)
    if days < 1:
        raise PkiError("--days must be at least 1")
    ca_cert, ca_key = load_ca(directory)
    start = not_before or (_now() - dt.timedelta(minutes=5))
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, name),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "FestivalsApp"),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(min(start + dt.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    alt = [x509.DNSName(d) for d in dns] + [x509.IPAddress(i) for i in ips]
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_path, key_path = cert_paths(directory, name)
    _write_private(key_path, _key_pem(key))
    _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def peer_role(peercert: dict | None) -> str | None:
    """The role of a verified peer certificate as `ssl.SSLSocket.getpeercert()` gives it: its OU, or its
    common name for a certificate issued before roles (they were issued per service name)."""
    if not peercert:
        return None
    subject = dict(pair for rdn in peercert.get("subject", ()) for pair in rdn)
    return subject.get("organizationalUnitName") or subject.get("commonName")


# Caddy's discovery host passes the client certificate it verified (base64 DER) in this header, set by Caddy (a
# client's own is replaced); the registry believes it only from a peer whose own certificate is the gateway's.
FORWARDED_CERT_HEADER = "X-Festivals-Client-Cert"


def certificate_role(der: bytes | None, issuer: x509.Certificate | None = None) -> str | None:
    """The role of a certificate (DER), by peer_role's rule (its OU, else its common name). None when there is
    none, or when `issuer` is given and did not sign it or it is not valid now (a forwarded certificate is
    checked again, not only by the proxy that forwarded it)."""
    try:
        cert = x509.load_der_x509_certificate(der or b"")
        if issuer is not None:
            cert.verify_directly_issued_by(issuer)
            if not cert.not_valid_before_utc <= _now() <= cert.not_valid_after_utc:
                return None
    except (ValueError, TypeError, InvalidSignature):
        return None
    names = [*cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    names += cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def describe(path: str | Path, now: dt.datetime | None = None) -> CertInfo:
    """What a certificate file says: subject, alternative names and how long it stays valid."""
    path = Path(path)
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(alt.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in alt.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns, ips = (), ()
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    not_after = cert.not_valid_after_utc
    days_left = (not_after - (now or _now())).total_seconds() / 86400
    return CertInfo(path.stem, cert.subject.rfc4514_string(), dns, ips, not_after, days_left, is_ca)


def list_certificates(directory: str | Path) -> list[CertInfo]:
    """Every certificate in the folder, the CA first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.pem"), key=lambda p: (p.stem != "ca", p.stem))
    return [describe(path) for path in paths]


def expiring(paths, warn_days: int = WARN_DAYS) -> list[CertInfo]:
    """The certificates among `paths` (files or folders of *.pem) that expire within `warn_days` or have
    expired; unreadable files are skipped (the TLS stack that loads them reports those)."""
    found, seen = [], set()
    for path in paths:
        if not path:
            continue
        path = Path(path)
        files = sorted(path.glob("*.pem")) if path.is_dir() else [path]
        for file in files:
            if file.resolve() in seen or not file.is_file():
                continue
            seen.add(file.resolve())
            try:
                info = describe(file)
            except ValueError:
                continue
            if info.expiring(warn_days):
                found.append(info)
    return found


class ExpiryWatch:
    """The certificates a process depends on (its PKI folder, its own certificate, the CA), checked at start
    (a WARNING per certificate close to expiry) and for `/ready` (re-read at most once a minute)."""

    def __init__(self, paths, warn_days: int = WARN_DAYS, interval: float = 60.0):
        self.paths = [p for p in paths if p]
        self.warn_days = warn_days
        self.interval = interval
        self._checked = float("-inf")
        self._report: list[dict] = []

    def report(self) -> list[dict]:
        if time.monotonic() - self._checked > self.interval:
            self._report = [info.as_dict() for info in expiring(self.paths, self.warn_days)]
            self._checked = time.monotonic()
        return self._report

    def warn(self, log) -> None:
        for entry in self.report():
            state = "has EXPIRED" if entry["expired"] else f"expires in {entry['days_left']} days"
            log.warning(
                "certificate %s (%s) %s (%s): renew it with `flask --app wsgi pki issue %s ...`",
                entry["name"],
                entry["subject"],
                state,
                entry["not_after"],
                entry["name"],
            )
