"""`leakless review serve`: a port it cannot listen on, and HTTPS (its certificate and key checked before the
detector loads, then served)."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

import pipeline.review.app
from pipeline.cli.app import app


def test_a_taken_port_is_one_line_and_exit_2_before_the_detector_loads(tmp_path, monkeypatch):
    def create_app(*args, **kwargs):
        raise AssertionError("the app (and its detector) was built before the port was checked")

    monkeypatch.setattr(pipeline.review.app, "create_app", create_app)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["review", "serve", "--runs-dir", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert result.output == f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def self_signed(folder, name="localhost"):
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def serve_with(tmp_path, *options: str):
    return CliRunner().invoke(app, ["review", "serve", "--runs-dir", str(tmp_path), "--port", "0", *options])


def test_tls_needs_both_a_certificate_and_its_key(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline.review.app, "create_app", lambda *a, **k: pytest.fail("served without its key"))
    cert, _ = self_signed(tmp_path / "tls")
    result = serve_with(tmp_path, "--tls-cert", str(cert))
    assert result.exit_code == 2
    assert result.output == "error: --tls-cert and --tls-key go together (a certificate and its private key)\n"


def test_a_key_that_is_not_the_certificate_s_is_one_line_and_exit_2_before_the_detector_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline.review.app, "create_app", lambda *a, **k: pytest.fail("the detector loaded first"))
    cert, _ = self_signed(tmp_path / "one")
    _, other_key = self_signed(tmp_path / "other")
    for key, why in ((other_key, "key values mismatch"), (tmp_path / "missing.pem", "No such file or directory")):
        result = serve_with(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key))
        assert result.exit_code == 2 and len(result.output.splitlines()) == 1, result.output
        assert result.output.startswith(f"error: cannot serve HTTPS with --tls-cert {cert} and --tls-key {key}: ")
        assert why in result.output


@pytest.mark.slow
def test_with_a_certificate_and_key_the_app_is_served_over_https_only(tmp_path):
    """The real command, as an annotator's browser meets it: TLS with the given certificate; plain HTTP
    on that port gets no page."""
    import os
    import signal
    import ssl
    import subprocess
    import sys
    import time

    import httpx

    from pipeline.testing.local_servers import free_port

    cert, key = self_signed(tmp_path / "tls")
    (tmp_path / "runs").mkdir()
    port = free_port()
    with open(tmp_path / "serve.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "review", "serve", "--runs-dir",
                                   str(tmp_path / "runs"), "--port", str(port), "--tls-cert", str(cert),
                                   "--tls-key", str(key)], stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    trusting = ssl.create_default_context(cafile=str(cert))
    try:
        deadline, page = time.monotonic() + 180, None
        while page is None and time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                page = httpx.get(f"https://127.0.0.1:{port}/?token=not-a-token", verify=trusting, timeout=5)
            except httpx.ConnectError:
                time.sleep(0.5)
        assert page is not None and page.status_code == 401  # served over TLS; the token is simply unknown
        assert page.url.scheme == "https"
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
