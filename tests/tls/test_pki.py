"""`flask --app wsgi pki init|issue|list`: the CA and service certificates in the instance folder."""

import datetime as dt
import os
import socket
import ssl
import stat
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from common import pki


def run(app, *args):
    return app.test_cli_runner().invoke(args=["pki", *args])


def load(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_init_creates_ca_with_private_key_0600(app):
    result = run(app, "init")
    assert result.exit_code == 0, result.output
    folder = app.instance_path + "/pki"
    assert "created CA" in result.output
    assert stat.S_IMODE(os.stat(f"{folder}/ca.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    cert = x509.load_pem_x509_certificate(open(f"{folder}/ca.pem", "rb").read())
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > dt.timedelta(days=3000)


def test_init_again_keeps_the_ca(app, tmp_path):
    assert run(app, "init").exit_code == 0
    ca = tmp_path / "instance" / "pki" / "ca.pem"
    before = ca.read_bytes()
    again = run(app, "init")
    assert again.exit_code == 0
    assert "CA exists, kept" in again.output and "--replace" in again.output
    assert ca.read_bytes() == before


def test_init_replace_moves_old_ca_aside(app, tmp_path):
    assert run(app, "init").exit_code == 0
    folder = tmp_path / "instance" / "pki"
    before = (folder / "ca.pem").read_bytes()
    result = run(app, "init", "--replace")
    assert result.exit_code == 0, result.output
    assert (folder / "ca.pem").read_bytes() != before
    archived = list((folder / "old").glob("*/ca.pem"))
    assert [p.read_bytes() for p in archived] == [before]
    assert stat.S_IMODE(os.stat(archived[0].with_name("ca.key")).st_mode) == 0o600


def test_issue_makes_server_and_client_certificate_signed_by_ca(app, tmp_path):
    assert run(app, "init").exit_code == 0
    result = run(
        app,
        "issue",
        "gateway",
        "--dns",
        "localhost",
        "--dns",
        "gateway.festivals.localhost",
        "--ip",
        "127.0.0.1",
        "--ip",
        "::1",
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "instance" / "pki"
    assert stat.S_IMODE(os.stat(folder / "gateway.key").st_mode) == 0o600
    cert, ca = load(folder / "gateway.pem"), load(folder / "ca.pem")
    cert.verify_directly_issued_by(ca)
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert alt.get_values_for_type(x509.DNSName) == ["localhost", "gateway.festivals.localhost"]
    assert [str(ip) for ip in alt.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert "gateway" in cert.subject.rfc4514_string()


def test_issued_certificate_serves_and_authenticates_a_client(app, tmp_path):
    """A real TLS handshake with Python's ssl (OpenSSL): the server requires a client certificate."""
    assert run(app, "init").exit_code == 0
    assert run(app, "issue", "app", "--ip", "127.0.0.1").exit_code == 0
    assert run(app, "issue", "gateway", "--dns", "localhost").exit_code == 0
    folder = tmp_path / "instance" / "pki"
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "app.pem", folder / "app.key")
    server.load_verify_locations(folder / "ca.pem")
    server.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    seen = {}

    def accept():
        conn, _ = listener.accept()
        with server.wrap_socket(conn, server_side=True) as tls:
            seen["peer"] = tls.getpeercert()
            seen["der"] = tls.getpeercert(True)
            tls.sendall(b"hello")

    thread = threading.Thread(target=accept)
    thread.start()
    client = ssl.create_default_context(cafile=folder / "ca.pem")
    client.load_cert_chain(folder / "gateway.pem", folder / "gateway.key")
    with (
        socket.create_connection(listener.getsockname()) as raw,
        client.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.recv(5) == b"hello"
    thread.join(5)
    listener.close()
    assert (("commonName", "gateway"),) in seen["peer"]["subject"]
    assert pki.peer_role(seen["peer"]) == "gateway"  # what the services read from their TLS socket
    assert pki.certificate_role(seen["der"]) == "gateway"  # the same rule on the certificate itself


def test_issue_names_the_role_in_the_certificate(app, tmp_path):
    """The registry lets a certificate register only its role's service: the role is the subject's OU."""
    assert run(app, "init").exit_code == 0
    assert run(app, "issue", "app-zweiter-host", "--role", "app").exit_code == 0
    assert run(app, "issue", "files").exit_code == 0
    folder = tmp_path / "instance" / "pki"
    assert load(folder / "app-zweiter-host.pem").subject.rfc4514_string() == (
        "OU=app,O=FestivalsApp,CN=app-zweiter-host"
    )
    assert "OU=files" in load(folder / "files.pem").subject.rfc4514_string()
    bad = run(app, "issue", "x", "--role", "Verwaltung Süd")
    assert bad.exit_code != 0 and "certificate name" in bad.output
    # a certificate from before roles: its common name is the role
    ca_cert, ca_key = pki.load_ca(folder)
    before_roles = load(folder / "files.pem")
    before_roles = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "identity")]))
        .issuer_name(ca_cert.subject)
        .public_key(before_roles.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(before_roles.not_valid_before_utc)
        .not_valid_after(before_roles.not_valid_after_utc)
        .sign(ca_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    assert pki.certificate_role(before_roles, issuer=ca_cert) == "identity"
    assert pki.peer_role({"subject": ((("commonName", "identity"),), (("organizationName", "FestivalsApp"),))}) == (
        "identity"
    )
    assert pki.peer_role(None) is None
    assert pki.certificate_role(None) is None and pki.certificate_role(b"kein Zertifikat") is None
    # forwarded by a proxy: only a certificate our CA signed, valid now, names a role
    other_ca = tmp_path / "anderes-ca"
    pki.init_ca(other_ca)
    pki.issue(other_ca, "app")
    foreign = load(other_ca / "app.pem").public_bytes(serialization.Encoding.DER)
    assert pki.certificate_role(foreign) == "app" and pki.certificate_role(foreign, issuer=ca_cert) is None
    week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    pki.issue(folder, "abgelaufen", role="app", days=1, not_before=week_ago)
    expired = load(folder / "abgelaufen.pem").public_bytes(serialization.Encoding.DER)
    assert pki.certificate_role(expired, issuer=ca_cert) is None


def test_issue_again_renews(app, tmp_path):
    assert run(app, "init").exit_code == 0
    assert run(app, "issue", "files", "--days", "10").exit_code == 0
    path = tmp_path / "instance" / "pki" / "files.pem"
    first = load(path)
    assert run(app, "issue", "files").exit_code == 0
    second = load(path)
    assert second.serial_number != first.serial_number
    assert second.not_valid_after_utc - first.not_valid_after_utc > dt.timedelta(days=300)


def test_issue_without_ca_fails_clearly(app):
    result = run(app, "issue", "app")
    assert result.exit_code != 0
    assert "pki init" in result.output


def test_issue_refuses_bad_names(app, tmp_path):
    assert run(app, "init").exit_code == 0
    for args, message in (
        (["../evil"], "certificate name"),
        (["ca"], "CA's own"),
        (["Big Name"], "certificate name"),
        (["app", "--dns", "bad_name!"], "not a DNS name"),
        (["app", "--ip", "999.1.1.1"], "does not appear to be an IPv4 or IPv6 address"),
        (["app", "--days", "0"], "0 is not in the range"),
    ):
        result = run(app, "issue", *args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert sorted(p.name for p in (tmp_path / "instance" / "pki").iterdir()) == ["ca.key", "ca.pem"]


def test_list_shows_subjects_expiry_and_flags_close_ones(app, tmp_path):
    assert run(app, "init").exit_code == 0
    assert run(app, "issue", "app", "--dns", "localhost", "--ip", "127.0.0.1").exit_code == 0
    assert run(app, "issue", "files", "--days", "5").exit_code == 0
    folder = tmp_path / "instance" / "pki"
    pki.issue(folder, "old", not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=20), days=10)
    result = run(app, "list")
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert list(lines) == ["ca", "app", "files", "old"]
    assert " ok " in lines["ca"] and "CA" in lines["ca"] and "O=FestivalsApp" in lines["ca"]
    assert " ok " in lines["app"] and "CN=app" in lines["app"] and "localhost,127.0.0.1" in lines["app"]
    assert "EXPIRES SOON" in lines["files"] and "(4 days)" in lines["files"]
    assert "EXPIRED" in lines["old"]


def test_list_without_ca_fails_clearly(app):
    result = run(app, "list")
    assert result.exit_code != 0 and "pki init" in result.output


def test_start_warns_and_ready_reports_certificates_close_to_expiry(make_app, tmp_path, capsys):
    folder = tmp_path / "instance" / "pki"
    pki.init_ca(folder)
    pki.issue(folder, "app", days=3)
    pki.issue(folder, "files")
    capsys.readouterr()
    app = make_app()  # the app logs to stderr (its own handler, configured at start)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "festivals.tls" in line]
    assert len(warnings) == 1
    assert "WARNING" in warnings[0] and "certificate app" in warnings[0] and "expires in 2 days" in warnings[0]
    body = app.test_client().get("/ready").get_json()
    assert body["status"] == "ready"
    assert [(c["name"], c["days_left"], c["expired"]) for c in body["certificates"]["expiring"]] == [("app", 2, False)]


def test_ready_reports_no_certificates_when_all_are_fresh(client):
    assert client.get("/ready").get_json()["certificates"] == {"expiring": []}


def test_half_configured_tls_refuses_to_start(make_app, tmp_path):
    import pytest

    with pytest.raises(ValueError, match="FESTIVALS_TLS_CERT, FESTIVALS_TLS_KEY and FESTIVALS_TLS_CA go together"):
        make_app(TLS_CERT=str(tmp_path / "x.pem"))
