"""`flask --app wsgi pki init --import CA.pem CA.key`: an operator's existing root CA (a Go deployment's
"FestivalsApp Root CA", which the mobile apps trust) becomes ours, so new certificates chain to it."""

import datetime as dt
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def run(app, *args):
    return app.test_cli_runner().invoke(args=["pki", *args])


def make_cert(tmp_path, name: str, ca: bool = True, key=None):
    """A self-signed certificate (a CA unless told otherwise) and its key, as PEM files."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=3000))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def go_ca(tmp_path):
    return make_cert(tmp_path, "FestivalsApp Root CA")


def test_import_ca_then_issued_certificates_chain_to_it(app, go_ca, tmp_path):
    result = run(app, "init", "--import", str(go_ca[0]), str(go_ca[1]))
    assert result.exit_code == 0, result.output
    assert "FestivalsApp Root CA" in result.output
    folder = tmp_path / "instance" / "pki"
    assert (folder / "ca.pem").read_bytes() == go_ca[0].read_bytes()
    assert stat.S_IMODE(os.stat(folder / "ca.key").st_mode) == 0o600
    assert run(app, "issue", "gateway", "--dns", "api.festivalsapp.example").exit_code == 0
    root = x509.load_pem_x509_certificate(go_ca[0].read_bytes())
    issued = x509.load_pem_x509_certificate((folder / "gateway.pem").read_bytes())
    issued.verify_directly_issued_by(root)  # raises when it does not chain
    again = run(app, "init", "--import", str(go_ca[0]), str(go_ca[1]))
    assert again.exit_code == 0  # the same CA again: nothing changes
    assert (folder / "gateway.pem").exists()


def test_import_ca_refuses_a_key_of_another_certificate(app, go_ca, tmp_path):
    _, other_key = make_cert(tmp_path, "other", key=ec.generate_private_key(ec.SECP256R1()))
    result = run(app, "init", "--import", str(go_ca[0]), str(other_key))
    assert result.exit_code != 0
    assert "is not the key of" in result.output
    assert not (tmp_path / "instance" / "pki" / "ca.pem").exists()


def test_import_ca_refuses_a_certificate_that_is_no_ca(app, tmp_path):
    leaf = make_cert(tmp_path, "api.festivalsapp.example", ca=False)
    result = run(app, "init", "--import", str(leaf[0]), str(leaf[1]))
    assert result.exit_code != 0
    assert "not a CA certificate" in result.output
    assert not (tmp_path / "instance" / "pki" / "ca.pem").exists()


def test_import_ca_keeps_another_ca_unless_replace(app, go_ca, tmp_path):
    assert run(app, "init").exit_code == 0
    folder = tmp_path / "instance" / "pki"
    ours = (folder / "ca.pem").read_bytes()
    refused = run(app, "init", "--import", str(go_ca[0]), str(go_ca[1]))
    assert refused.exit_code != 0 and "--replace" in refused.output
    assert (folder / "ca.pem").read_bytes() == ours
    replaced = run(app, "init", "--import", str(go_ca[0]), str(go_ca[1]), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert (folder / "ca.pem").read_bytes() == go_ca[0].read_bytes()
    assert [p.read_bytes() for p in (folder / "old").glob("*/ca.pem")] == [ours]
